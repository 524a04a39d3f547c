package admin

import (
	"fmt"
	"syscall"
)

var cmdNames = map[Command]string{
	CmdReloadConf:     "RELOAD_CONF",
	CmdShowSched:      "SHOW_SCHED",
	CmdShowEvt:        "SHOW_EVT",
	CmdShowSA:         "SHOW_SA",
	CmdFlushSA:        "FLUSH_SA",
	CmdDeleteSA:       "DELETE_SA",
	CmdEstablishSA:    "ESTABLISH_SA",
	CmdEstablishSAPSK: "ESTABLISH_SA_PSK",
	CmdDeleteAllSADst: "DELETE_ALL_SA_DST",
	CmdLogoutUser:     "LOGOUT_USER",
	CmdGetSACert:      "GET_SA_CERT",
	CmdExportPh1:      "EXPORT_PH1",
	CmdImportPh1:      "IMPORT_PH1",
}

func (c Command) String() string {
	if n, ok := cmdNames[c]; ok {
		return n
	}
	return fmt.Sprintf("command(0x%04x)", uint16(c))
}

func (p Proto) String() string {
	switch p {
	case ProtoISAKMP:
		return "isakmp"
	case ProtoIPsec:
		return "ipsec"
	case ProtoAH:
		return "ah"
	case ProtoESP:
		return "esp"
	case ProtoInternal:
		return "internal"
	}
	return fmt.Sprintf("proto(0x%04x)", uint16(p))
}

// errnoString names a reply's errno: the system's text for positive
// values, "failed" for racoon's -1.
func errnoString(e int16) string {
	if e < 0 {
		return fmt.Sprintf("failed (errno %d)", e)
	}
	return syscall.Errno(e).Error()
}
