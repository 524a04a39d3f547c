package msg

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Payload is one IKEv2 payload. Body encodes the payload without its
// generic header; the codec adds the header (next payload, critical bit,
// length).
type Payload interface {
	Type() PayloadType
	appendBody(b []byte) []byte
}

// Attribute is a transform attribute: TV when the value is at most two
// octets and AF is set, TLV otherwise.
type Attribute struct {
	Type  uint16
	TV    bool
	Value uint16 // TV form
	Data  []byte // TLV form
}

// Transform is one transform substructure.
type Transform struct {
	Type  TransformType
	ID    uint16
	Attrs []Attribute
}

// KeyLength returns the Key Length attribute, or 0.
func (t Transform) KeyLength() int {
	for _, a := range t.Attrs {
		if a.Type == AttrKeyLength && a.TV {
			return int(a.Value)
		}
	}
	return 0
}

// WithKeyLength returns t with a Key Length attribute (bits).
func (t Transform) WithKeyLength(bits int) Transform {
	t.Attrs = append(t.Attrs[:len(t.Attrs):len(t.Attrs)], Attribute{Type: AttrKeyLength, TV: true, Value: uint16(bits)})
	return t
}

func (t Transform) String() string {
	if kl := t.KeyLength(); kl != 0 {
		return fmt.Sprintf("%v/%d/%d", t.Type, t.ID, kl)
	}
	return fmt.Sprintf("%v/%d", t.Type, t.ID)
}

// Proposal is one proposal substructure of an SA payload.
type Proposal struct {
	Num        uint8
	Protocol   ProtocolID
	SPI        []byte
	Transforms []Transform
}

// SA is the Security Association payload.
type SA struct{ Proposals []Proposal }

// KE is the Key Exchange payload.
type KE struct {
	Group uint16
	Data  []byte
}

// ID is the IDi (Responder false) or IDr payload.
type ID struct {
	Responder bool
	IDType    uint8
	Data      []byte
}

// Cert is the CERT or CERTREQ (Request) payload; ikectx parses and keeps
// them but does not use certificates.
type Cert struct {
	Request  bool
	Encoding uint8
	Data     []byte
}

// Auth is the Authentication payload.
type Auth struct {
	Method uint8
	Data   []byte
}

// Nonce is the Nonce payload.
type Nonce struct{ Data []byte }

// Notify is the Notify payload.
type Notify struct {
	Protocol ProtocolID
	SPI      []byte
	NotType  NotifyType
	Data     []byte
}

// Delete is the Delete payload. For IKE SAs SPISize is 0 and SPIs empty.
type Delete struct {
	Protocol ProtocolID
	SPISize  uint8
	SPIs     [][]byte
}

// VendorID is the Vendor ID payload.
type VendorID struct{ Data []byte }

// Selector is one traffic selector.
type Selector struct {
	TSType    uint8 // TSIPv4AddrRange or TSIPv6AddrRange
	IPProto   uint8
	StartPort uint16
	EndPort   uint16
	Start     netip.Addr
	End       netip.Addr
}

func (s Selector) String() string {
	return fmt.Sprintf("%v-%v proto %d ports %d-%d", s.Start, s.End, s.IPProto, s.StartPort, s.EndPort)
}

// TS is the TSi (Responder false) or TSr payload.
type TS struct {
	Responder bool
	Selectors []Selector
}

// CfgAttribute is one configuration attribute.
type CfgAttribute struct {
	Type  uint16
	Value []byte
}

// CP is the Configuration payload.
type CP struct {
	CfgType uint8
	Attrs   []CfgAttribute
}

// EAP is the EAP payload, kept raw (parse only).
type EAP struct{ Data []byte }

// Unknown keeps a payload of a type the codec does not know.
type Unknown struct {
	PType    PayloadType
	Critical bool
	Data     []byte
}

// Encrypted is the SK payload as received: the encrypted body (IV,
// ciphertext, ICV) and the type of its first inner payload. Offset is the
// offset of the SK payload's generic header in the message.
type Encrypted struct {
	First  PayloadType
	Body   []byte
	Offset int
}

func (*SA) Type() PayloadType       { return PayloadSA }
func (*KE) Type() PayloadType       { return PayloadKE }
func (*Auth) Type() PayloadType     { return PayloadAUTH }
func (*Nonce) Type() PayloadType    { return PayloadNonce }
func (*Notify) Type() PayloadType   { return PayloadNotify }
func (*Delete) Type() PayloadType   { return PayloadDelete }
func (*VendorID) Type() PayloadType { return PayloadVendorID }
func (*CP) Type() PayloadType       { return PayloadCP }
func (*EAP) Type() PayloadType      { return PayloadEAP }
func (u *Unknown) Type() PayloadType {
	return u.PType
}
func (*Encrypted) Type() PayloadType { return PayloadSK }

func (i *ID) Type() PayloadType {
	if i.Responder {
		return PayloadIDr
	}
	return PayloadIDi
}

func (c *Cert) Type() PayloadType {
	if c.Request {
		return PayloadCERTREQ
	}
	return PayloadCERT
}

func (t *TS) Type() PayloadType {
	if t.Responder {
		return PayloadTSr
	}
	return PayloadTSi
}

func be16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }

func (s *SA) appendBody(b []byte) []byte {
	for i, p := range s.Proposals {
		start := len(b)
		last := byte(2)
		if i == len(s.Proposals)-1 {
			last = 0
		}
		b = append(b, last, 0, 0, 0, p.Num, byte(p.Protocol), byte(len(p.SPI)), byte(len(p.Transforms)))
		b = append(b, p.SPI...)
		for j, t := range p.Transforms {
			ts := len(b)
			tl := byte(3)
			if j == len(p.Transforms)-1 {
				tl = 0
			}
			b = append(b, tl, 0, 0, 0, byte(t.Type), 0)
			b = be16(b, t.ID)
			for _, a := range t.Attrs {
				if a.TV {
					b = be16(b, 0x8000|a.Type)
					b = be16(b, a.Value)
				} else {
					b = be16(b, a.Type&0x7fff)
					b = be16(b, uint16(len(a.Data)))
					b = append(b, a.Data...)
				}
			}
			binary.BigEndian.PutUint16(b[ts+2:], uint16(len(b)-ts))
		}
		binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	}
	return b
}

func (k *KE) appendBody(b []byte) []byte {
	b = be16(b, k.Group)
	b = append(b, 0, 0)
	return append(b, k.Data...)
}

func (i *ID) appendBody(b []byte) []byte {
	b = append(b, i.IDType, 0, 0, 0)
	return append(b, i.Data...)
}

// Body returns the ID payload body (ID type, reserved, data): the
// RestOfIDPayload that AUTH signs.
func (i *ID) Body() []byte { return i.appendBody(nil) }

func (c *Cert) appendBody(b []byte) []byte {
	b = append(b, c.Encoding)
	return append(b, c.Data...)
}

func (a *Auth) appendBody(b []byte) []byte {
	b = append(b, a.Method, 0, 0, 0)
	return append(b, a.Data...)
}

func (n *Nonce) appendBody(b []byte) []byte    { return append(b, n.Data...) }
func (v *VendorID) appendBody(b []byte) []byte { return append(b, v.Data...) }
func (e *EAP) appendBody(b []byte) []byte      { return append(b, e.Data...) }
func (u *Unknown) appendBody(b []byte) []byte  { return append(b, u.Data...) }
func (e *Encrypted) appendBody(b []byte) []byte {
	return append(b, e.Body...)
}

func (n *Notify) appendBody(b []byte) []byte {
	b = append(b, byte(n.Protocol), byte(len(n.SPI)))
	b = be16(b, uint16(n.NotType))
	b = append(b, n.SPI...)
	return append(b, n.Data...)
}

func (d *Delete) appendBody(b []byte) []byte {
	b = append(b, byte(d.Protocol), d.SPISize)
	b = be16(b, uint16(len(d.SPIs)))
	for _, s := range d.SPIs {
		b = append(b, s...)
	}
	return b
}

func (t *TS) appendBody(b []byte) []byte {
	b = append(b, byte(len(t.Selectors)), 0, 0, 0)
	for _, s := range t.Selectors {
		start := len(b)
		b = append(b, s.TSType, s.IPProto, 0, 0)
		b = be16(b, s.StartPort)
		b = be16(b, s.EndPort)
		if s.TSType == TSIPv4AddrRange {
			a, e := s.Start.As4(), s.End.As4()
			b = append(b, a[:]...)
			b = append(b, e[:]...)
		} else {
			a, e := s.Start.As16(), s.End.As16()
			b = append(b, a[:]...)
			b = append(b, e[:]...)
		}
		binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	}
	return b
}

func (c *CP) appendBody(b []byte) []byte {
	b = append(b, c.CfgType, 0, 0, 0)
	for _, a := range c.Attrs {
		b = be16(b, a.Type&0x7fff)
		b = be16(b, uint16(len(a.Value)))
		b = append(b, a.Value...)
	}
	return b
}

// SelectorFromPrefix returns the selector that covers p with any protocol
// and port.
func SelectorFromPrefix(p netip.Prefix) Selector {
	p = p.Masked()
	start := p.Addr()
	end := lastAddr(p)
	t := TSIPv6AddrRange
	if start.Is4() {
		t = TSIPv4AddrRange
	}
	return Selector{TSType: t, StartPort: 0, EndPort: 0xffff, Start: start, End: end}
}

// Prefix is the largest prefix that starts at s.Start and stays within
// s.End (the whole range when it is a prefix, as SelectorFromPrefix
// makes it; ports and protocol are not looked at): the PF_KEY selector
// of a traffic selector.
func (s Selector) Prefix() netip.Prefix {
	bits := s.Start.BitLen()
	for b := 0; b <= bits; b++ {
		p := netip.PrefixFrom(s.Start, b).Masked()
		if p.Addr() == s.Start && lastAddr(p).Compare(s.End) <= 0 {
			return p
		}
	}
	return netip.PrefixFrom(s.Start, bits)
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As16()
	bits := p.Bits()
	off := 0
	if p.Addr().Is4() {
		off = 96
	}
	for i := bits + off; i < 128; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	r := netip.AddrFrom16(a)
	if p.Addr().Is4() {
		r = r.Unmap()
	}
	return r
}
