package admin

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

// Secret is key material. Every fmt verb prints only its length, so a
// Secret inside a struct printed with %v or %+v does not leak.
type Secret []byte

// Format prints "Secret(N bytes)".
func (s Secret) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "Secret(%d bytes)", len(s))
}

// Wipe zeroes the bytes.
func (s Secret) Wipe() { clear(s) }

// Clone returns a copy (nil for nil).
func (s Secret) Clone() Secret {
	if s == nil {
		return nil
	}
	return append(Secret(nil), s...)
}

// Fingerprint returns the first 8 hex digits of SHA-256 of the bytes, for
// logs.
func (s Secret) Fingerprint() string {
	h := sha256.Sum256(s)
	return fmt.Sprintf("%x", h[:4])
}

// Identity is an ID payload body (RFC 2407 4.6.2): type, protocol, port and
// the identification data.
type Identity struct {
	Type  uint8 // ID_IPV4_ADDR 1, ID_FQDN 2, ID_USER_FQDN 3, ID_IPV6_ADDR 5, ID_KEY_ID 11, ...
	Proto uint8
	Port  uint16
	Data  []byte
}

func (id Identity) clone() Identity {
	id.Data = append([]byte(nil), id.Data...)
	return id
}

// MessageIV is the current CBC IV of one exchange in progress (quick mode,
// informational) under the phase-1 SA.
type MessageIV struct {
	MsgID uint32
	IV    Secret
}

// Flags of Phase1Context.
const (
	// Phase1FlagDPD: the peer announced DPD (RFC 3706 vendor ID).
	Phase1FlagDPD uint32 = 1 << 0
	// Phase1FlagInitialContact: INITIAL-CONTACT was already exchanged for
	// this SA; the importer must not send it again.
	Phase1FlagInitialContact uint32 = 1 << 1
)

// Phase1Context is one established ISAKMP SA with everything a daemon needs
// to continue it: quick mode, informational exchanges and DELETE. It owns
// its byte slices; Wipe zeroes the keys and IVs.
type Phase1Context struct {
	Index        Index
	Version      uint8 // ISAKMP version byte (0x10)
	ExchangeType uint8 // 2 main (identity protection), 4 aggressive
	Side         Side  // this end's role in the phase 1

	// Negotiated attributes, RFC 2409 appendix A numbers.
	EncAlg     uint16 // 1 DES, 5 3DES, 7 AES-CBC
	KeyLength  uint16 // bits; 0 when the cipher has one length
	HashAlg    uint16 // 1 MD5, 2 SHA, 4 SHA2-256, 5 SHA2-384, 6 SHA2-512
	AuthMethod uint16 // 1 pre-shared key
	DHGroup    uint16

	Flags    uint32 // Phase1Flag*
	Lifetime time.Duration
	Created  time.Time

	Local, Remote     netip.AddrPort
	LocalID, RemoteID Identity
	NonceI, NonceR    []byte

	SKEYIDd, SKEYIDa, SKEYIDe Secret
	// EncKey is the phase-1 cipher key derived from SKEYID_e (expanded as
	// RFC 2409 appendix B when needed, truncated to the key length).
	EncKey Secret
	// IV is the last CBC block of the phase-1 exchange: the IV of a new
	// exchange with message ID M is hash(IV | M) truncated to the block.
	IV Secret
	// MessageIVs are the current IVs of exchanges in progress.
	MessageIVs []MessageIV
	// MessageIDs are the message IDs already used under this SA.
	MessageIDs []uint32

	// RemoteName names the remote block of racoon.conf that governs the
	// SA ("anonymous", or the address as written).
	RemoteName string
}

// Wipe zeroes the keys, IVs and nonces.
func (pc *Phase1Context) Wipe() {
	if pc == nil {
		return
	}
	pc.SKEYIDd.Wipe()
	pc.SKEYIDa.Wipe()
	pc.SKEYIDe.Wipe()
	pc.EncKey.Wipe()
	pc.IV.Wipe()
	for _, m := range pc.MessageIVs {
		m.IV.Wipe()
	}
	clear(pc.NonceI)
	clear(pc.NonceR)
}

// Clone returns a deep copy.
func (pc *Phase1Context) Clone() *Phase1Context {
	c := *pc
	c.LocalID = pc.LocalID.clone()
	c.RemoteID = pc.RemoteID.clone()
	c.NonceI = append([]byte(nil), pc.NonceI...)
	c.NonceR = append([]byte(nil), pc.NonceR...)
	c.SKEYIDd = pc.SKEYIDd.Clone()
	c.SKEYIDa = pc.SKEYIDa.Clone()
	c.SKEYIDe = pc.SKEYIDe.Clone()
	c.EncKey = pc.EncKey.Clone()
	c.IV = pc.IV.Clone()
	c.MessageIVs = nil
	for _, m := range pc.MessageIVs {
		c.MessageIVs = append(c.MessageIVs, MessageIV{m.MsgID, m.IV.Clone()})
	}
	c.MessageIDs = append([]uint32(nil), pc.MessageIDs...)
	return &c
}

// String describes the SA without keys.
func (pc *Phase1Context) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "phase1 %s %v->%v %s etype %d enc %d/%d hash %d auth %d group %d",
		pc.Index, pc.Local, pc.Remote, pc.Side, pc.ExchangeType, pc.EncAlg, pc.KeyLength,
		pc.HashAlg, pc.AuthMethod, pc.DHGroup)
	fmt.Fprintf(&b, " remote %q keys %s/%s/%s/%s", pc.RemoteName,
		pc.SKEYIDd.Fingerprint(), pc.SKEYIDa.Fingerprint(), pc.SKEYIDe.Fingerprint(), pc.EncKey.Fingerprint())
	return b.String()
}

// GoString is String, so that %#v does not print keys either.
func (pc *Phase1Context) GoString() string { return pc.String() }

// Encoding constants (see the package documentation).
const (
	ContextMagic   = "IKP1"
	ContextVersion = 1
	contextFixed   = 96
	// Bounds of the variable fields.
	maxIDData    = 1024
	maxNonce     = 256
	maxKey       = 256
	maxName      = 1024
	maxIVs       = 256
	maxMsgIDs    = 4096
	maxIVLen     = 64
	maxContextSz = 0xffff
)

// ContextError is a decoding error of a Phase1Context.
type ContextError struct {
	Off int
	Msg string
}

func (e *ContextError) Error() string {
	return fmt.Sprintf("admin: phase-1 context: offset %d: %s", e.Off, e.Msg)
}

func putAddr(b []byte, ap netip.AddrPort) {
	clear(b[:20])
	a := ap.Addr()
	switch {
	case a.Is4():
		b[0] = 4
		a4 := a.As4()
		copy(b[4:], a4[:])
	case a.Is6():
		b[0] = 6
		a16 := a.As16()
		copy(b[4:], a16[:])
	default:
		return
	}
	binary.BigEndian.PutUint16(b[2:], ap.Port())
}

func getAddr(b []byte) (netip.AddrPort, string) {
	if b[1] != 0 {
		return netip.AddrPort{}, "reserved address byte is not zero"
	}
	port := binary.BigEndian.Uint16(b[2:])
	switch b[0] {
	case 0:
		for _, c := range b[2:20] {
			if c != 0 {
				return netip.AddrPort{}, "address of family 0 is not all zero"
			}
		}
		return netip.AddrPort{}, ""
	case 4:
		for _, c := range b[8:20] {
			if c != 0 {
				return netip.AddrPort{}, "IPv4 address has non-zero trailing bytes"
			}
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port), ""
	case 6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[4:20])), port), ""
	}
	return netip.AddrPort{}, fmt.Sprintf("unknown address family %d", b[0])
}

func appendField(b []byte, name string, v []byte, max int) ([]byte, error) {
	if len(v) > max {
		return b, fmt.Errorf("admin: phase-1 context: %s is %d bytes, at most %d", name, len(v), max)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...), nil
}

func idBytes(id Identity) []byte {
	b := []byte{id.Type, id.Proto, byte(id.Port >> 8), byte(id.Port)}
	return append(b, id.Data...)
}

// MarshalBinary encodes pc (version 1).
func (pc *Phase1Context) MarshalBinary() ([]byte, error) {
	return pc.AppendBinary(nil)
}

// AppendBinary appends the encoding of pc to b.
func (pc *Phase1Context) AppendBinary(b []byte) ([]byte, error) {
	if pc.Lifetime < 0 || pc.Lifetime/time.Second > 0xffffffff {
		return b, fmt.Errorf("admin: phase-1 context: lifetime %v out of range", pc.Lifetime)
	}
	start := len(b)
	b = append(b, make([]byte, contextFixed)...)
	h := b[start:]
	copy(h, ContextMagic)
	binary.BigEndian.PutUint16(h[4:], ContextVersion)
	copy(h[8:], pc.Index.I[:])
	copy(h[16:], pc.Index.R[:])
	h[24] = pc.Version
	h[25] = pc.ExchangeType
	h[26] = byte(pc.Side)
	binary.BigEndian.PutUint16(h[28:], pc.EncAlg)
	binary.BigEndian.PutUint16(h[30:], pc.KeyLength)
	binary.BigEndian.PutUint16(h[32:], pc.HashAlg)
	binary.BigEndian.PutUint16(h[34:], pc.AuthMethod)
	binary.BigEndian.PutUint16(h[36:], pc.DHGroup)
	binary.BigEndian.PutUint32(h[40:], pc.Flags)
	binary.BigEndian.PutUint32(h[44:], uint32(pc.Lifetime/time.Second))
	var created int64
	if !pc.Created.IsZero() {
		created = pc.Created.Unix()
	}
	binary.BigEndian.PutUint64(h[48:], uint64(created))
	putAddr(h[56:], pc.Local)
	putAddr(h[76:], pc.Remote)
	if !utf8.ValidString(pc.RemoteName) {
		return b[:start], errors.New("admin: phase-1 context: remote name is not UTF-8")
	}
	var err error
	for _, f := range []struct {
		name string
		v    []byte
		max  int
	}{
		{"local ID", idBytes(pc.LocalID), 4 + maxIDData},
		{"remote ID", idBytes(pc.RemoteID), 4 + maxIDData},
		{"initiator nonce", pc.NonceI, maxNonce},
		{"responder nonce", pc.NonceR, maxNonce},
		{"SKEYID_d", pc.SKEYIDd, maxKey},
		{"SKEYID_a", pc.SKEYIDa, maxKey},
		{"SKEYID_e", pc.SKEYIDe, maxKey},
		{"encryption key", pc.EncKey, maxKey},
		{"IV", pc.IV, maxIVLen},
		{"remote name", []byte(pc.RemoteName), maxName},
	} {
		if b, err = appendField(b, f.name, f.v, f.max); err != nil {
			return b[:start], err
		}
	}
	if len(pc.MessageIVs) > maxIVs {
		return b[:start], fmt.Errorf("admin: phase-1 context: %d message IVs, at most %d", len(pc.MessageIVs), maxIVs)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(pc.MessageIVs)))
	for _, m := range pc.MessageIVs {
		b = binary.BigEndian.AppendUint32(b, m.MsgID)
		if b, err = appendField(b, "message IV", m.IV, maxIVLen); err != nil {
			return b[:start], err
		}
	}
	if len(pc.MessageIDs) > maxMsgIDs {
		return b[:start], fmt.Errorf("admin: phase-1 context: %d message IDs, at most %d", len(pc.MessageIDs), maxMsgIDs)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(pc.MessageIDs)))
	for _, id := range pc.MessageIDs {
		b = binary.BigEndian.AppendUint32(b, id)
	}
	n := len(b) - start
	if n > maxContextSz {
		return b[:start], fmt.Errorf("admin: phase-1 context: %d bytes, at most %d", n, maxContextSz)
	}
	binary.BigEndian.PutUint16(b[start+6:], uint16(n))
	return b, nil
}

type ctxReader struct {
	b   []byte
	off int
	err *ContextError
}

func (r *ctxReader) fail(msg string, args ...any) {
	if r.err == nil {
		r.err = &ContextError{Off: r.off, Msg: fmt.Sprintf(msg, args...)}
	}
}

func (r *ctxReader) u16(name string) int {
	if r.err != nil {
		return 0
	}
	if len(r.b)-r.off < 2 {
		r.fail("%s truncated", name)
		return 0
	}
	v := binary.BigEndian.Uint16(r.b[r.off:])
	r.off += 2
	return int(v)
}

func (r *ctxReader) u32(name string) uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b)-r.off < 4 {
		r.fail("%s truncated", name)
		return 0
	}
	v := binary.BigEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *ctxReader) field(name string, min, max int) []byte {
	n := r.u16(name + " length")
	if r.err != nil {
		return nil
	}
	if n < min || n > max {
		r.off -= 2
		r.fail("%s length %d not in %d..%d", name, n, min, max)
		return nil
	}
	if len(r.b)-r.off < n {
		r.fail("%s truncated: %d bytes, %d left", name, n, len(r.b)-r.off)
		return nil
	}
	v := append([]byte(nil), r.b[r.off:r.off+n]...)
	r.off += n
	return v
}

// UnmarshalBinary decodes a version-1 encoding; b must hold exactly one
// context.
func (pc *Phase1Context) UnmarshalBinary(b []byte) error {
	if len(b) < contextFixed {
		return &ContextError{0, fmt.Sprintf("%d bytes, shorter than the %d-byte header", len(b), contextFixed)}
	}
	if string(b[:4]) != ContextMagic {
		return &ContextError{0, fmt.Sprintf("bad magic %q", b[:4])}
	}
	if v := binary.BigEndian.Uint16(b[4:]); v != ContextVersion {
		return &ContextError{4, fmt.Sprintf("unsupported version %d", v)}
	}
	if n := int(binary.BigEndian.Uint16(b[6:])); n != len(b) {
		return &ContextError{6, fmt.Sprintf("length field %d, input %d bytes", n, len(b))}
	}
	if b[27] != 0 || b[38] != 0 || b[39] != 0 {
		return &ContextError{27, "reserved bytes are not zero"}
	}
	if b[26] > 1 {
		return &ContextError{26, fmt.Sprintf("bad side %d", b[26])}
	}
	var c Phase1Context
	copy(c.Index.I[:], b[8:16])
	copy(c.Index.R[:], b[16:24])
	c.Version = b[24]
	c.ExchangeType = b[25]
	c.Side = Side(b[26])
	c.EncAlg = binary.BigEndian.Uint16(b[28:])
	c.KeyLength = binary.BigEndian.Uint16(b[30:])
	c.HashAlg = binary.BigEndian.Uint16(b[32:])
	c.AuthMethod = binary.BigEndian.Uint16(b[34:])
	c.DHGroup = binary.BigEndian.Uint16(b[36:])
	c.Flags = binary.BigEndian.Uint32(b[40:])
	c.Lifetime = time.Duration(binary.BigEndian.Uint32(b[44:])) * time.Second
	if s := int64(binary.BigEndian.Uint64(b[48:])); s != 0 {
		c.Created = time.Unix(s, 0)
	}
	var msg string
	if c.Local, msg = getAddr(b[56:76]); msg != "" {
		return &ContextError{56, "local " + msg}
	}
	if c.Remote, msg = getAddr(b[76:96]); msg != "" {
		return &ContextError{76, "remote " + msg}
	}
	r := &ctxReader{b: b, off: contextFixed}
	getID := func(name string) Identity {
		v := r.field(name, 4, 4+maxIDData)
		if len(v) < 4 {
			return Identity{}
		}
		return Identity{Type: v[0], Proto: v[1], Port: uint16(v[2])<<8 | uint16(v[3]), Data: v[4:]}
	}
	c.LocalID = getID("local ID")
	c.RemoteID = getID("remote ID")
	c.NonceI = r.field("initiator nonce", 0, maxNonce)
	c.NonceR = r.field("responder nonce", 0, maxNonce)
	c.SKEYIDd = r.field("SKEYID_d", 0, maxKey)
	c.SKEYIDa = r.field("SKEYID_a", 0, maxKey)
	c.SKEYIDe = r.field("SKEYID_e", 0, maxKey)
	c.EncKey = r.field("encryption key", 0, maxKey)
	c.IV = r.field("IV", 0, maxIVLen)
	name := r.field("remote name", 0, maxName)
	if r.err == nil && !utf8.Valid(name) {
		r.off -= len(name)
		r.fail("remote name is not UTF-8")
	}
	c.RemoteName = string(name)
	n := r.u16("message IV count")
	if r.err == nil && n > maxIVs {
		r.fail("%d message IVs, at most %d", n, maxIVs)
	}
	for i := 0; i < n && r.err == nil; i++ {
		id := r.u32("message IV ID")
		iv := r.field("message IV", 0, maxIVLen)
		c.MessageIVs = append(c.MessageIVs, MessageIV{id, iv})
	}
	n = r.u16("message ID count")
	if r.err == nil && n > maxMsgIDs {
		r.fail("%d message IDs, at most %d", n, maxMsgIDs)
	}
	for i := 0; i < n && r.err == nil; i++ {
		c.MessageIDs = append(c.MessageIDs, r.u32("message ID"))
	}
	if r.err == nil && r.off != len(b) {
		r.fail("%d bytes after the last field", len(b)-r.off)
	}
	if r.err != nil {
		c.Wipe()
		return r.err
	}
	*pc = c
	return nil
}

// ParsePhase1Context decodes one context.
func ParsePhase1Context(b []byte) (*Phase1Context, error) {
	pc := new(Phase1Context)
	if err := pc.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return pc, nil
}
