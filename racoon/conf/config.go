// Package conf reads racoon.conf as ipsec-tools 0.8.2's racoon does: a
// hand-written lexer with the start conditions of cftoken.l (and its quirks:
// the catch-all that swallows unknown characters, ADDRSTRING for hex-letter
// words, commas ignored in remote blocks) and a recursive-descent parser of the
// grammar of cfparse.y into a typed Config. Directives ikectx does not
// implement parse and produce a Warning naming file:line; a configuration
// that cannot work as written is refused with an *Error naming file:line:col.
package conf

import (
	"net/netip"
	"time"
)

// PathType is the first argument of the path statement.
type PathType int

const (
	PathInclude PathType = iota
	PathPreSharedKey
	PathCertificate
	PathScript
	PathBackupSA
	PathPIDFile
	numPathTypes
)

var pathNames = [...]string{"include", "pre_shared_key", "certificate", "script", "backupsa", "pidfile"}

func (p PathType) String() string { return pathNames[p] }

// ExchangeMode is a phase-1 exchange type (exchange_mode).
type ExchangeMode int

// Values are the ISAKMP exchange types of RFC 2408 section 3.1.
const (
	ModeBase       ExchangeMode = 1
	ModeMain       ExchangeMode = 2
	ModeAggressive ExchangeMode = 4
)

func (m ExchangeMode) String() string {
	switch m {
	case ModeBase:
		return "base"
	case ModeMain:
		return "main"
	case ModeAggressive:
		return "aggressive"
	}
	return "unknown"
}

// ProposalCheck is the proposal_check level.
type ProposalCheck int

const (
	CheckObey ProposalCheck = iota
	CheckStrict
	CheckClaim
	CheckExact
)

func (c ProposalCheck) String() string { return [...]string{"obey", "strict", "claim", "exact"}[c] }

// GeneratePolicy is the generate_policy setting.
type GeneratePolicy int

const (
	GeneratePolicyOff GeneratePolicy = iota
	GeneratePolicyOn
	GeneratePolicyUnique
	GeneratePolicyRequire
)

// IDType is an identifier type (my_identifier, peers_identifier, sainfo).
type IDType int

const (
	IDAddress IDType = iota
	IDFQDN
	IDUserFQDN
	IDKeyID
	IDSubnet
	IDASN1DN
)

func (t IDType) String() string {
	return [...]string{"address", "fqdn", "user_fqdn", "keyid", "subnet", "asn1dn"}[t]
}

// IDQual is the tag/file qualifier of an identifier.
type IDQual int

const (
	QualNone IDQual = iota
	QualTag
	QualFile
)

// Identifier is my_identifier or one peers_identifier. Value is the string
// written (empty when omitted); for keyid file, Data holds the file content.
type Identifier struct {
	Type  IDType
	Qual  IDQual
	Value string
	Addr  netip.Addr // IDAddress with a value
	Data  []byte     // keyid: the key identifier bytes
	Pos   Pos
}

// Config is a parsed racoon.conf.
type Config struct {
	Files         []string // every file read, in order
	Paths         [numPathTypes]string
	Privsep       *Privsep
	PFKeyBuffer   uint64
	GSSIDEnc      string
	LogLevel      string
	ComplexBundle bool
	Padding       Padding
	Listen        Listen
	Timer         Timer
	ModeCfg       *Block // parsed, not implemented
	LDAPCfg       *Block
	RADIUSCfg     *Block
	Remotes       []*Remote
	SAInfos       []*SAInfo
	Warnings      []Warning
}

// Path returns the value of path TYPE, "" when unset.
func (c *Config) Path(t PathType) string { return c.Paths[t] }

// Block records where an unimplemented block was found.
type Block struct{ Pos Pos }

// Privsep is the privsep block.
type Privsep struct {
	User, Group, Chroot string
	UID, GID            *uint64
	Pos                 Pos
}

// Padding is the padding block (defaults as racoon).
type Padding struct {
	Randomize, RandomizeLength, StrictCheck, ExclusiveTail bool
	MaxLength                                              uint64
}

// ListenAddr is one isakmp or isakmp_natt line.
type ListenAddr struct {
	Addr netip.Addr
	Port uint16
	NATT bool
	Pos  Pos
}

// Listen is the listen block.
type Listen struct {
	ISAKMP        []ListenAddr
	AdminSock     string // default /var/racoon/racoon.sock
	AdminDisabled bool
	AdminOwner    string
	AdminGroup    string
	AdminMode     uint32 // permission bits, computed as racoon's adminsock_conf does
	StrictAddress bool
}

// Timer is the timer block.
type Timer struct {
	Counter       uint64
	Interval      time.Duration
	Persend       uint64
	Phase1        time.Duration
	Phase2        time.Duration
	NATTKeepalive time.Duration
}

// Proposal is one phase-1 proposal block.
type Proposal struct {
	Encryption *Algorithm
	Hash       *Algorithm
	AuthMethod *Algorithm
	DHGroup    *Algorithm
	Lifetime   time.Duration // 0: the remote's lifetime
	GSSID      string
	Pos        Pos
}

// Usable reports whether ikectx can negotiate this proposal.
func (p *Proposal) Usable() bool {
	for _, a := range []*Algorithm{p.Encryption, p.Hash, p.AuthMethod, p.DHGroup} {
		if a == nil || !a.Implemented() {
			return false
		}
	}
	return true
}

// Remote is a remote block. Anonymous remotes have no address.
type Remote struct {
	Pos       Pos
	Name      string // named form: remote "name"
	Anonymous bool
	Address   netip.Addr
	Port      uint16
	Inherit   string // the parent as written, "" if none

	ExchangeModes    []ExchangeMode
	DOI              int
	Situation        int
	MyIdentifier     Identifier
	PeersIdentifiers []Identifier
	VerifyIdentifier bool
	NonceSize        uint64
	Passive          bool
	InitialContact   bool
	ProposalCheck    ProposalCheck
	GeneratePolicy   GeneratePolicy
	SupportProxy     bool
	Lifetime         time.Duration
	Proposals        []*Proposal // in the order written (the initiator's order)

	// parsed, not implemented by ikectx (each use gives a warning)
	CertificateType string // "x509", "plain_rsa"
	MyCertFile      string
	MyKeyFile       string
	PeersCertFile   string
	CAFile          string
	VerifyCert      bool
	SendCert        bool
	SendCR          bool
	MatchEmptyCR    bool
	XAuthLogin      string
	NATTraversal    string // "off", "on", "force"
	DPD             bool
	DPDDelay        uint64
	DPDRetry        uint64
	DPDMaxFail      uint64
	IKEFrag         string
	ESPFrag         uint64
	Scripts         map[string]string
	ModeCfg         bool
	WeakPhase1Check bool
	Rekey           string
	Ph1ID           uint64
}

// String names the remote as racoon does in its messages.
func (r *Remote) String() string {
	switch {
	case r.Name != "":
		return `"` + r.Name + `"`
	case r.Anonymous:
		return "anonymous"
	}
	return netip.AddrPortFrom(r.Address, r.Port).String()
}

// SAInfoIDKind tells what one side of a sainfo selects.
type SAInfoIDKind int

const (
	SAAnonymous SAInfoIDKind = iota
	SAClientAddr
	SAAddress // address or subnet with prefix, port, protocol
	SARange   // address range
	SAString  // IDTYPE "string"
)

// SAInfoID is one side of a sainfo header.
type SAInfoID struct {
	Kind     SAInfoIDKind
	IDType   IDType
	Prefix   netip.Prefix // SAAddress; SARange: the low address
	RangeEnd netip.Addr
	Port     uint16 // 0: any
	Proto    uint8  // 255: any
	Value    string
}

// SAInfo is a sainfo block (phase-2 parameters).
type SAInfo struct {
	Pos         Pos
	Local       SAInfoID
	Remote      SAInfoID
	From        *Identifier
	Group       string
	PFSGroup    *Algorithm
	RemoteID    uint64
	Lifetime    time.Duration
	Encryption  []Algorithm
	Auth        []Algorithm
	Compression []Algorithm
}

// Warning is a message about a directive ikectx parses but does not
// implement, or a construct that behaves differently from ipsec-tools.
type Warning struct {
	Pos Pos
	Msg string
}

func (w Warning) String() string { return w.Pos.String() + ": warning: " + w.Msg }
