package cxtp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// PCTD is the Predictive Context Transfer Data message (RFC 4067 section
// 2.5.3), sent by the pAR to the nAR before the MN moves. Besides the
// contexts it carries the MN's token key, so the nAR can verify the CTAR:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Vers.|  Type=4 |V|A| Reserved  |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  Elapsed Time (milliseconds)                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~              Mobile Node's Previous Care-of Address           ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Algorithm           |          Key Length           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~      Key (Key Length octets), zero-padded to 4-octet multiple ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                    Context Data Block(s)                      ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Algorithm and Key Length are 16-bit fields (RFC 4067 section 2.5.3 figure;
// Key Length counts octets). The RFC draws the key as one 32-bit row and
// says nothing of padding: this package pads the key with zeros to a
// multiple of 4 octets so the CDBs that follow stay 32-bit aligned (a
// 20-octet HMAC-SHA1 key needs none). The key bytes belong to the message:
// Wipe zeroes them, String never prints them (only their length).
type PCTD struct {
	Ack         bool
	ElapsedTime uint32
	PrevCoA     netip.Addr
	Algorithm   Algorithm
	Key         Key // token key; at most MaxKeyLen octets
	CDBs        []CDB
}

// Key holds key bytes. Every fmt verb prints only its length, so a key
// cannot reach a log by accident, even inside a struct printed with %+v.
type Key []byte

// Format implements fmt.Formatter.
func (k Key) Format(f fmt.State, verb rune) { fmt.Fprintf(f, "<%d-byte key>", len(k)) }

// String implements fmt.Stringer.
func (k Key) String() string { return fmt.Sprintf("<%d-byte key>", len(k)) }

// Wipe zeroes the key bytes.
func (k Key) Wipe() { clear(k) }

func (m *PCTD) Type() MsgType                  { return TypePCTD }
func (m *PCTD) PrevAddr() netip.Addr           { return m.PrevCoA }
func (m *PCTD) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// Wipe zeroes the key bytes and drops them.
func (m *PCTD) Wipe() {
	clear(m.Key)
	m.Key = nil
}

// MaxKeyLen is the longest key the 16-bit Key Length field describes.
const MaxKeyLen = 0xffff

// keyHeaderLen is the length of the Algorithm and Key Length fields.
const keyHeaderLen = 4

// keyFieldLen is the length of Algorithm, Key Length and the padded key.
func keyFieldLen(n int) int { return keyHeaderLen + (n+3)&^3 }

func (m *PCTD) AppendBinary(b []byte) ([]byte, error) {
	v, err := familyOf(TypePCTD, m.PrevCoA)
	if err != nil {
		return b, err
	}
	if len(m.Key) > MaxKeyLen {
		return b, encErr(TypePCTD, "key", fmt.Errorf("%w: %d octets", ErrKeyLength, len(m.Key)))
	}
	flags := vflag(v)
	if m.Ack {
		flags |= flagA
	}
	s := len(b)
	b = appendHeader(b, TypePCTD, flags)
	b = binary.BigEndian.AppendUint32(b, m.ElapsedTime)
	b = appendAddr(b, m.PrevCoA)
	b = binary.BigEndian.AppendUint16(b, uint16(m.Algorithm))
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Key)))
	b = append(b, m.Key...)
	for i := keyHeaderLen + len(m.Key); i < keyFieldLen(len(m.Key)); i++ {
		b = append(b, 0)
	}
	if b, err = appendCDBs(b, TypePCTD, m.CDBs); err != nil {
		clear(b[s:])
		return b[:s], err
	}
	return finish(b, s, TypePCTD)
}

func (m *PCTD) UnmarshalBinary(b []byte) error {
	r, h, err := start(b, TypePCTD, flagV|flagA)
	if err != nil {
		return err
	}
	d := PCTD{Ack: h.Flags&flagA != 0}
	d.ElapsedTime = r.u32("elapsed time")
	d.PrevCoA = r.addr(h.Flags&flagV != 0, "previous CoA")
	d.Algorithm = Algorithm(r.u16("algorithm"))
	kl := int(r.u16("key length"))
	key := r.bytes(kl, "key")
	r.bytes(keyFieldLen(kl)-keyHeaderLen-kl, "key padding")
	if r.err != nil {
		return r.err
	}
	if d.CDBs, err = decodeCDBs(TypePCTD, b[r.off:]); err != nil {
		return err
	}
	d.Key = append(Key(nil), key...)
	m.Wipe()
	*m = d
	return nil
}

func (m PCTD) String() string {
	return fmt.Sprintf("PCTD{A=%t elapsed=%dms prevCoA=%v alg=%v key=<%d bytes> cdbs=%s}",
		m.Ack, m.ElapsedTime, m.PrevCoA, m.Algorithm, len(m.Key), cdbList(m.CDBs))
}

// GoString is String: %#v must not print the key either.
func (m PCTD) GoString() string { return m.String() }
