package admin

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/ikectx/ikectx/pfkey"
)

// Command is ac_cmd without its flag bit.
type Command uint16

// Commands of ipsec-tools 0.8.2 (admin.h) and ikectx's extensions.
const (
	CmdReloadConf     Command = 0x0001
	CmdShowSched      Command = 0x0002
	CmdShowEvt        Command = 0x0003
	CmdShowSA         Command = 0x0101
	CmdFlushSA        Command = 0x0102
	CmdDeleteSA       Command = 0x0201
	CmdEstablishSA    Command = 0x0202
	CmdEstablishSAPSK Command = 0x0203
	CmdDeleteAllSADst Command = 0x0204
	CmdLogoutUser     Command = 0x0205
	CmdGetSACert      Command = 0x0206

	// ikectx extensions (range 0x0c00-0x0cff, unused by ipsec-tools).
	CmdExportPh1 Command = 0x0c01
	CmdImportPh1 Command = 0x0c02
)

// Flag bits of ac_cmd.
const (
	FlagVersion   = 0x8000 // requests: ac_version is valid
	FlagLongReply = 0x8000 // replies: ac_len_high holds length bits 16-31
)

// Proto is ac_proto.
type Proto uint16

// ADMIN_PROTO_* values.
const (
	ProtoISAKMP   Proto = 0x01ff
	ProtoIPsec    Proto = 0x02ff
	ProtoAH       Proto = 0x0201
	ProtoESP      Proto = 0x0202
	ProtoInternal Proto = 0x0301
)

// SAType maps IPSEC, AH and ESP to their PF_KEY SA type (admin2pfkey_proto);
// ok is false for the others.
func (p Proto) SAType() (t pfkey.SAType, ok bool) {
	switch p {
	case ProtoIPsec:
		return pfkey.SATypeUnspec, true
	case ProtoAH:
		return pfkey.SATypeAH, true
	case ProtoESP:
		return pfkey.SATypeESP, true
	}
	return 0, false
}

// Side is the role of this end in an IKE SA (racoon's INITIATOR/RESPONDER).
type Side uint8

// Sides.
const (
	Initiator Side = 0
	Responder Side = 1
)

func (s Side) String() string {
	switch s {
	case Initiator:
		return "initiator"
	case Responder:
		return "responder"
	}
	return fmt.Sprintf("side(%d)", uint8(s))
}

// Phase-1 states (PHASE1ST_* of handler.h), as ph1dump reports them.
const (
	Ph1Spawn        = 0
	Ph1Start        = 1
	Ph1Msg1Received = 2
	Ph1Msg1Sent     = 3
	Ph1Msg2Received = 4
	Ph1Msg2Sent     = 5
	Ph1Msg3Received = 6
	Ph1Msg3Sent     = 7
	Ph1Msg4Received = 8
	Ph1Established  = 9
	Ph1Dying        = 10
	Ph1Expired      = 11
)

// Index is an isakmp_index: the two cookies of an ISAKMP SA.
type Index struct {
	I, R [8]byte
}

// IsZero reports whether both cookies are zero.
func (x Index) IsZero() bool { return x == Index{} }

// String prints the cookies as racoonctl does: "icookie:rcookie" in hex.
func (x Index) String() string { return fmt.Sprintf("%x:%x", x.I[:], x.R[:]) }

// Phase1Info is one struct ph1dump: what show-sa isakmp lists.
type Phase1Info struct {
	Index   Index
	Status  int32 // Ph1* state
	Side    Side
	Remote  netip.AddrPort
	Local   netip.AddrPort
	Version uint8 // ISAKMP version byte, 0x10
	EType   uint8 // exchange type: 2 main (ident), 4 aggressive
	Created time.Time
	Ph2Cnt  int32
}

// Selector picks phase-1 SAs by address. An invalid (zero) address matches
// any address; port 0 matches any port, as racoon's cmpsaddr. A non-zero
// Index picks the SA with these cookies.
type Selector struct {
	Local, Remote netip.AddrPort
	Index         Index
}

// Indexes is struct admin_com_indexes, the selector of DELETE_SA,
// ESTABLISH_SA, DELETE_ALL_SA_DST, GET_SA_CERT and the extensions.
type Indexes struct {
	PrefS, PrefD uint8
	ULProto      uint8
	Src, Dst     netip.AddrPort // invalid: family 0 (all zero sockaddr_storage)
}

// EstablishRequest is what ESTABLISH_SA (and ESTABLISH_SA_PSK) ask for, as
// racoonctl establish-sa builds it.
type EstablishRequest struct {
	// Proto is ProtoISAKMP (start a phase 1 from Src to Dst), ProtoESP or
	// ProtoAH (start a quick mode for the outbound policy Src/PrefS ->
	// Dst/PrefD of upper-layer protocol ULProto, as if the kernel had sent
	// an ACQUIRE).
	Proto Proto
	// Indexes as racoonctl sends them: PrefS/PrefD are 32 when the user
	// gave no prefix, even for IPv6 (a racoonctl quirk: read 32 on an IPv6
	// address as "host"); ULProto 0 is any; ports are 0 unless given.
	Indexes
	// RemoteName is the remote configuration chosen with -n (ISAKMP only);
	// "" lets the daemon look it up by Dst.
	RemoteName string
	// With -u (ESTABLISH_SA_PSK): the identity (id_type IDTYPE_USERFQDN,
	// NUL-terminated as racoonctl sends it) and the password. racoon uses
	// them as Xauth credentials. Key is wiped when EstablishSA returns:
	// keep a copy.
	IDType int32
	ID     []byte
	Key    Secret
}

// Event types (evt.h).
const (
	EvtRacoonQuit        = 0x0001
	EvtPhase1Up          = 0x0100
	EvtPhase1Down        = 0x0101
	EvtPhase1NoResponse  = 0x0102
	EvtPhase1NoProposal  = 0x0103
	EvtPhase1AuthFailed  = 0x0104
	EvtPhase1DPDTimeout  = 0x0105
	EvtPhase1PeerDeleted = 0x0106
	EvtPhase1ModeCfg     = 0x0107
	EvtPhase1XauthOK     = 0x0108
	EvtPhase1XauthFailed = 0x0109
	EvtPhase2NoPhase1    = 0x0200
	EvtPhase2Up          = 0x0201
	EvtPhase2Down        = 0x0202
	EvtPhase2NoResponse  = 0x0203
)

// Event is one struct evt_async.
type Event struct {
	Type     uint32
	Time     time.Time
	Ph1Src   netip.AddrPort
	Ph1Dst   netip.AddrPort
	Ph2MsgID uint32
}

// Backend is what the daemon offers to the admin socket. Errors map to
// errno values as described in the package documentation (return
// fs.ErrNotExist for "no such SA", fs.ErrExist for "already established",
// errors.ErrUnsupported for a feature the daemon lacks). Methods are called
// from the server's goroutines, possibly concurrently.
type Backend interface {
	// Phase1s lists the phase-1 SAs (SHOW_SA isakmp).
	Phase1s() []Phase1Info
	// SAs lists the IPsec SAs of type t (pfkey.SATypeUnspec: all), keys
	// included, as SADB_DUMP would (SHOW_SA ipsec/esp/ah). With a kernel
	// this is the kernel's dump; a daemon running without one reports the
	// SAs it negotiated.
	SAs(t pfkey.SAType) ([]*pfkey.SAEntry, error)
	// FlushSA deletes all phase-1 SAs (ProtoISAKMP) or all IPsec SAs of
	// the proto (ProtoIPsec, ProtoAH, ProtoESP).
	FlushSA(p Proto) error
	// DeleteSA deletes the phase-1 SAs that match sel, sending a DELETE
	// for each established one (DELETE_SA; racoon does so whatever the
	// proto). Nothing matching is not an error.
	DeleteSA(sel Selector) error
	// DeleteAllSADst deletes every phase-1 SA with this remote address.
	DeleteAllSADst(dst netip.Addr) error
	// EstablishSA starts a phase 1 or a quick mode. It returns at once
	// (the exchange goes on); fs.ErrExist if the SA is already
	// established, fs.ErrNotExist if no policy (ESP/AH) matches.
	EstablishSA(req *EstablishRequest) error
	// ExportPhase1 returns a copy of the established phase-1 SA that sel
	// picks, keys included (the caller wipes it); fs.ErrNotExist if none.
	// If several match, the newest established one.
	ExportPhase1(sel Selector) (*Phase1Context, error)
	// ImportPhase1 installs pc as an established phase-1 SA. A valid
	// local or remote replaces the context's address (port 0 keeps the
	// context's port). The daemon must continue it (quick mode,
	// informational, DELETE) with the context's keys, IVs and message IDs.
	// fs.ErrExist if an SA with the same cookies exists. pc stays the
	// caller's, which wipes it when the call returns: keep a Clone.
	ImportPhase1(pc *Phase1Context, local, remote netip.AddrPort) error
}

// Reloader is implemented by a Backend that can reload its configuration
// (RELOAD_CONF).
type Reloader interface {
	ReloadConf() error
}

// EventSource is implemented by a Backend that reports events (SHOW_EVT,
// and establish-sa -w). Events delivers every event from now on until ctx
// is done; the channel is closed then.
type EventSource interface {
	Events(ctx context.Context) <-chan Event
}
