// Package ikev2ctx is the IKEv2 context of the paper's section 3.1: what
// an access router must hold to continue an MN's IKEv2 session after a
// context transfer. It imports nothing of the project but ipsecmod's
// internal codec helpers, so that both ipsecmod (which moves it) and the
// IKEv2 daemon (which exports and imports it) can use it.
//
// # Record layout (version 1, big-endian, no padding)
//
//	off size field
//	  0   1  record type (5 = IKEv2 SA)
//	  1   1  record version (1)
//	  2   2  record length in octets, header included
//	  4   8  initiator's SPI
//	 12   8  responder's SPI
//	 20   1  this end's role: 0 initiator, 1 responder
//	 21   1  flags: bit 0 MOBIKE supported, bit 1 NAT detected
//	 22   2  encryption transform ID (RFC 7296 3.3.2 type 1)
//	 24   2  encryption key length in bits (0: fixed)
//	 26   2  integrity transform ID (type 3)
//	 28   2  PRF transform ID (type 2)
//	 30   2  Diffie-Hellman group (type 4)
//	 32   4  lifetime of the IKE SA, seconds
//	 36   4  age at capture, seconds
//	 40   4  next message ID this end sends
//	 44   4  next message ID this end expects
//	 48  20  local address (family, reserved, port, 16 octets)
//	 68  20  remote address
//	 88 ...  each a 2-octet length then the octets, in this order:
//	         SKEYSEED, SK_d, SK_ai, SK_ar, SK_ei, SK_er, SK_pi, SK_pr,
//	         Ni, Nr (SKEYSEED may be empty when the derived keys are
//	         carried, and the derived keys empty when SKEYSEED is: the
//	         receiver then derives them with the PRF, Ni, Nr and SPIs)
//	 ...  1  PAD: identity type (RFC 7296 3.5: 1 IPV4, 2 FQDN, 3 RFC822,
//	         5 IPV6, 11 KEY_ID)
//	 ...  1  PAD: authentication method (1 RSA, 2 shared key MIC, ...)
//	 ...     PAD: identity data, secret, certificate (each 2-octet length)
//	 ...  1  number of child SAs (C), then C times:
//	         proto 1 (2 AH, 3 ESP), mode 1 (1 transport, 2 tunnel),
//	         flags 1 (bit 0 ESN), number of TSi 1, number of TSr 1,
//	         reserved 3, inbound SPI 4, outbound SPI 4, encryption ID 2,
//	         key length 2, integrity ID 2, reserved 2, lifetime seconds 4,
//	         reqid 4 (32 octets), then the TSi then the TSr, each 40
//	         octets: IP protocol 1, reserved 1, start port 2, end port 2,
//	         family 1 (4 or 6), reserved 1, start address 16, end 16.
//
// Child SA keys are not part of this record: they live in the SAD and
// travel as IPsec SA records.
package ikev2ctx

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/ikectx/ikectx/ipsecmod/internal/wire"
)

// RecordType is the record type octet of an IKEv2 SA record.
const RecordType = 5

// Version is the record layout version this package writes and reads.
const Version = 1

const (
	fixedLen = 88
	childLen = 32
	tsLen    = 40
	maxVar   = 4096 // bound of any one variable field
)

// Flags of SA.
const (
	FlagMOBIKE      = 1 << 0
	FlagNATDetected = 1 << 1
)

// Secret is key material: formatting prints its length only.
type Secret []byte

// Format prints "Secret(N bytes)" for every verb.
func (s Secret) Format(f fmt.State, verb rune) { fmt.Fprintf(f, "Secret(%d bytes)", len(s)) }

// Wipe zeroes the bytes.
func (s Secret) Wipe() { clear(s) }

// Fingerprint is the first 8 hex digits of SHA-256 of the bytes, for logs.
func (s Secret) Fingerprint() string {
	h := sha256.Sum256(s)
	return hex.EncodeToString(h[:4])
}

// PAD is the Peer Authorization Database entry of the MN.
type PAD struct {
	IDType     uint8
	ID         []byte
	AuthMethod uint8
	Secret     Secret // pre-shared secret
	Cert       []byte // or an X.509 certificate (DER)
}

// TrafficSelector is one IKEv2 traffic selector.
type TrafficSelector struct {
	Proto              uint8
	StartPort, EndPort uint16
	Start, End         netip.Addr
}

// ChildSA is the negotiated parameters of one child SA.
type ChildSA struct {
	Proto           uint8 // 2 AH, 3 ESP
	Mode            uint8 // 1 transport, 2 tunnel
	ESN             bool
	SPIIn, SPIOut   uint32
	Encr, KeyLength uint16
	Integ           uint16
	Lifetime        time.Duration
	ReqID           uint32
	TSi, TSr        []TrafficSelector
}

// SA is one IKEv2 SA with its children and the MN's PAD entry. It owns its
// secrets; Wipe zeroes them.
type SA struct {
	SPIi, SPIr uint64
	Responder  bool
	Flags      uint8

	Encr, KeyLength, Integ, PRF, DHGroup uint16

	Lifetime time.Duration
	Age      time.Duration // since the IKE SA was established, at capture

	NextSendID, NextRecvID uint32

	Local, Remote netip.AddrPort

	SKEYSEED                                Secret
	SKd, SKai, SKar, SKei, SKer, SKpi, SKpr Secret
	Ni, Nr                                  []byte

	PAD      PAD
	Children []ChildSA
}

func (sa *SA) secrets() []*Secret {
	return []*Secret{&sa.SKEYSEED, &sa.SKd, &sa.SKai, &sa.SKar, &sa.SKei, &sa.SKer, &sa.SKpi, &sa.SKpr}
}

// Wipe zeroes the keys, nonces and the PAD secret.
func (sa *SA) Wipe() {
	for _, s := range sa.secrets() {
		s.Wipe()
	}
	clear(sa.Ni)
	clear(sa.Nr)
	sa.PAD.Secret.Wipe()
}

// String describes the SA without keys.
func (sa *SA) String() string {
	role := "initiator"
	if sa.Responder {
		role = "responder"
	}
	return fmt.Sprintf("ikev2 sa %016x:%016x %v<->%v %s children %d", sa.SPIi, sa.SPIr, sa.Local, sa.Remote, role, len(sa.Children))
}

// GoString is String, so that %#v prints no keys.
func (sa *SA) GoString() string { return sa.String() }

// AppendBinary appends the record of sa to b.
func (sa *SA) AppendBinary(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, RecordType, Version, 0, 0)
	b = binary.BigEndian.AppendUint64(b, sa.SPIi)
	b = binary.BigEndian.AppendUint64(b, sa.SPIr)
	var role uint8
	if sa.Responder {
		role = 1
	}
	b = append(b, role, sa.Flags)
	for _, v := range []uint16{sa.Encr, sa.KeyLength, sa.Integ, sa.PRF, sa.DHGroup} {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	b = binary.BigEndian.AppendUint32(b, secs(sa.Lifetime))
	b = binary.BigEndian.AppendUint32(b, secs(sa.Age))
	b = binary.BigEndian.AppendUint32(b, sa.NextSendID)
	b = binary.BigEndian.AppendUint32(b, sa.NextRecvID)
	b = wire.AppendAddr(b, sa.Local)
	b = wire.AppendAddr(b, sa.Remote)
	var err error
	names := []string{"SKEYSEED", "SK_d", "SK_ai", "SK_ar", "SK_ei", "SK_er", "SK_pi", "SK_pr"}
	for i, s := range sa.secrets() {
		if b, err = appendVar(b, names[i], *s); err != nil {
			return b[:start], err
		}
	}
	if b, err = appendVar(b, "Ni", sa.Ni); err != nil {
		return b[:start], err
	}
	if b, err = appendVar(b, "Nr", sa.Nr); err != nil {
		return b[:start], err
	}
	b = append(b, sa.PAD.IDType, sa.PAD.AuthMethod)
	for _, f := range []struct {
		n string
		v []byte
	}{{"PAD identity", sa.PAD.ID}, {"PAD secret", sa.PAD.Secret}, {"PAD certificate", sa.PAD.Cert}} {
		if b, err = appendVar(b, f.n, f.v); err != nil {
			return b[:start], err
		}
	}
	if len(sa.Children) > 255 {
		return b[:start], fmt.Errorf("ikev2ctx: %v: %d child SAs, at most 255", sa, len(sa.Children))
	}
	b = append(b, uint8(len(sa.Children)))
	for i := range sa.Children {
		c := &sa.Children[i]
		if len(c.TSi) > 255 || len(c.TSr) > 255 {
			return b[:start], fmt.Errorf("ikev2ctx: %v: child %d: too many traffic selectors", sa, i)
		}
		var fl uint8
		if c.ESN {
			fl = 1
		}
		b = append(b, c.Proto, c.Mode, fl, uint8(len(c.TSi)), uint8(len(c.TSr)), 0, 0, 0)
		b = binary.BigEndian.AppendUint32(b, c.SPIIn)
		b = binary.BigEndian.AppendUint32(b, c.SPIOut)
		b = binary.BigEndian.AppendUint16(b, c.Encr)
		b = binary.BigEndian.AppendUint16(b, c.KeyLength)
		b = binary.BigEndian.AppendUint16(b, c.Integ)
		b = append(b, 0, 0)
		b = binary.BigEndian.AppendUint32(b, secs(c.Lifetime))
		b = binary.BigEndian.AppendUint32(b, c.ReqID)
		for _, ts := range append(append([]TrafficSelector(nil), c.TSi...), c.TSr...) {
			if b, err = appendTS(b, ts); err != nil {
				return b[:start], fmt.Errorf("ikev2ctx: %v: child %d: %w", sa, i, err)
			}
		}
	}
	n := len(b) - start
	if n > 0xffff {
		return b[:start], fmt.Errorf("ikev2ctx: %v: record of %d octets, more than 65535", sa, n)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

// MarshalBinary encodes sa.
func (sa *SA) MarshalBinary() ([]byte, error) { return sa.AppendBinary(nil) }

func appendVar(b []byte, name string, v []byte) ([]byte, error) {
	if len(v) > maxVar {
		return b, fmt.Errorf("ikev2ctx: %s: %d octets, at most %d", name, len(v), maxVar)
	}
	return wire.AppendVar(b, name, v)
}

func appendTS(b []byte, ts TrafficSelector) ([]byte, error) {
	if !ts.Start.IsValid() || !ts.End.IsValid() || ts.Start.Is4() != ts.End.Is4() {
		return b, errors.New("traffic selector without addresses of one family")
	}
	fam := uint8(6)
	if ts.Start.Is4() {
		fam = 4
	}
	b = append(b, ts.Proto, 0)
	b = binary.BigEndian.AppendUint16(b, ts.StartPort)
	b = binary.BigEndian.AppendUint16(b, ts.EndPort)
	b = append(b, fam, 0)
	for _, a := range []netip.Addr{ts.Start, ts.End} {
		var f [16]byte
		if a.Is4() {
			a4 := a.As4()
			copy(f[:], a4[:])
		} else {
			f = a.As16()
		}
		b = append(b, f[:]...)
	}
	return b, nil
}

func secs(d time.Duration) uint32 {
	s := d / time.Second
	if s < 0 {
		return 0
	}
	if s > 0xffffffff {
		return 0xffffffff
	}
	return uint32(s)
}

// Parse decodes exactly one IKEv2 SA record.
func Parse(b []byte) (*SA, error) {
	r := &wire.Reader{B: b, What: "ikev2ctx: IKEv2 SA record"}
	if t := r.U8("type"); r.Err == nil && t != RecordType {
		return nil, fmt.Errorf("ikev2ctx: record type %d, want %d", t, RecordType)
	}
	if v := r.U8("version"); r.Err == nil && v != Version {
		return nil, fmt.Errorf("ikev2ctx: IKEv2 SA record version %d not supported (want %d)", v, Version)
	}
	if n := r.U16("length"); r.Err == nil && int(n) != len(b) {
		return nil, fmt.Errorf("ikev2ctx: IKEv2 SA record: length field %d, have %d octets", n, len(b))
	}
	sa := &SA{}
	sa.SPIi = r.U64("SPIi")
	sa.SPIr = r.U64("SPIr")
	role := r.U8("role")
	if r.Err == nil && role > 1 {
		r.Fail("role", fmt.Errorf("unknown role %d", role))
	}
	sa.Responder = role == 1
	sa.Flags = r.U8("flags")
	sa.Encr = r.U16("encryption")
	sa.KeyLength = r.U16("key length")
	sa.Integ = r.U16("integrity")
	sa.PRF = r.U16("prf")
	sa.DHGroup = r.U16("dh group")
	sa.Lifetime = time.Duration(r.U32("lifetime")) * time.Second
	sa.Age = time.Duration(r.U32("age")) * time.Second
	sa.NextSendID = r.U32("next send message ID")
	sa.NextRecvID = r.U32("next receive message ID")
	sa.Local = r.Addr("local address")
	sa.Remote = r.Addr("remote address")
	names := []string{"SKEYSEED", "SK_d", "SK_ai", "SK_ar", "SK_ei", "SK_er", "SK_pi", "SK_pr"}
	for i, s := range sa.secrets() {
		*s = Secret(r.Var(names[i], maxVar))
	}
	sa.Ni = r.Var("Ni", maxVar)
	sa.Nr = r.Var("Nr", maxVar)
	sa.PAD.IDType = r.U8("PAD identity type")
	sa.PAD.AuthMethod = r.U8("PAD authentication method")
	sa.PAD.ID = r.Var("PAD identity", maxVar)
	sa.PAD.Secret = Secret(r.Var("PAD secret", maxVar))
	sa.PAD.Cert = r.Var("PAD certificate", maxVar)
	nc := int(r.U8("child count"))
	for i := 0; i < nc && r.Err == nil; i++ {
		var c ChildSA
		c.Proto = r.U8("child proto")
		c.Mode = r.U8("child mode")
		fl := r.U8("child flags")
		c.ESN = fl&1 != 0
		ni, nr := int(r.U8("TSi count")), int(r.U8("TSr count"))
		r.Zero("child reserved", 3)
		c.SPIIn = r.U32("child inbound SPI")
		c.SPIOut = r.U32("child outbound SPI")
		c.Encr = r.U16("child encryption")
		c.KeyLength = r.U16("child key length")
		c.Integ = r.U16("child integrity")
		r.Zero("child reserved", 2)
		c.Lifetime = time.Duration(r.U32("child lifetime")) * time.Second
		c.ReqID = r.U32("child reqid")
		if r.Err == nil && (ni+nr)*tsLen > r.Left() {
			r.Fail("traffic selectors", wire.ErrShort)
		}
		for j := 0; j < ni+nr && r.Err == nil; j++ {
			ts := readTS(r)
			if j < ni {
				c.TSi = append(c.TSi, ts)
			} else {
				c.TSr = append(c.TSr, ts)
			}
		}
		sa.Children = append(sa.Children, c)
	}
	if r.Err == nil && r.Left() != 0 {
		r.Fail("end", fmt.Errorf("%d octets after the last field", r.Left()))
	}
	if r.Err != nil {
		sa.Wipe()
		return nil, r.Err
	}
	return sa, nil
}

func readTS(r *wire.Reader) TrafficSelector {
	var ts TrafficSelector
	ts.Proto = r.U8("TS protocol")
	r.Zero("TS reserved", 1)
	ts.StartPort = r.U16("TS start port")
	ts.EndPort = r.U16("TS end port")
	fam := r.U8("TS family")
	r.Zero("TS reserved", 1)
	s, e := r.Take("TS start", 16), r.Take("TS end", 16)
	if r.Err != nil {
		return ts
	}
	switch fam {
	case 4:
		for _, p := range [][]byte{s[4:], e[4:]} {
			for _, x := range p {
				if x != 0 {
					r.Fail("TS address", errors.New("IPv4 address with non-zero tail"))
					return ts
				}
			}
		}
		ts.Start, ts.End = netip.AddrFrom4([4]byte(s[:4])), netip.AddrFrom4([4]byte(e[:4]))
	case 6:
		ts.Start, ts.End = netip.AddrFrom16([16]byte(s)), netip.AddrFrom16([16]byte(e))
	default:
		r.Fail("TS family", fmt.Errorf("unknown family %d", fam))
	}
	return ts
}
