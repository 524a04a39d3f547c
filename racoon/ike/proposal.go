package ike

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/ikectx/ikectx/racoon/isakmp"
)

// Proposal1 is one phase-1 transform: the four algorithms and a lifetime.
type Proposal1 struct {
	Enc      uint16 // Oakley encryption algorithm
	KeyBits  int    // 0: the cipher's default (and no Key Length attribute)
	Hash     uint16
	Auth     uint16 // only pre-shared keys are implemented
	Group    uint16
	Lifetime time.Duration
}

func (p Proposal1) String() string {
	return fmt.Sprintf("enc=%d/%d hash=%d auth=%d group=%d life=%s", p.Enc, p.KeyBits, p.Hash, p.Auth, p.Group, p.Lifetime)
}

func lifeAttrs(typ, durType uint16, d time.Duration) []isakmp.Attribute {
	if d <= 0 {
		return nil
	}
	s := uint64(d / time.Second)
	a := []isakmp.Attribute{isakmp.Basic(typ, 1)}
	if s <= 0xffff {
		a = append(a, isakmp.Basic(durType, uint16(s)))
	} else {
		a = append(a, isakmp.VariableUint(durType, s))
	}
	return a
}

// attrs is the transform's attribute list in racoon's order.
func (p Proposal1) attrs() []isakmp.Attribute {
	a := lifeAttrs(isakmp.OakleyLifeType, isakmp.OakleyLifeDuration, p.Lifetime)
	a = append(a, isakmp.Basic(isakmp.OakleyEncryptionAlgorithm, p.Enc),
		isakmp.Basic(isakmp.OakleyAuthMethod, p.Auth),
		isakmp.Basic(isakmp.OakleyHashAlgorithm, p.Hash),
		isakmp.Basic(isakmp.OakleyGroupDescription, p.Group))
	if p.KeyBits != 0 {
		a = append(a, isakmp.Basic(isakmp.OakleyKeyLength, uint16(p.KeyBits)))
	}
	return a
}

// Phase1SA builds the initiator's SA payload: one ISAKMP proposal with one
// transform per proposal, numbered from 1.
func Phase1SA(ps []Proposal1) *isakmp.SA {
	prop := isakmp.Proposal{Number: 1, ProtocolID: isakmp.ProtoISAKMP}
	for i, p := range ps {
		prop.Transforms = append(prop.Transforms, isakmp.Transform{Number: uint8(i + 1), ID: isakmp.TransformKeyIKE, Attributes: p.attrs()})
	}
	return &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SitIdentityOnly, Proposals: []isakmp.Proposal{prop}}
}

// ParseTransform1 reads a phase-1 transform's attributes.
func ParseTransform1(t *isakmp.Transform) (Proposal1, error) {
	var p Proposal1
	if t.ID != isakmp.TransformKeyIKE {
		return p, fmt.Errorf("transform ID %d is not KEY_IKE", t.ID)
	}
	var lifeType uint64
	for _, a := range t.Attributes {
		v, err := a.Uint()
		if err != nil {
			return p, err
		}
		switch a.Type {
		case isakmp.OakleyEncryptionAlgorithm:
			p.Enc = uint16(v)
		case isakmp.OakleyHashAlgorithm:
			p.Hash = uint16(v)
		case isakmp.OakleyAuthMethod:
			p.Auth = uint16(v)
		case isakmp.OakleyGroupDescription:
			p.Group = uint16(v)
		case isakmp.OakleyKeyLength:
			p.KeyBits = int(v)
		case isakmp.OakleyLifeType:
			lifeType = v
		case isakmp.OakleyLifeDuration:
			if lifeType == uint64(isakmp.LifeSeconds) {
				p.Lifetime = time.Duration(v) * time.Second
			}
		case isakmp.OakleyPRF:
			return p, fmt.Errorf("PRF attribute %d is not supported", v)
		case isakmp.OakleyGroupType, isakmp.OakleyGroupPrime, isakmp.OakleyGroupGeneratorOne, isakmp.OakleyGroupGeneratorTwo:
			return p, fmt.Errorf("private DH groups are not supported")
		}
	}
	if p.Enc == 0 || p.Hash == 0 || p.Auth == 0 || p.Group == 0 {
		return p, fmt.Errorf("transform %d lacks an encryption, hash, authentication or group attribute", t.Number)
	}
	return p, nil
}

// same reports whether two proposals name the same algorithms (lifetimes
// are compared by the callers).
func (p Proposal1) same(q Proposal1) bool {
	kb := func(x Proposal1) int {
		if x.KeyBits == 0 && x.Enc == isakmp.EncAES {
			return 128
		}
		return x.KeyBits
	}
	return p.Enc == q.Enc && kb(p) == kb(q) && p.Hash == q.Hash && p.Auth == q.Auth && p.Group == q.Group
}

// ErrNoProposal: none of the peer's phase-1 transforms is acceptable.
var ErrNoProposal = errors.New("no acceptable phase-1 proposal")

// SelectPhase1 is the responder's choice: the first of the peer's
// transforms (in its order) that matches one of ours. The reply SA holds
// that transform alone. The lifetime is the peer's (racoon obeys in phase 1).
func SelectPhase1(sa *isakmp.SA, ours []Proposal1) (Proposal1, *isakmp.SA, error) {
	if sa.DOI != isakmp.DOIIPsec {
		return Proposal1{}, nil, fmt.Errorf("DOI %d is not IPsec", sa.DOI)
	}
	for _, prop := range sa.Proposals {
		if prop.ProtocolID != isakmp.ProtoISAKMP {
			continue
		}
		for i := range prop.Transforms {
			t := &prop.Transforms[i]
			p, err := ParseTransform1(t)
			if err != nil {
				continue
			}
			for _, o := range ours {
				if o.same(p) {
					if p.Lifetime == 0 {
						p.Lifetime = o.Lifetime
					}
					reply := &isakmp.SA{DOI: sa.DOI, Situation: sa.Situation, Proposals: []isakmp.Proposal{{
						Number: prop.Number, ProtocolID: prop.ProtocolID, SPI: prop.SPI, Transforms: []isakmp.Transform{*t}}}}
					return p, reply, nil
				}
			}
		}
	}
	return Proposal1{}, nil, ErrNoProposal
}

// Proposal2 is one phase-2 transform (one protocol of a bundle; ikectx
// negotiates ESP or AH bundles of one protocol).
type Proposal2 struct {
	Protocol  isakmp.ProtocolID // ESP or AH
	Transform uint8             // ESP: ESP3DES, ESPAES, ESPDES, ESPNull; AH: AHMD5, AHSHA, AHSHA256
	KeyBits   int
	Auth      uint16 // IPsec authentication algorithm attribute (0: none)
	Encap     uint16 // tunnel or transport
	Lifetime  time.Duration
	Group     uint16 // PFS group (0: none)
}

func (p Proposal2) String() string {
	return fmt.Sprintf("%s trns=%d/%d auth=%d encap=%d life=%s pfs=%d", p.Protocol, p.Transform, p.KeyBits, p.Auth, p.Encap, p.Lifetime, p.Group)
}

// EncKeyLen is the length of the ESP encryption key in bytes.
func (p Proposal2) EncKeyLen() int {
	if p.Protocol != isakmp.ProtoIPsecESP {
		return 0
	}
	switch p.Transform {
	case isakmp.ESPDES:
		return 8
	case isakmp.ESP3DES:
		return 24
	case isakmp.ESPAES:
		if p.KeyBits == 0 {
			return 16
		}
		return p.KeyBits / 8
	case isakmp.ESPBlowfish:
		if p.KeyBits == 0 {
			return 16
		}
		return p.KeyBits / 8
	}
	return 0
}

// AuthKeyLen is the length of the authentication key in bytes.
func (p Proposal2) AuthKeyLen() int {
	switch p.Auth {
	case isakmp.AuthAlgHMACMD5:
		return 16
	case isakmp.AuthAlgHMACSHA:
		return 20
	case isakmp.AuthAlgHMACSHA256:
		return 32
	case isakmp.AuthAlgHMACSHA384:
		return 48
	case isakmp.AuthAlgHMACSHA512:
		return 64
	}
	return 0
}

func (p Proposal2) attrs() []isakmp.Attribute {
	a := lifeAttrs(isakmp.IPsecSALifeType, isakmp.IPsecSALifeDuration, p.Lifetime)
	if p.Encap != 0 {
		a = append(a, isakmp.Basic(isakmp.IPsecEncapsulationMode, p.Encap))
	}
	if p.Auth != 0 {
		a = append(a, isakmp.Basic(isakmp.IPsecAuthAlgorithm, p.Auth))
	}
	if p.KeyBits != 0 {
		a = append(a, isakmp.Basic(isakmp.IPsecKeyLength, uint16(p.KeyBits)))
	}
	if p.Group != 0 {
		a = append(a, isakmp.Basic(isakmp.IPsecGroupDescription, p.Group))
	}
	return a
}

// Phase2SA builds a quick-mode SA payload: one proposal per protocol
// carrying the SPI, one transform per Proposal2 of that protocol.
func Phase2SA(ps []Proposal2, spi uint32) *isakmp.SA {
	sa := &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SitIdentityOnly}
	spib := binary.BigEndian.AppendUint32(nil, spi)
	for _, p := range ps {
		var prop *isakmp.Proposal
		for i := range sa.Proposals {
			if sa.Proposals[i].ProtocolID == p.Protocol {
				prop = &sa.Proposals[i]
			}
		}
		if prop == nil {
			sa.Proposals = append(sa.Proposals, isakmp.Proposal{Number: uint8(len(sa.Proposals) + 1), ProtocolID: p.Protocol, SPI: spib})
			prop = &sa.Proposals[len(sa.Proposals)-1]
		}
		prop.Transforms = append(prop.Transforms, isakmp.Transform{Number: uint8(len(prop.Transforms) + 1), ID: p.Transform, Attributes: p.attrs()})
	}
	return sa
}

// ParseTransform2 reads a phase-2 transform.
func ParseTransform2(proto isakmp.ProtocolID, t *isakmp.Transform) (Proposal2, error) {
	p := Proposal2{Protocol: proto, Transform: t.ID}
	var lifeType uint64
	for _, a := range t.Attributes {
		v, err := a.Uint()
		if err != nil {
			return p, err
		}
		switch a.Type {
		case isakmp.IPsecSALifeType:
			lifeType = v
		case isakmp.IPsecSALifeDuration:
			if lifeType == uint64(isakmp.LifeSeconds) {
				p.Lifetime = time.Duration(v) * time.Second
			}
		case isakmp.IPsecEncapsulationMode:
			p.Encap = uint16(v)
		case isakmp.IPsecAuthAlgorithm:
			p.Auth = uint16(v)
		case isakmp.IPsecKeyLength:
			p.KeyBits = int(v)
		case isakmp.IPsecGroupDescription:
			p.Group = uint16(v)
		}
	}
	if p.Encap == 0 {
		p.Encap = isakmp.EncapTunnel
	}
	return p, nil
}

func (p Proposal2) sameAlgs(q Proposal2) bool {
	enc := func(x Proposal2) int { return x.EncKeyLen() }
	return p.Protocol == q.Protocol && p.Transform == q.Transform && enc(p) == enc(q) && p.Auth == q.Auth && normEncap(p.Encap) == normEncap(q.Encap)
}

// normEncap maps the UDP-encapsulated modes (RFC 3947 and the drafts'
// 61443/61444) to the plain ones for matching.
func normEncap(e uint16) uint16 {
	switch e {
	case isakmp.EncapUDPTunnel, 61443:
		return isakmp.EncapTunnel
	case isakmp.EncapUDPTransport, 61444:
		return isakmp.EncapTransport
	}
	return e
}

// ProposalCheck is racoon's proposal_check level for phase 2.
type ProposalCheck int

const (
	CheckObey ProposalCheck = iota
	CheckStrict
	CheckClaim
	CheckExact
)

// SelectPhase2 is the responder's choice of the peer's first acceptable
// transform under proposal_check. It returns the agreed proposal (lifetime
// and group as agreed), the peer's SPI and the reply SA's transform.
func SelectPhase2(sa *isakmp.SA, ours []Proposal2, pfs uint16, check ProposalCheck) (Proposal2, uint32, *isakmp.Proposal, error) {
	if sa.DOI != isakmp.DOIIPsec {
		return Proposal2{}, 0, nil, fmt.Errorf("DOI %d is not IPsec", sa.DOI)
	}
	var reason error = fmt.Errorf("no acceptable phase-2 proposal")
	for _, prop := range sa.Proposals {
		if prop.ProtocolID != isakmp.ProtoIPsecESP && prop.ProtocolID != isakmp.ProtoIPsecAH {
			continue
		}
		if len(prop.SPI) != 4 {
			continue
		}
		spi := binary.BigEndian.Uint32(prop.SPI)
		for i := range prop.Transforms {
			t := &prop.Transforms[i]
			p, err := ParseTransform2(prop.ProtocolID, t)
			if err != nil {
				continue
			}
			for _, o := range ours {
				if !o.sameAlgs(p) {
					continue
				}
				agreed := p
				switch check {
				case CheckObey:
				case CheckStrict, CheckClaim:
					if o.Lifetime > 0 && (p.Lifetime == 0 || p.Lifetime > o.Lifetime) {
						if check == CheckStrict {
							reason = fmt.Errorf("proposal_check strict: peer's lifetime %s longer than ours %s", p.Lifetime, o.Lifetime)
							continue
						}
						agreed.Lifetime = o.Lifetime
					}
					if pfs != 0 && p.Group != pfs {
						reason = fmt.Errorf("proposal_check %v: PFS group %d, ours %d", check, p.Group, pfs)
						continue
					}
				case CheckExact:
					if p.Lifetime != o.Lifetime || p.Group != pfs {
						reason = fmt.Errorf("proposal_check exact: lifetime %s/%s group %d/%d differ", p.Lifetime, o.Lifetime, p.Group, pfs)
						continue
					}
				}
				if agreed.Lifetime == 0 {
					agreed.Lifetime = o.Lifetime
				}
				reply := &isakmp.Proposal{Number: prop.Number, ProtocolID: prop.ProtocolID, Transforms: []isakmp.Transform{*t}}
				return agreed, spi, reply, nil
			}
		}
	}
	return Proposal2{}, 0, nil, reason
}
