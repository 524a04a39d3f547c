package pfkey

import (
	"net/netip"
)

// Message is one PF_KEYv2 message: the sadb_msg header and its
// extensions, each as a typed field (nil when absent). Extensions a dialect
// does not know are kept in Unknown and written back unchanged.
//
// Decoded messages own all their bytes (nothing aliases the input buffer).
// Key material lives in AuthKey and EncKey; call Wipe when done with a
// message that carried keys.
type Message struct {
	// Version is sadb_msg_version; 0 is encoded as PF_KEY_V2 (2).
	Version uint8
	Type    MsgType
	// Errno is sadb_msg_errno of a kernel reply (0 on success).
	Errno    uint8
	SAType   SAType
	Reserved uint16
	Seq      uint32
	PID      uint32

	SA              *SA
	LifetimeCurrent *Lifetime
	LifetimeHard    *Lifetime
	LifetimeSoft    *Lifetime
	Src             *Address // SADB_EXT_ADDRESS_SRC
	Dst             *Address // SADB_EXT_ADDRESS_DST
	Proxy           *Address // SADB_EXT_ADDRESS_PROXY
	AuthKey         *Key
	EncKey          *Key
	SrcIdentity     *Identity
	DstIdentity     *Identity
	Sensitivity     *Sensitivity
	Proposal        *Proposal
	SupportedAuth   *Supported
	SupportedEnc    *Supported
	SPIRange        *SPIRange
	KMPrivate       *KMPrivate
	Policy          *Policy
	SA2             *SA2
	NATTType        *NATTType
	NATTSport       *NATTPort
	NATTDport       *NATTPort
	// NATTOAI is SADB_X_EXT_NAT_T_OA on Linux, SADB_X_EXT_NAT_T_OAI on
	// FreeBSD (both number 23).
	NATTOAI *Address
	// The rest exist in one dialect only; encoding them in the other
	// is an error.
	NATTOAR   *Address   // FreeBSD 24
	NATTFrag  *NATTFrag  // FreeBSD 25
	SAReplay  *SAReplay  // FreeBSD 26
	NewSrc    *Address   // FreeBSD 27 (SADB_X_EXT_NEW_ADDRESS_SRC)
	NewDst    *Address   // FreeBSD 28 (SADB_X_EXT_NEW_ADDRESS_DST)
	SecCtx    *SecCtx    // Linux 24
	KMAddress *KMAddress // Linux 25
	Filter    *Filter    // Linux 26
	Unknown   []RawExtension
}

// RawExtension is an extension the dialect does not know: its number and
// the bytes after the 4-byte sadb_ext header (a multiple of 8 minus 4).
type RawExtension struct {
	Type ExtType
	Data []byte
}

// SA is sadb_sa. SPI is the value as a number (the wire field is in network
// byte order, which the codec handles).
type SA struct {
	SPI    uint32
	Replay uint8 // replay window size in packets (setkey -r)
	State  SAState
	Auth   AuthAlg
	Enc    EncAlg // CompAlg for IPComp SAs
	Flags  SAFlags
}

// Lifetime is sadb_lifetime (current, hard or soft). Times are seconds:
// absolute (Unix) in the current lifetime, relative in hard and soft.
type Lifetime struct {
	Allocations uint32
	Bytes       uint64
	AddTime     uint64
	UseTime     uint64
}

// Address is sadb_address with its sockaddr: the upper-layer protocol
// (ProtoAny = 255 for any), the prefix length in bits, and the address and
// port. An IPv6 zone that is a number is the sockaddr's scope id.
type Address struct {
	Proto     Proto
	PrefixLen uint8
	Reserved  uint16
	Addr      netip.AddrPort
}

// Prefix returns the address as a prefix of PrefixLen bits.
func (a *Address) Prefix() netip.Prefix {
	return netip.PrefixFrom(a.Addr.Addr().WithZone(""), int(a.PrefixLen))
}

// HostAddress returns an Address for a single host (full prefix length,
// any protocol).
func HostAddress(ip netip.Addr) *Address {
	return &Address{Proto: ProtoAny, PrefixLen: uint8(ip.BitLen()), Addr: netip.AddrPortFrom(ip, 0)}
}

// PrefixAddress returns an Address for a selector: a prefix, a port (0 is
// any) and an upper-layer protocol (ProtoAny for any).
func PrefixAddress(p netip.Prefix, port uint16, proto Proto) *Address {
	return &Address{Proto: proto, PrefixLen: uint8(p.Bits()), Addr: netip.AddrPortFrom(p.Addr(), port)}
}

// Key is sadb_key: Bits is the key length in bits (it may be smaller than
// 8*len(Data)); Data is the key. Data is owned by the Key; Wipe zeroes it.
type Key struct {
	Bits     uint16
	Reserved uint16
	Data     []byte
}

// NewKey returns a Key holding a copy of b.
func NewKey(b []byte) *Key {
	return &Key{Bits: uint16(len(b) * 8), Data: append([]byte(nil), b...)}
}

// Wipe zeroes the key bytes.
func (k *Key) Wipe() {
	if k == nil {
		return
	}
	clear(k.Data)
}

// String never shows the key bytes.
func (k Key) String() string {
	return "key(" + itoa(int(k.Bits)) + " bits)"
}

// GoString keeps the key bytes out of %#v too.
func (k Key) GoString() string { return "pfkey." + k.String() }

// Identity is sadb_ident. Data is the identity string that follows the
// header (without its NUL padding).
type Identity struct {
	Type     IdentType
	Reserved uint16
	ID       uint64
	Data     []byte
}

// Sensitivity is sadb_sens with its bitmaps (RFC 2367 section 2.3.6).
type Sensitivity struct {
	DPD        uint32
	SensLevel  uint8
	IntegLevel uint8
	Reserved   uint32
	Sens       []uint64
	Integ      []uint64
}

// Proposal is sadb_prop with its combinations.
type Proposal struct {
	Replay uint8
	Combs  []Comb
}

// Comb is sadb_comb (72 bytes).
type Comb struct {
	Auth            AuthAlg
	Enc             EncAlg
	Flags           uint16
	AuthMinBits     uint16
	AuthMaxBits     uint16
	EncMinBits      uint16
	EncMaxBits      uint16
	Reserved        uint32
	SoftAllocations uint32
	HardAllocations uint32
	SoftBytes       uint64
	HardBytes       uint64
	SoftAddTime     uint64
	HardAddTime     uint64
	SoftUseTime     uint64
	HardUseTime     uint64
}

// Supported is sadb_supported with its algorithm list.
type Supported struct {
	Reserved uint32
	Algs     []Alg
}

// Alg is sadb_alg.
type Alg struct {
	ID       uint8
	IVLen    uint8
	MinBits  uint16
	MaxBits  uint16
	Reserved uint16
}

// SPIRange is sadb_spirange, for GETSPI. Unlike sadb_sa_spi, Min and Max
// are in host byte order on the wire (both kernels; checked on Linux 6.1
// in the lab, where af_key reads them without ntohl).
type SPIRange struct {
	Min, Max uint32
	Reserved uint32
}

// KMPrivate is sadb_x_kmprivate and its opaque data.
type KMPrivate struct {
	Reserved uint32
	Data     []byte
}

// SA2 is sadb_x_sa2: the SA's mode, its reqid and the low 32 bits of the
// sequence number.
type SA2 struct {
	Mode      Mode
	Reserved1 uint8
	Reserved2 uint16
	Sequence  uint32
	ReqID     uint32
}

// Policy is sadb_x_policy and, for PolicyIPsec, its ipsecrequests.
type Policy struct {
	Type PolicyType
	Dir  Direction
	// Scope is FreeBSD's sadb_x_policy_scope; the reserved byte on Linux.
	Scope PolicyScope
	// ID is the kernel's policy id (SPDDELETE2 / SPDGET).
	ID uint32
	// Priority is sadb_x_policy_priority (FreeBSD: the ifindex for
	// ScopeIfnet).
	Priority uint32
	Requests []IPSecRequest
}

// IPSecRequest is sadb_x_ipsecrequest with its two sockaddrs. Src and Dst
// are the tunnel endpoints (invalid, i.e. the zero AddrPort, when the
// request has none, as in transport mode). ReqID is 16 bits on FreeBSD.
type IPSecRequest struct {
	Proto Proto // ProtoESP, ProtoAH, ProtoIPComp
	Mode  Mode
	Level Level
	ReqID uint32
	Src   netip.AddrPort
	Dst   netip.AddrPort
}

// NATTType is sadb_x_nat_t_type (UDP_ENCAP_ESPINUDP = 2).
type NATTType struct {
	Type uint8
}

// NATTPort is sadb_x_nat_t_port (the port is a number; the wire field is
// in network byte order).
type NATTPort struct {
	Port     uint16
	Reserved uint16
}

// NATTFrag is FreeBSD's sadb_x_nat_t_frag.
type NATTFrag struct {
	FragLen  uint16
	Reserved uint16
}

// SAReplay is FreeBSD's sadb_x_sa_replay: the replay window in packets
// (for windows larger than sadb_sa_replay can hold).
type SAReplay struct {
	Replay uint32
}

// SecCtx is Linux's sadb_x_sec_ctx (an LSM security context).
type SecCtx struct {
	Alg     uint8
	DOI     uint8
	Context []byte
}

// KMAddress is Linux's sadb_x_kmaddress (MIGRATE): the addresses IKE uses.
type KMAddress struct {
	Reserved uint32
	Local    netip.AddrPort
	Remote   netip.AddrPort
}

// Filter is Linux's sadb_x_filter (a DUMP filter by address prefixes).
type Filter struct {
	Src, Dst netip.Prefix
}

// Wipe zeroes the key material the message carries.
func (m *Message) Wipe() {
	if m == nil {
		return
	}
	m.AuthKey.Wipe()
	m.EncKey.Wipe()
}
