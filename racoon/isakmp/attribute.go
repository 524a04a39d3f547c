package isakmp

import (
	"encoding/binary"
	"fmt"
)

// Attribute is a data attribute (RFC 2408 section 3.3):
//
//	AF(1) | Attribute Type (15) | AF=1: Attribute Value (16)
//	                            | AF=0: Attribute Length (16) | Attribute Value (Length)
//
// TV (AF=1) attributes carry exactly two bytes of Value.
type Attribute struct {
	Type  uint16 // without the AF bit
	TV    bool
	Value []byte
}

// Basic makes a TV (AF=1) attribute.
func Basic(t uint16, v uint16) Attribute {
	return Attribute{Type: t, TV: true, Value: binary.BigEndian.AppendUint16(nil, v)}
}

// Variable makes a TLV (AF=0) attribute.
func Variable(t uint16, v []byte) Attribute {
	return Attribute{Type: t, Value: v}
}

// VariableUint makes a TLV attribute holding v in the fewest bytes (at least 4),
// as racoon writes long life durations.
func VariableUint(t uint16, v uint64) Attribute {
	b := binary.BigEndian.AppendUint64(nil, v)
	i := 0
	for i < 4 && b[i] == 0 {
		i++
	}
	return Attribute{Type: t, Value: b[i:]}
}

// Uint reads the value as an unsigned big-endian integer of at most 8 bytes.
func (a Attribute) Uint() (uint64, error) {
	if len(a.Value) > 8 {
		return 0, fmt.Errorf("attribute %d: %d-byte value does not fit 64 bits", a.Type, len(a.Value))
	}
	var v uint64
	for _, c := range a.Value {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// Oakley (phase-1) attribute classes, RFC 2409 appendix A.
const (
	OakleyEncryptionAlgorithm uint16 = 1
	OakleyHashAlgorithm       uint16 = 2
	OakleyAuthMethod          uint16 = 3
	OakleyGroupDescription    uint16 = 4
	OakleyGroupType           uint16 = 5
	OakleyGroupPrime          uint16 = 6
	OakleyGroupGeneratorOne   uint16 = 7
	OakleyGroupGeneratorTwo   uint16 = 8
	OakleyGroupCurveA         uint16 = 9
	OakleyGroupCurveB         uint16 = 10
	OakleyLifeType            uint16 = 11
	OakleyLifeDuration        uint16 = 12
	OakleyPRF                 uint16 = 13
	OakleyKeyLength           uint16 = 14
	OakleyFieldSize           uint16 = 15
	OakleyGroupOrder          uint16 = 16
)

// Oakley attribute values (RFC 2409 appendix A and the IANA registry).
const (
	EncDES      uint16 = 1
	EncIDEA     uint16 = 2
	EncBlowfish uint16 = 3
	EncRC5      uint16 = 4
	Enc3DES     uint16 = 5
	EncCAST     uint16 = 6
	EncAES      uint16 = 7 // RFC 3602
	EncCamellia uint16 = 8

	HashMD5    uint16 = 1
	HashSHA    uint16 = 2
	HashTiger  uint16 = 3
	HashSHA256 uint16 = 4 // RFC 4868
	HashSHA384 uint16 = 5
	HashSHA512 uint16 = 6

	AuthPreShared uint16 = 1
	AuthDSS       uint16 = 2
	AuthRSASig    uint16 = 3
	AuthRSAEnc    uint16 = 4
	AuthRSARevEnc uint16 = 5

	GroupMODP768  uint16 = 1
	GroupMODP1024 uint16 = 2
	GroupEC2N155  uint16 = 3
	GroupEC2N185  uint16 = 4
	GroupMODP1536 uint16 = 5  // RFC 3526
	GroupMODP2048 uint16 = 14 // RFC 3526
	GroupMODP3072 uint16 = 15
	GroupMODP4096 uint16 = 16
	GroupMODP6144 uint16 = 17
	GroupMODP8192 uint16 = 18

	GroupTypeMODP uint16 = 1
	GroupTypeECP  uint16 = 2
	GroupTypeEC2N uint16 = 3

	LifeSeconds   uint16 = 1
	LifeKilobytes uint16 = 2
)

// IPsec DOI attribute classes, RFC 2407 section 4.5.
const (
	IPsecSALifeType        uint16 = 1
	IPsecSALifeDuration    uint16 = 2
	IPsecGroupDescription  uint16 = 3
	IPsecEncapsulationMode uint16 = 4
	IPsecAuthAlgorithm     uint16 = 5
	IPsecKeyLength         uint16 = 6
	IPsecKeyRounds         uint16 = 7
	IPsecCompressDictSize  uint16 = 8
	IPsecCompressPrivAlg   uint16 = 9
)

// IPsec DOI attribute values (RFC 2407 section 4.5, RFC 3947).
const (
	EncapTunnel       uint16 = 1
	EncapTransport    uint16 = 2
	EncapUDPTunnel    uint16 = 3 // RFC 3947
	EncapUDPTransport uint16 = 4

	AuthAlgHMACMD5    uint16 = 1
	AuthAlgHMACSHA    uint16 = 2
	AuthAlgDESMAC     uint16 = 3
	AuthAlgKPDK       uint16 = 4
	AuthAlgHMACSHA256 uint16 = 5 // RFC 4868
	AuthAlgHMACSHA384 uint16 = 6
	AuthAlgHMACSHA512 uint16 = 7
)

// basicOnly lists the attribute classes RFC 2409 appendix A and RFC 2407 4.5
// define as Basic (B): they must be TV. The others (V) may take either form.
var oakleyBasic = map[uint16]bool{1: true, 2: true, 3: true, 4: true, 5: true, 11: true, 13: true, 14: true, 15: true}
var ipsecBasic = map[uint16]bool{1: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true}

// appendAttributes appends the attributes in wire form.
func appendAttributes(b []byte, attrs []Attribute) ([]byte, error) {
	for _, a := range attrs {
		if a.Type > 0x7fff {
			return nil, fmt.Errorf("attribute type %d does not fit 15 bits", a.Type)
		}
		if a.TV {
			if len(a.Value) != 2 {
				return nil, fmt.Errorf("TV attribute %d needs a 2-byte value, has %d", a.Type, len(a.Value))
			}
			b = binary.BigEndian.AppendUint16(b, 0x8000|a.Type)
			b = append(b, a.Value...)
			continue
		}
		if len(a.Value) > 0xffff {
			return nil, fmt.Errorf("TLV attribute %d: %d-byte value too long", a.Type, len(a.Value))
		}
		b = binary.BigEndian.AppendUint16(b, a.Type)
		b = binary.BigEndian.AppendUint16(b, uint16(len(a.Value)))
		b = append(b, a.Value...)
	}
	return b, nil
}

// decodeAttributes reads attributes filling b exactly.
func decodeAttributes(b []byte, where string, base int) ([]Attribute, error) {
	var out []Attribute
	off := 0
	for off < len(b) {
		if len(b)-off < 4 {
			return nil, errf(where, base+off, "%d bytes left, too short for a data attribute", len(b)-off)
		}
		t := binary.BigEndian.Uint16(b[off:])
		v := binary.BigEndian.Uint16(b[off+2:])
		if t&0x8000 != 0 {
			out = append(out, Attribute{Type: t & 0x7fff, TV: true, Value: append([]byte(nil), b[off+2:off+4]...)})
			off += 4
			continue
		}
		if int(v) > len(b)-off-4 {
			return nil, errf(where, base+off, "attribute %d: length %d runs past the end (%d bytes left)", t, v, len(b)-off-4)
		}
		out = append(out, Attribute{Type: t, Value: append([]byte(nil), b[off+4:off+4+int(v)]...)})
		off += 4 + int(v)
	}
	return out, nil
}

// CheckForms verifies that every Basic class of the DOI is in TV form
// (phase1: the Oakley classes; otherwise the IPsec DOI classes).
func CheckForms(attrs []Attribute, phase1 bool) error {
	basic := ipsecBasic
	if phase1 {
		basic = oakleyBasic
	}
	for _, a := range attrs {
		if basic[a.Type] && !a.TV {
			return fmt.Errorf("attribute class %d is basic and must use the TV form", a.Type)
		}
	}
	return nil
}

var oakleyNames = [...]string{"", "Encryption Algorithm", "Hash Algorithm", "Authentication Method", "Group Description",
	"Group Type", "Group Prime/Irreducible Polynomial", "Group Generator One", "Group Generator Two", "Group Curve A",
	"Group Curve B", "Life Type", "Life Duration", "PRF", "Key Length", "Field Size", "Group Order"}

var ipsecNames = [...]string{"", "SA Life Type", "SA Life Duration", "Group Description", "Encapsulation Mode",
	"Authentication Algorithm", "Key Length", "Key Rounds", "Compress Dictionary Size", "Compress Private Algorithm"}

// AttributeName names an attribute class: phase1 selects RFC 2409 appendix A,
// otherwise the IPsec DOI classes of RFC 2407 section 4.5.
func AttributeName(phase1 bool, t uint16) string {
	if phase1 && int(t) < len(oakleyNames) && t != 0 {
		return oakleyNames[t]
	}
	if !phase1 && int(t) < len(ipsecNames) && t != 0 {
		return ipsecNames[t]
	}
	return fmt.Sprintf("attribute class %d", t)
}
