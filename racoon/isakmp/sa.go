package isakmp

import (
	"encoding/binary"
	"fmt"
)

// SA is the Security Association payload (RFC 2408 section 3.4) with the
// IPsec DOI situation (RFC 2407 section 4.6.1):
//
//	DOI (4) | Situation (4) | Proposal payloads
//
// Situations with the SECRECY or INTEGRITY bits (labeled domains) are not
// supported: no implementation in use sends them.
type SA struct {
	DOI       uint32
	Situation uint32
	Proposals []Proposal
}

// Proposal is a Proposal payload (RFC 2408 section 3.5):
//
//	generic header (Next Payload 2 or 0) | Proposal # (1) | Protocol-Id (1) |
//	SPI Size (1) | # of Transforms (1) | SPI (SPI Size) | Transform payloads
type Proposal struct {
	Number     uint8
	ProtocolID ProtocolID
	SPI        []byte
	Transforms []Transform
}

// Transform is a Transform payload (RFC 2408 section 3.6):
//
//	generic header (Next Payload 3 or 0) | Transform # (1) | Transform-Id (1) |
//	RESERVED2 (2) | SA Attributes
type Transform struct {
	Number     uint8
	ID         uint8
	Attributes []Attribute
}

func (s *SA) PayloadType() PayloadType { return PayloadSA }

// Attr returns the first attribute of type t.
func (t *Transform) Attr(typ uint16) (Attribute, bool) {
	for _, a := range t.Attributes {
		if a.Type == typ {
			return a, true
		}
	}
	return Attribute{}, false
}

func (s *SA) AppendBody(b []byte) ([]byte, error) {
	if s.DOI == DOIIPsec && s.Situation&(SitSecrecy|SitIntegrity) != 0 {
		return nil, fmt.Errorf("situation %#x with secrecy or integrity is not supported", s.Situation)
	}
	b = binary.BigEndian.AppendUint32(b, s.DOI)
	b = binary.BigEndian.AppendUint32(b, s.Situation)
	for i, p := range s.Proposals {
		next := PayloadNone
		if i+1 < len(s.Proposals) {
			next = PayloadProposal
		}
		if len(p.SPI) > 255 || len(p.Transforms) > 255 {
			return nil, fmt.Errorf("proposal %d: SPI of %d bytes or %d transforms", p.Number, len(p.SPI), len(p.Transforms))
		}
		start := len(b)
		b = append(b, byte(next), 0, 0, 0, p.Number, byte(p.ProtocolID), byte(len(p.SPI)), byte(len(p.Transforms)))
		b = append(b, p.SPI...)
		for j, t := range p.Transforms {
			tnext := PayloadNone
			if j+1 < len(p.Transforms) {
				tnext = PayloadTransform
			}
			ts := len(b)
			b = append(b, byte(tnext), 0, 0, 0, t.Number, t.ID, 0, 0)
			var err error
			if b, err = appendAttributes(b, t.Attributes); err != nil {
				return nil, fmt.Errorf("proposal %d transform %d: %w", p.Number, t.Number, err)
			}
			if len(b)-ts > 0xffff {
				return nil, fmt.Errorf("transform %d too long", t.Number)
			}
			binary.BigEndian.PutUint16(b[ts+2:], uint16(len(b)-ts))
		}
		if len(b)-start > 0xffff {
			return nil, fmt.Errorf("proposal %d too long", p.Number)
		}
		binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	}
	return b, nil
}

func (s *SA) DecodeBody(b []byte) error {
	const where = "SA payload"
	if len(b) < 8 {
		return errf(where, 0, "%d bytes, shorter than DOI and situation", len(b))
	}
	s.DOI = binary.BigEndian.Uint32(b)
	s.Situation = binary.BigEndian.Uint32(b[4:])
	if s.DOI == DOIIPsec && s.Situation&(SitSecrecy|SitIntegrity) != 0 {
		return errf(where, 4, "situation %#x with secrecy or integrity (labeled domains) is not supported", s.Situation)
	}
	s.Proposals = nil
	off := 8
	if off == len(b) {
		return errf(where, off, "no proposal")
	}
	next := PayloadProposal
	for next != PayloadNone {
		if next != PayloadProposal {
			return errf("Proposal payload", off, "next payload %s inside an SA payload (want Proposal or NONE)", next)
		}
		if len(b)-off < 8 {
			return errf("Proposal payload", off, "%d bytes left, shorter than a proposal header", len(b)-off)
		}
		next = PayloadType(b[off])
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		if n < 8 || n > len(b)-off {
			return errf("Proposal payload", off, "proposal length %d out of range (8..%d)", n, len(b)-off)
		}
		p, err := decodeProposal(b[off : off+n])
		if err != nil {
			return shift(err, off)
		}
		s.Proposals = append(s.Proposals, p)
		off += n
	}
	if off != len(b) {
		return errf(where, off, "%d bytes after the last proposal", len(b)-off)
	}
	return nil
}

// decodeProposal reads one proposal payload, generic header included.
func decodeProposal(b []byte) (Proposal, error) {
	const where = "Proposal payload"
	p := Proposal{Number: b[4], ProtocolID: ProtocolID(b[5])}
	spiSize, count := int(b[6]), int(b[7])
	off := 8
	if spiSize > len(b)-off {
		return p, errf(where, 6, "SPI size %d runs past the proposal (%d bytes left)", spiSize, len(b)-off)
	}
	p.SPI = append([]byte(nil), b[off:off+spiSize]...)
	off += spiSize
	if count == 0 {
		return p, errf(where, 7, "no transform")
	}
	next := PayloadTransform
	for next != PayloadNone {
		if next != PayloadTransform {
			return p, errf("Transform payload", off, "next payload %s inside a proposal (want Transform or NONE)", next)
		}
		if len(b)-off < 8 {
			return p, errf("Transform payload", off, "%d bytes left, shorter than a transform header", len(b)-off)
		}
		next = PayloadType(b[off])
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		if n < 8 || n > len(b)-off {
			return p, errf("Transform payload", off, "transform length %d out of range (8..%d)", n, len(b)-off)
		}
		attrs, err := decodeAttributes(b[off+8:off+n], "Transform payload", off+8)
		if err != nil {
			return p, err
		}
		p.Transforms = append(p.Transforms, Transform{Number: b[off+4], ID: b[off+5], Attributes: attrs})
		off += n
	}
	if off != len(b) {
		return p, errf(where, off, "%d bytes after the last transform", len(b)-off)
	}
	if len(p.Transforms) != count {
		return p, errf(where, 7, "# of transforms is %d but %d transforms follow", count, len(p.Transforms))
	}
	return p, nil
}
