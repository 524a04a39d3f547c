package msg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Header is the IKE header (RFC 7296 section 3.1).
type Header struct {
	SPIi, SPIr uint64
	Next       PayloadType
	Version    uint8
	Exchange   ExchangeType
	Flags      Flags
	MessageID  uint32
	Length     uint32
}

// Message is an IKE message: the header and its payloads. For messages
// protected by an SK payload, Payloads are the inner (plaintext) payloads
// after Decrypt, and Encrypted holds the SK payload as received.
type Message struct {
	Header
	Payloads  []Payload
	Encrypted *Encrypted
}

// Error is a decoding error naming the exchange, the payload and the offset.
type Error struct {
	Exchange ExchangeType
	Payload  PayloadType
	Offset   int
	Err      error
}

func (e *Error) Error() string {
	return fmt.Sprintf("ikev2: %v: %v payload at offset %d: %v", e.Exchange, e.Payload, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Decoding errors.
var (
	ErrShort     = errors.New("truncated")
	ErrLength    = errors.New("bad length")
	ErrVersion   = errors.New("unsupported major version")
	ErrCritical  = errors.New("unsupported critical payload")
	ErrAuth      = errors.New("integrity check failed")
	ErrPadding   = errors.New("bad padding")
	ErrNotSK     = errors.New("no SK payload")
	ErrSKNotLast = errors.New("SK payload is not the last payload")
)

// IsResponse reports whether the R flag is set.
func (h *Header) IsResponse() bool { return h.Flags&FlagResponse != 0 }

// IsInitiator reports whether the I flag (sender is original initiator) is set.
func (h *Header) IsInitiator() bool { return h.Flags&FlagInitiator != 0 }

func (h *Header) append(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, h.SPIi)
	b = binary.BigEndian.AppendUint64(b, h.SPIr)
	v := h.Version
	if v == 0 {
		v = IKEv2Version
	}
	b = append(b, byte(h.Next), v, byte(h.Exchange), byte(h.Flags))
	b = binary.BigEndian.AppendUint32(b, h.MessageID)
	return binary.BigEndian.AppendUint32(b, h.Length)
}

// ParseHeader decodes the IKE header of b.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderLen {
		return h, &Error{Payload: PayloadNone, Err: fmt.Errorf("header: %w (%d octets)", ErrShort, len(b))}
	}
	h.SPIi = binary.BigEndian.Uint64(b)
	h.SPIr = binary.BigEndian.Uint64(b[8:])
	h.Next = PayloadType(b[16])
	h.Version = b[17]
	h.Exchange = ExchangeType(b[18])
	h.Flags = Flags(b[19])
	h.MessageID = binary.BigEndian.Uint32(b[20:])
	h.Length = binary.BigEndian.Uint32(b[24:])
	if h.Version>>4 != 2 {
		return h, &Error{Exchange: h.Exchange, Err: fmt.Errorf("header: %w 0x%02x", ErrVersion, h.Version)}
	}
	if h.Length < HeaderLen || int64(h.Length) != int64(len(b)) {
		return h, &Error{Exchange: h.Exchange, Err: fmt.Errorf("header: %w: says %d, datagram has %d", ErrLength, h.Length, len(b))}
	}
	return h, nil
}

// appendPayloads encodes a payload chain and returns the type of the first.
func appendPayloads(b []byte, ps []Payload, after PayloadType) ([]byte, PayloadType) {
	first := after
	if len(ps) > 0 {
		first = ps[0].Type()
	}
	for i, p := range ps {
		next := after
		if i+1 < len(ps) {
			next = ps[i+1].Type()
		}
		start := len(b)
		crit := byte(0)
		if u, ok := p.(*Unknown); ok && u.Critical {
			crit = 0x80
		}
		b = append(b, byte(next), crit, 0, 0)
		b = p.appendBody(b)
		binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	}
	return b, first
}

// Marshal encodes m in clear (IKE_SA_INIT and unprotected notifies). The
// header's Next and Length are computed.
func (m *Message) Marshal() []byte {
	body, first := appendPayloads(nil, m.Payloads, PayloadNone)
	h := m.Header
	h.Next = first
	h.Length = uint32(HeaderLen + len(body))
	return append(h.append(make([]byte, 0, int(h.Length))), body...)
}

// Protector encrypts and authenticates SK payloads: AES-CBC with an HMAC,
// or an AEAD such as AES-GCM.
type Protector interface {
	// SealedLen is the length of the SK payload body (IV, ciphertext
	// with padding and pad length, ICV) for n octets of inner payloads.
	SealedLen(n int) int
	// Seal returns the SK body for plain; head is the message from the
	// IKE header through the SK generic header (its lengths final).
	Seal(head, plain []byte) ([]byte, error)
	// Open checks and decrypts an SK body; head as for Seal. It returns
	// the inner payloads without padding.
	Open(head, body []byte) ([]byte, error)
}

// MarshalEncrypted encodes m with all its payloads inside an SK payload.
func (m *Message) MarshalEncrypted(p Protector) ([]byte, error) {
	inner, first := appendPayloads(nil, m.Payloads, PayloadNone)
	skLen := GenericHeaderLen + p.SealedLen(len(inner))
	h := m.Header
	h.Next = PayloadSK
	h.Length = uint32(HeaderLen + skLen)
	b := h.append(make([]byte, 0, int(h.Length)))
	b = append(b, byte(first), 0)
	b = be16(b, uint16(skLen))
	body, err := p.Seal(b, inner)
	if err != nil {
		return nil, fmt.Errorf("ikev2: %v: SK payload: %w", h.Exchange, err)
	}
	if len(body) != skLen-GenericHeaderLen {
		return nil, fmt.Errorf("ikev2: %v: SK payload: sealed %d octets, expected %d", h.Exchange, len(body), skLen-GenericHeaderLen)
	}
	return append(b, body...), nil
}

// Parse decodes an IKE message. Payloads before an SK payload are
// decoded; the SK payload is kept in m.Encrypted for Decrypt.
func Parse(b []byte) (*Message, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	m := &Message{Header: h}
	ps, enc, err := parsePayloads(b, HeaderLen, h.Next, h.Exchange, true)
	if err != nil {
		return nil, err
	}
	m.Payloads = ps
	m.Encrypted = enc
	return m, nil
}

// Decrypt opens m's SK payload (raw is the whole datagram Parse decoded)
// and appends the inner payloads to m.Payloads.
func (m *Message) Decrypt(raw []byte, p Protector) error {
	if m.Encrypted == nil {
		return &Error{Exchange: m.Exchange, Payload: PayloadSK, Err: ErrNotSK}
	}
	off := m.Encrypted.Offset
	if off+GenericHeaderLen > len(raw) {
		return &Error{Exchange: m.Exchange, Payload: PayloadSK, Offset: off, Err: ErrShort}
	}
	plain, err := p.Open(raw[:off+GenericHeaderLen], m.Encrypted.Body)
	if err != nil {
		return &Error{Exchange: m.Exchange, Payload: PayloadSK, Offset: off, Err: err}
	}
	ps, _, err := parsePayloads(plain, 0, m.Encrypted.First, m.Exchange, false)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Err = fmt.Errorf("inside SK: %w", e.Err)
		}
		return err
	}
	m.Payloads = append(m.Payloads, ps...)
	return nil
}

func parsePayloads(b []byte, off int, next PayloadType, ex ExchangeType, outer bool) ([]Payload, *Encrypted, error) {
	var ps []Payload
	for next != PayloadNone {
		if off+GenericHeaderLen > len(b) {
			return nil, nil, &Error{Exchange: ex, Payload: next, Offset: off, Err: ErrShort}
		}
		nn := PayloadType(b[off])
		crit := b[off+1]&0x80 != 0
		l := int(binary.BigEndian.Uint16(b[off+2:]))
		if l < GenericHeaderLen || off+l > len(b) {
			return nil, nil, &Error{Exchange: ex, Payload: next, Offset: off, Err: fmt.Errorf("%w %d", ErrLength, l)}
		}
		body := b[off+GenericHeaderLen : off+l]
		if next == PayloadSK && outer {
			if nn != PayloadNone && off+l != len(b) {
				return nil, nil, &Error{Exchange: ex, Payload: next, Offset: off, Err: ErrSKNotLast}
			}
			if off+l != len(b) {
				return nil, nil, &Error{Exchange: ex, Payload: next, Offset: off, Err: ErrSKNotLast}
			}
			return ps, &Encrypted{First: nn, Body: clone(body), Offset: off}, nil
		}
		p, err := parseBody(next, crit, body)
		if err != nil {
			return nil, nil, &Error{Exchange: ex, Payload: next, Offset: off, Err: err}
		}
		ps = append(ps, p)
		off += l
		next = nn
	}
	if off != len(b) {
		return nil, nil, &Error{Exchange: ex, Payload: PayloadNone, Offset: off, Err: fmt.Errorf("%d trailing octets", len(b)-off)}
	}
	return ps, nil, nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func need(b []byte, n int, what string) error {
	if len(b) < n {
		return fmt.Errorf("%s: %w (%d < %d)", what, ErrShort, len(b), n)
	}
	return nil
}

func parseBody(t PayloadType, crit bool, b []byte) (Payload, error) {
	switch t {
	case PayloadSA:
		return parseSA(b)
	case PayloadKE:
		if err := need(b, 4, "KE"); err != nil {
			return nil, err
		}
		return &KE{Group: binary.BigEndian.Uint16(b), Data: clone(b[4:])}, nil
	case PayloadIDi, PayloadIDr:
		if err := need(b, 4, "ID"); err != nil {
			return nil, err
		}
		return &ID{Responder: t == PayloadIDr, IDType: b[0], Data: clone(b[4:])}, nil
	case PayloadCERT, PayloadCERTREQ:
		if err := need(b, 1, "CERT"); err != nil {
			return nil, err
		}
		return &Cert{Request: t == PayloadCERTREQ, Encoding: b[0], Data: clone(b[1:])}, nil
	case PayloadAUTH:
		if err := need(b, 4, "AUTH"); err != nil {
			return nil, err
		}
		return &Auth{Method: b[0], Data: clone(b[4:])}, nil
	case PayloadNonce:
		if len(b) < 16 || len(b) > 256 {
			return nil, fmt.Errorf("nonce of %d octets (16-256): %w", len(b), ErrLength)
		}
		return &Nonce{Data: clone(b)}, nil
	case PayloadNotify:
		if err := need(b, 4, "Notify"); err != nil {
			return nil, err
		}
		n := &Notify{Protocol: ProtocolID(b[0]), NotType: NotifyType(binary.BigEndian.Uint16(b[2:]))}
		ss := int(b[1])
		if err := need(b, 4+ss, "Notify SPI"); err != nil {
			return nil, err
		}
		if ss > 0 {
			n.SPI = clone(b[4 : 4+ss])
		}
		if len(b) > 4+ss {
			n.Data = clone(b[4+ss:])
		}
		return n, nil
	case PayloadDelete:
		if err := need(b, 4, "Delete"); err != nil {
			return nil, err
		}
		d := &Delete{Protocol: ProtocolID(b[0]), SPISize: b[1]}
		n := int(binary.BigEndian.Uint16(b[2:]))
		if len(b)-4 != n*int(d.SPISize) {
			return nil, fmt.Errorf("Delete: %d SPIs of %d octets in %d octets: %w", n, d.SPISize, len(b)-4, ErrLength)
		}
		if d.SPISize == 0 && n != 0 {
			return nil, fmt.Errorf("Delete: %d SPIs of size 0: %w", n, ErrLength)
		}
		for i := 0; i < n; i++ {
			o := 4 + i*int(d.SPISize)
			d.SPIs = append(d.SPIs, clone(b[o:o+int(d.SPISize)]))
		}
		return d, nil
	case PayloadVendorID:
		return &VendorID{Data: clone(b)}, nil
	case PayloadTSi, PayloadTSr:
		return parseTS(t == PayloadTSr, b)
	case PayloadCP:
		if err := need(b, 4, "CP"); err != nil {
			return nil, err
		}
		c := &CP{CfgType: b[0]}
		for o := 4; o < len(b); {
			if err := need(b[o:], 4, "CP attribute"); err != nil {
				return nil, err
			}
			at := binary.BigEndian.Uint16(b[o:]) & 0x7fff
			l := int(binary.BigEndian.Uint16(b[o+2:]))
			if err := need(b[o+4:], l, "CP attribute value"); err != nil {
				return nil, err
			}
			c.Attrs = append(c.Attrs, CfgAttribute{Type: at, Value: clone(b[o+4 : o+4+l])})
			o += 4 + l
		}
		return c, nil
	case PayloadEAP:
		if err := need(b, 4, "EAP"); err != nil {
			return nil, err
		}
		if int(binary.BigEndian.Uint16(b[2:])) != len(b) {
			return nil, fmt.Errorf("EAP: length field %d, payload %d: %w", binary.BigEndian.Uint16(b[2:]), len(b), ErrLength)
		}
		return &EAP{Data: clone(b)}, nil
	case PayloadSK:
		return nil, errors.New("nested SK payload")
	}
	if crit {
		return nil, ErrCritical
	}
	return &Unknown{PType: t, Critical: crit, Data: clone(b)}, nil
}

func parseSA(b []byte) (*SA, error) {
	sa := &SA{}
	for o := 0; o < len(b); {
		if err := need(b[o:], 8, "proposal"); err != nil {
			return nil, err
		}
		last := b[o]
		l := int(binary.BigEndian.Uint16(b[o+2:]))
		if l < 8 || o+l > len(b) {
			return nil, fmt.Errorf("proposal length %d: %w", l, ErrLength)
		}
		pb := b[o : o+l]
		p := Proposal{Num: pb[4], Protocol: ProtocolID(pb[5])}
		ss, nt := int(pb[6]), int(pb[7])
		if 8+ss > l {
			return nil, fmt.Errorf("proposal %d SPI size %d: %w", p.Num, ss, ErrLength)
		}
		if ss > 0 {
			p.SPI = clone(pb[8 : 8+ss])
		}
		to := 8 + ss
		for i := 0; i < nt; i++ {
			if err := need(pb[to:], 8, fmt.Sprintf("proposal %d transform %d", p.Num, i+1)); err != nil {
				return nil, err
			}
			tl := int(binary.BigEndian.Uint16(pb[to+2:]))
			if tl < 8 || to+tl > l {
				return nil, fmt.Errorf("proposal %d transform %d length %d: %w", p.Num, i+1, tl, ErrLength)
			}
			if (i == nt-1) != (pb[to] == 0) {
				return nil, fmt.Errorf("proposal %d transform %d: last-substructure %d: %w", p.Num, i+1, pb[to], ErrLength)
			}
			t := Transform{Type: TransformType(pb[to+4]), ID: binary.BigEndian.Uint16(pb[to+6:])}
			ab := pb[to+8 : to+tl]
			for ao := 0; ao < len(ab); {
				if err := need(ab[ao:], 4, "attribute"); err != nil {
					return nil, err
				}
				at := binary.BigEndian.Uint16(ab[ao:])
				if at&0x8000 != 0 {
					t.Attrs = append(t.Attrs, Attribute{Type: at & 0x7fff, TV: true, Value: binary.BigEndian.Uint16(ab[ao+2:])})
					ao += 4
					continue
				}
				al := int(binary.BigEndian.Uint16(ab[ao+2:]))
				if err := need(ab[ao+4:], al, "attribute value"); err != nil {
					return nil, err
				}
				t.Attrs = append(t.Attrs, Attribute{Type: at, Data: clone(ab[ao+4 : ao+4+al])})
				ao += 4 + al
			}
			p.Transforms = append(p.Transforms, t)
			to += tl
		}
		if to != l {
			return nil, fmt.Errorf("proposal %d: %d octets after the transforms: %w", p.Num, l-to, ErrLength)
		}
		sa.Proposals = append(sa.Proposals, p)
		o += l
		if (o == len(b)) != (last == 0) {
			return nil, fmt.Errorf("proposal %d: last-substructure %d: %w", p.Num, last, ErrLength)
		}
	}
	if len(sa.Proposals) == 0 {
		return nil, errors.New("no proposals")
	}
	return sa, nil
}

func parseTS(resp bool, b []byte) (*TS, error) {
	if err := need(b, 4, "TS"); err != nil {
		return nil, err
	}
	ts := &TS{Responder: resp}
	n := int(b[0])
	o := 4
	for i := 0; i < n; i++ {
		if err := need(b[o:], 8, "selector"); err != nil {
			return nil, err
		}
		s := Selector{TSType: b[o], IPProto: b[o+1]}
		l := int(binary.BigEndian.Uint16(b[o+2:]))
		s.StartPort = binary.BigEndian.Uint16(b[o+4:])
		s.EndPort = binary.BigEndian.Uint16(b[o+6:])
		switch s.TSType {
		case TSIPv4AddrRange:
			if l != 16 || o+l > len(b) {
				return nil, fmt.Errorf("selector %d IPv4 length %d: %w", i+1, l, ErrLength)
			}
			s.Start = netip.AddrFrom4([4]byte(b[o+8 : o+12]))
			s.End = netip.AddrFrom4([4]byte(b[o+12 : o+16]))
		case TSIPv6AddrRange:
			if l != 40 || o+l > len(b) {
				return nil, fmt.Errorf("selector %d IPv6 length %d: %w", i+1, l, ErrLength)
			}
			s.Start = netip.AddrFrom16([16]byte(b[o+8 : o+24]))
			s.End = netip.AddrFrom16([16]byte(b[o+24 : o+40]))
		default:
			return nil, fmt.Errorf("selector %d type %d unsupported", i+1, s.TSType)
		}
		ts.Selectors = append(ts.Selectors, s)
		o += l
	}
	if o != len(b) {
		return nil, fmt.Errorf("TS: %d trailing octets: %w", len(b)-o, ErrLength)
	}
	return ts, nil
}

// Notifies returns m's Notify payloads of type t.
func (m *Message) Notifies(t NotifyType) []*Notify {
	var r []*Notify
	for _, p := range m.Payloads {
		if n, ok := p.(*Notify); ok && n.NotType == t {
			r = append(r, n)
		}
	}
	return r
}

// Notify returns m's first Notify of type t, or nil.
func (m *Message) Notify(t NotifyType) *Notify {
	if ns := m.Notifies(t); len(ns) > 0 {
		return ns[0]
	}
	return nil
}

// FirstError returns the first error Notify, or nil.
func (m *Message) FirstError() *Notify {
	for _, p := range m.Payloads {
		if n, ok := p.(*Notify); ok && n.NotType.IsError() {
			return n
		}
	}
	return nil
}

// Get returns the first payload of type T.
func Get[T Payload](m *Message) T {
	var zero T
	for _, p := range m.Payloads {
		if v, ok := p.(T); ok {
			return v
		}
	}
	return zero
}

// GetTS returns the TSi (responder false) or TSr payload.
func (m *Message) GetTS(responder bool) *TS {
	for _, p := range m.Payloads {
		if t, ok := p.(*TS); ok && t.Responder == responder {
			return t
		}
	}
	return nil
}

// GetID returns the IDi (responder false) or IDr payload.
func (m *Message) GetID(responder bool) *ID {
	for _, p := range m.Payloads {
		if t, ok := p.(*ID); ok && t.Responder == responder {
			return t
		}
	}
	return nil
}
