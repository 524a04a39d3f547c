package isakmp

import (
	"encoding/binary"
	"fmt"
)

// GenericHeaderLen is the size of the generic payload header.
const GenericHeaderLen = 4

// Payload is one payload of the chain. AppendBody and DecodeBody handle what
// follows the generic payload header (RFC 2408 section 3.2:
// Next Payload (1) | RESERVED (1) | Payload Length (2)).
type Payload interface {
	PayloadType() PayloadType
	AppendBody(b []byte) ([]byte, error)
	DecodeBody(b []byte) error
}

// Raw is a payload of a type this codec does not interpret.
type Raw struct {
	Type PayloadType
	Data []byte
}

func (r *Raw) PayloadType() PayloadType { return r.Type }

func (r *Raw) AppendBody(b []byte) ([]byte, error) { return append(b, r.Data...), nil }

func (r *Raw) DecodeBody(b []byte) error { r.Data = append([]byte(nil), b...); return nil }

func newPayload(t PayloadType) Payload {
	switch t {
	case PayloadSA:
		return &SA{}
	case PayloadKE:
		return &KE{}
	case PayloadID:
		return &ID{}
	case PayloadCert:
		return &Cert{}
	case PayloadCR:
		return &CertRequest{}
	case PayloadHash:
		return &Hash{}
	case PayloadSig:
		return &Signature{}
	case PayloadNonce:
		return &Nonce{}
	case PayloadNotification:
		return &Notification{}
	case PayloadDelete:
		return &Delete{}
	case PayloadVendorID:
		return &VendorID{}
	}
	return &Raw{Type: t}
}

// AppendPayloads appends the payload chain with correct Next Payload and
// Payload Length fields and returns the type of the first payload.
func AppendPayloads(b []byte, ps []Payload) ([]byte, PayloadType, error) {
	first := PayloadNone
	if len(ps) > 0 {
		first = ps[0].PayloadType()
	}
	for i, p := range ps {
		if p == nil {
			return nil, 0, fmt.Errorf("isakmp: payload %d is nil", i)
		}
		t := p.PayloadType()
		if t == PayloadNone || t == PayloadProposal || t == PayloadTransform {
			return nil, 0, fmt.Errorf("isakmp: payload %d: %s cannot be in the message chain", i, t)
		}
		next := PayloadNone
		if i+1 < len(ps) && ps[i+1] != nil {
			next = ps[i+1].PayloadType()
		}
		start := len(b)
		b = append(b, byte(next), 0, 0, 0)
		var err error
		b, err = p.AppendBody(b)
		if err != nil {
			return nil, 0, fmt.Errorf("isakmp: %s payload: %w", t, err)
		}
		n := len(b) - start
		if n > 0xffff {
			return nil, 0, fmt.Errorf("isakmp: %s payload: length %d exceeds 65535", t, n)
		}
		binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	}
	return b, first, nil
}

// ParsePayloads decodes a payload chain starting with type first. base is
// the offset of b in the message (for errors). With padding set, bytes after
// the last payload are allowed (decrypted messages end with padding) and
// returned; otherwise they are an error.
func ParsePayloads(first PayloadType, b []byte, base int, padding bool) ([]Payload, []byte, error) {
	var out []Payload
	t := first
	off := 0
	for t != PayloadNone {
		where := t.String() + " payload"
		if len(b)-off < GenericHeaderLen {
			return nil, nil, errf(where, base+off, "%d bytes left, too short for the generic payload header", len(b)-off)
		}
		next := PayloadType(b[off])
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		if n < GenericHeaderLen {
			return nil, nil, errf(where, base+off, "payload length %d is shorter than the generic header", n)
		}
		if n > len(b)-off {
			return nil, nil, errf(where, base+off, "payload length %d runs past the end (%d bytes left)", n, len(b)-off)
		}
		if t == PayloadProposal || t == PayloadTransform {
			return nil, nil, errf(where, base+off, "%s payloads may appear only inside an SA payload", t)
		}
		p := newPayload(t)
		if err := p.DecodeBody(b[off+GenericHeaderLen : off+n]); err != nil {
			return nil, nil, shift(err, base+off+GenericHeaderLen)
		}
		out = append(out, p)
		off += n
		t = next
	}
	if off < len(b) && !padding {
		return nil, nil, errf("payload chain", base+off, "%d bytes after the last payload", len(b)-off)
	}
	return out, b[off:], nil
}
