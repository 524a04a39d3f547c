package setkey

import (
	"net/netip"

	"github.com/ikectx/ikectx/pfkey"
)

// Script is a parsed setkey script.
type Script struct {
	File  string
	Stmts []Stmt
}

// Stmt is one statement of a script. Its dynamic type is one of *SAStmt,
// *FlushStmt (flush, dump, spdflush, spddump), *SPDStmt or *ExitStmt.
type Stmt interface {
	Position() Pos
	Command() Command
}

// Command is a setkey statement keyword.
type Command int

// The statements of the setkey language.
const (
	CmdAdd Command = iota + 1
	CmdGet
	CmdDelete
	CmdDeleteAll
	CmdFlush
	CmdDump
	CmdSPDAdd
	CmdSPDUpdate
	CmdSPDDelete
	CmdSPDFlush
	CmdSPDDump
	CmdExit
)

var commandNames = map[Command]string{
	CmdAdd: "add", CmdGet: "get", CmdDelete: "delete", CmdDeleteAll: "deleteall",
	CmdFlush: "flush", CmdDump: "dump", CmdSPDAdd: "spdadd", CmdSPDUpdate: "spdupdate",
	CmdSPDDelete: "spddelete", CmdSPDFlush: "spdflush", CmdSPDDump: "spddump", CmdExit: "exit",
}

func (c Command) String() string {
	if s, ok := commandNames[c]; ok {
		return s
	}
	return "command?"
}

// SAType is the SA protocol of add/get/delete/deleteall/flush/dump.
type SAType int

// SA protocols. SATypeUnspec means "all" for flush and dump.
const (
	SATypeUnspec SAType = iota
	SATypeESP
	SATypeAH
	SATypeIPComp
	SATypeTCP // TCP-MD5 signature SA (FreeBSD)
)

func (t SAType) String() string {
	switch t {
	case SATypeESP:
		return "esp"
	case SATypeAH:
		return "ah"
	case SATypeIPComp:
		return "ipcomp"
	case SATypeTCP:
		return "tcp"
	}
	return "unspec"
}

// Mode is an IPsec mode: pfkey's (IPSEC_MODE_*, the same numbers on Linux
// and FreeBSD).
type Mode = pfkey.Mode

// IPsec modes.
const (
	ModeAny       = pfkey.ModeAny
	ModeTransport = pfkey.ModeTransport
	ModeTunnel    = pfkey.ModeTunnel
)

// Padding is the ESP padding rule of -f (KAME extension flags).
type Padding int

// Padding rules.
const (
	PadSeq    Padding = iota // seq-pad, the default
	PadRandom                // random-pad
	PadZero                  // zero-pad
)

// Endpoint is an address with an optional port, as written after add.
type Endpoint struct {
	Addr netip.Addr // with zone when written addr%zone
	Port uint16
}

// Alg is an algorithm chosen with -E, -A or -C, with its key.
type Alg struct {
	Name string // canonical setkey name, e.g. "aes-cbc", "hmac-sha2-256"
	Key  []byte // nil for algorithms without a key
	At   Pos    // where the algorithm name was written
}

// SecCtx is the -ctx DOI ALG "context" security context (Linux LSM labels).
type SecCtx struct {
	DOI uint8
	Alg uint8
	Ctx string
}

// SAStmt is add, get, delete or deleteall.
type SAStmt struct {
	At  Pos
	Cmd Command
	// Src and Dst hold every address the names resolved to (one for
	// numeric addresses); messages are made for each pair of the same family.
	Src, Dst []Endpoint
	Type     SAType
	Old      bool       // esp-old / ah-old (RFC 1827/1829 transforms)
	NATT     bool       // esp-udp
	NATTOA   netip.Addr // esp-udp original address, if given
	SPI      uint32
	Mode     Mode
	ModeSet  bool
	ReqID    uint32
	Replay   uint8
	Pad      Padding
	NoCyclic bool // -f nocyclic-seq
	Deriv    bool // des-deriv
	IV4B     bool // des-32iv
	RawCPI   bool // -R
	// Lifetimes (0: none).
	HardSeconds, SoftSeconds uint64
	HardBytes, SoftBytes     uint64
	Ctx                      *SecCtx
	Enc, Auth, Comp          *Alg
}

// Position implements Stmt.
func (s *SAStmt) Position() Pos { return s.At }

// Command implements Stmt.
func (s *SAStmt) Command() Command { return s.Cmd }

// FlushStmt is flush, dump (with an optional SA type), spdflush or spddump.
type FlushStmt struct {
	At   Pos
	Cmd  Command
	Type SAType
}

// Position implements Stmt.
func (s *FlushStmt) Position() Pos { return s.At }

// Command implements Stmt.
func (s *FlushStmt) Command() Command { return s.Cmd }

// ExitStmt is exit, quit or bye: the rest of the script is ignored.
type ExitStmt struct{ At Pos }

// Position implements Stmt.
func (s *ExitStmt) Position() Pos { return s.At }

// Command implements Stmt.
func (s *ExitStmt) Command() Command { return CmdExit }

// ULProtoAny is the upper-layer protocol "any" (IPSEC_ULPROTO_ANY).
const ULProtoAny = 255

// Selector is one side of an SPD selector: address/prefix[port].
type Selector struct {
	Addr   netip.Addr
	Prefix int // bits
	Port   uint16
}

// SPDStmt is spdadd, spdupdate or spddelete.
type SPDStmt struct {
	At       Pos
	Cmd      Command
	Src, Dst Selector
	Upper    uint8  // IP protocol number, ULProtoAny for any
	Tag      string // spdadd tagged "name" (no selector)
	Ctx      *SecCtx
	Policy   Policy
}

// Position implements Stmt.
func (s *SPDStmt) Position() Pos { return s.At }

// Command implements Stmt.
func (s *SPDStmt) Command() Command { return s.Cmd }

// Dir is a policy direction: pfkey's IPSEC_DIR_* values.
type Dir = pfkey.Direction

// Policy directions.
const (
	DirAny      = pfkey.DirAny
	DirInbound  = pfkey.DirInbound
	DirOutbound = pfkey.DirOutbound
	DirForward  = pfkey.DirForward
)

// Action is a policy type: pfkey's IPSEC_POLICY_* values.
type Action = pfkey.PolicyType

// Policy actions.
const (
	ActionDiscard = pfkey.PolicyDiscard
	ActionNone    = pfkey.PolicyNone
	ActionIPsec   = pfkey.PolicyIPsec
	ActionEntrust = pfkey.PolicyEntrust
	ActionBypass  = pfkey.PolicyBypass
)

// Level is an IPsec request level: pfkey's IPSEC_LEVEL_* values.
type Level = pfkey.Level

// Request levels.
const (
	LevelDefault = pfkey.LevelDefault
	LevelUse     = pfkey.LevelUse
	LevelRequire = pfkey.LevelRequire
	LevelUnique  = pfkey.LevelUnique
)

// Policy priorities of libipsec (Linux's PF_KEY carries them).
const (
	PriorityHigh    uint32 = 0x40000000
	PriorityDefault uint32 = 0x80000000
	PriorityLow     uint32 = 0xC0000000
)

// Policy is the text after -P.
type Policy struct {
	At        Pos
	Dir       Dir
	HasAction bool // false for "-P out" (spddelete)
	Action    Action
	Priority  uint32
	Requests  []Request
}

// IP protocol numbers of the SA protocols in requests.
const (
	ProtoESP    = 50
	ProtoAH     = 51
	ProtoIPComp = 108
)

// Request is one proto/mode/src-dst/level rule of an ipsec policy.
type Request struct {
	At       Pos
	Proto    uint8 // ProtoESP, ProtoAH, ProtoIPComp
	Mode     Mode
	Src, Dst netip.AddrPort // both invalid when the rule has no addresses
	Level    Level
	ReqID    uint32 // unique:N
}

// Wipe zeroes the keys the script holds (Build copies them into the
// messages, which Run wipes after use).
func (s *Script) Wipe() {
	for _, st := range s.Stmts {
		if a, ok := st.(*SAStmt); ok {
			for _, alg := range []*Alg{a.Enc, a.Auth, a.Comp} {
				if alg != nil {
					clear(alg.Key)
				}
			}
		}
	}
}
