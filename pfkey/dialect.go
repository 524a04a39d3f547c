package pfkey

import (
	"encoding/binary"
)

// A Dialect holds everything in which the PF_KEYv2 encodings of two
// systems differ: the PF_KEY and address family numbers, the sockaddr layout
// (BSD sa_len), the size of sadb_x_ipsecrequest and the width of its reqid,
// the extension numbers above 23, and the algorithm numbers. The codec takes a Dialect, so both systems' encodings
// can be produced and checked on any machine; Native is the running system's.
//
// Dialects are values that must not be modified after use; derive a new one
// with WithByteOrder.
type Dialect struct {
	// Name is "linux" or "freebsd".
	Name string
	// PFKey is the protocol family of the key socket (PF_KEY).
	PFKey int
	// AFInet and AFInet6 are the address family numbers in sockaddrs.
	AFInet, AFInet6 uint16
	// SockaddrLen is true for BSD sockaddrs, which start with a length
	// byte and a one-byte family; Linux has a two-byte family.
	SockaddrLen bool
	// IPSecRequestLen is sizeof(struct sadb_x_ipsecrequest): 8 on FreeBSD
	// (16-bit reqid), 16 on Linux (32-bit reqid).
	IPSecRequestLen int
	// ByteOrder is the host byte order of the kernel that reads the
	// messages; PF_KEY integers other than SPIs and ports are in host order.
	ByteOrder binary.ByteOrder

	extNames map[ExtType]string
	exts     map[ExtType]extKind
	kindNum  [numKinds]ExtType
	auth     []AlgInfo
	enc      []AlgInfo
	comp     []AlgInfo
}

// WithByteOrder returns a copy of d that encodes host-order integers in bo
// (for tests and for talking about a kernel of other endianness).
func (d *Dialect) WithByteOrder(bo binary.ByteOrder) *Dialect {
	c := *d
	c.ByteOrder = bo
	return &c
}

// String returns the dialect's name.
func (d *Dialect) String() string { return d.Name }

// extKind is the logical meaning of an extension number in a dialect.
type extKind uint8

const (
	kindUnknown extKind = iota
	kindSA
	kindLifetimeCurrent
	kindLifetimeHard
	kindLifetimeSoft
	kindAddressSrc
	kindAddressDst
	kindAddressProxy
	kindKeyAuth
	kindKeyEncrypt
	kindIdentitySrc
	kindIdentityDst
	kindSensitivity
	kindProposal
	kindSupportedAuth
	kindSupportedEncrypt
	kindSPIRange
	kindKMPrivate
	kindPolicy
	kindSA2
	kindNATTType
	kindNATTSport
	kindNATTDport
	kindNATTOAI
	kindNATTOAR
	kindNATTFrag
	kindSAReplay
	kindNewAddressSrc
	kindNewAddressDst
	kindSecCtx
	kindKMAddress
	kindFilter
	numKinds
)

var commonExts = map[ExtType]extKind{
	ExtSA: kindSA, ExtLifetimeCurrent: kindLifetimeCurrent, ExtLifetimeHard: kindLifetimeHard,
	ExtLifetimeSoft: kindLifetimeSoft, ExtAddressSrc: kindAddressSrc, ExtAddressDst: kindAddressDst,
	ExtAddressProxy: kindAddressProxy, ExtKeyAuth: kindKeyAuth, ExtKeyEncrypt: kindKeyEncrypt,
	ExtIdentitySrc: kindIdentitySrc, ExtIdentityDst: kindIdentityDst, ExtSensitivity: kindSensitivity,
	ExtProposal: kindProposal, ExtSupportedAuth: kindSupportedAuth, ExtSupportedEncrypt: kindSupportedEncrypt,
	ExtSPIRange: kindSPIRange, ExtXKMPrivate: kindKMPrivate, ExtXPolicy: kindPolicy, ExtXSA2: kindSA2,
	ExtXNATTType: kindNATTType, ExtXNATTSport: kindNATTSport, ExtXNATTDport: kindNATTDport,
	ExtXNATTOAI: kindNATTOAI,
}

var commonExtNames = map[ExtType]string{
	ExtSA: "sa", ExtLifetimeCurrent: "lifetime_current", ExtLifetimeHard: "lifetime_hard",
	ExtLifetimeSoft: "lifetime_soft", ExtAddressSrc: "address_src", ExtAddressDst: "address_dst",
	ExtAddressProxy: "address_proxy", ExtKeyAuth: "key_auth", ExtKeyEncrypt: "key_encrypt",
	ExtIdentitySrc: "identity_src", ExtIdentityDst: "identity_dst", ExtSensitivity: "sensitivity",
	ExtProposal: "proposal", ExtSupportedAuth: "supported_auth", ExtSupportedEncrypt: "supported_encrypt",
	ExtSPIRange: "spirange", ExtXKMPrivate: "x_kmprivate", ExtXPolicy: "x_policy", ExtXSA2: "x_sa2",
	ExtXNATTType: "x_nat_t_type", ExtXNATTSport: "x_nat_t_sport", ExtXNATTDport: "x_nat_t_dport",
}

func mergeExts[V any](base map[ExtType]V, extra map[ExtType]V) map[ExtType]V {
	m := make(map[ExtType]V, len(base)+len(extra))
	for k, v := range base {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// Linux is the dialect of Linux's af_key (include/uapi/linux/pfkeyv2.h and
// linux/ipsec.h) in native byte order.
var Linux = newDialect(Dialect{
	Name:            "linux",
	PFKey:           15,
	AFInet:          2,
	AFInet6:         10,
	SockaddrLen:     false,
	IPSecRequestLen: 16,
	ByteOrder:       binary.NativeEndian,
	exts: mergeExts(commonExts, map[ExtType]extKind{
		ExtLinuxSecCtx: kindSecCtx, ExtLinuxKMAddress: kindKMAddress, ExtLinuxFilter: kindFilter,
	}),
	extNames: mergeExts(commonExtNames, map[ExtType]string{
		ExtXNATTOA: "x_nat_t_oa", ExtLinuxSecCtx: "x_sec_ctx", ExtLinuxKMAddress: "x_kmaddress",
		ExtLinuxFilter: "x_filter",
	}),
	auth: linuxAuth,
	enc:  linuxEnc,
	comp: commonComp,
})

// FreeBSD is the dialect of FreeBSD's key socket (sys/net/pfkeyv2.h and
// netipsec/ipsec.h) in native byte order.
var FreeBSD = newDialect(Dialect{
	Name:            "freebsd",
	PFKey:           27,
	AFInet:          2,
	AFInet6:         28,
	SockaddrLen:     true,
	IPSecRequestLen: 8,
	ByteOrder:       binary.NativeEndian,
	exts: mergeExts(commonExts, map[ExtType]extKind{
		ExtFreeBSDNATTOAR: kindNATTOAR, ExtFreeBSDNATTFrag: kindNATTFrag,
		ExtFreeBSDSAReplay: kindSAReplay, ExtFreeBSDNewAddressSrc: kindNewAddressSrc,
		ExtFreeBSDNewAddressDst: kindNewAddressDst,
	}),
	extNames: mergeExts(commonExtNames, map[ExtType]string{
		ExtXNATTOAI: "x_nat_t_oai", ExtFreeBSDNATTOAR: "x_nat_t_oar", ExtFreeBSDNATTFrag: "x_nat_t_frag",
		ExtFreeBSDSAReplay: "x_sa_replay", ExtFreeBSDNewAddressSrc: "x_new_address_src",
		ExtFreeBSDNewAddressDst: "x_new_address_dst",
	}),
	auth: freebsdAuth,
	enc:  freebsdEnc,
	comp: commonComp,
})

// ExtName returns the dialect's name of an extension number
// ("address_src", "x_nat_t_oar", ...).
func (d *Dialect) ExtName(t ExtType) string {
	if n, ok := d.extNames[t]; ok {
		return n
	}
	return "ext(" + itoa(int(t)) + ")"
}

// extNumber returns the wire number of a logical extension, or 0 if the
// dialect does not have it.
func (d *Dialect) extNumber(k extKind) ExtType { return d.kindNum[k] }

func newDialect(d Dialect) *Dialect {
	for t, k := range d.exts {
		d.kindNum[k] = t
	}
	return &d
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
