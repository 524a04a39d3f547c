package cxtp

import (
	"encoding/binary"
	"fmt"
)

// FPT is a Feature Profile Type: the kind of context a Context Data Block
// carries.
type FPT uint16

// FPTAll in a list of requested FPTs asks for every context. FPT 1 is the
// IANA-registered IPv6 Multicast Listener Context.
const (
	FPTAll               FPT = 0
	FPTMulticastMLD      FPT = 1
	cdbHeaderLen             = 4
	presenceLen              = 4
	cdbWord                  = 8
	MaxCDBLen                = 255 * cdbWord // 2040 octets, header included
	MaxCDBData               = MaxCDBLen - cdbHeaderLen
	MaxCDBDataPresence       = MaxCDBLen - cdbHeaderLen - presenceLen
	cdbFlagPresence          = 0x80
	cdbMinWireLen            = cdbWord
	cdbLengthFieldOffset     = 2
	// ReqCDBLen is the length of a request block: the first 4 octets of
	// a CDB alone (RFC 4067 section 2.4), see AppendRequestCDBs.
	ReqCDBLen = cdbHeaderLen
)

// Default FPT values this project uses for IPsec and IKE contexts. None is
// registered with IANA; they sit in the unassigned range and every daemon
// lets the operator choose others.
const (
	FPTIPsecSA FPT = 0x8001 // one IPsec SA (SAD entry, keys included)
	FPTIPsecSP FPT = 0x8002 // one security policy (SPD entry)
	FPTIKEv1SA FPT = 0x8003 // one IKEv1 phase-1 SA
	FPTIKEv2SA FPT = 0x8004 // one IKEv2 SA
	FPTGeneric FPT = 0x80ff // opaque test context
)

func (f FPT) String() string { return "FPT(" + itoa(int(f)) + ")" }

// CDB is a Context Data Block (RFC 4067 section 2.4):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Feature Profile Type (FPT)   |    Length     |P|  Reserved   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|               Presence Vector (if P = 1)                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~               Data (padded to a multiple of 8 octets)         ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Length counts 8-octet words, header included, so a CDB is at most 2040
// octets. The length of the data before padding is not carried: a context
// format must be self-delimiting (Data of a decoded CDB includes the zero
// padding).
type CDB struct {
	FPT         FPT
	HasPresence bool   // P flag
	Presence    uint32 // presence vector, when HasPresence
	Data        []byte
}

// WireLen is the encoded length of c, padding included.
func (c *CDB) WireLen() int {
	n := cdbHeaderLen + len(c.Data)
	if c.HasPresence {
		n += presenceLen
	}
	return (n + cdbWord - 1) / cdbWord * cdbWord
}

// AppendBinary appends the encoding of c to b.
func (c *CDB) AppendBinary(b []byte) ([]byte, error) {
	n := c.WireLen()
	if n > MaxCDBLen {
		return b, fmt.Errorf("cxtp: encode CDB %v: %w (%d octets)", c.FPT, ErrCDBTooLarge, n)
	}
	var flags uint8
	if c.HasPresence {
		flags |= cdbFlagPresence
	}
	b = binary.BigEndian.AppendUint16(b, uint16(c.FPT))
	b = append(b, uint8(n/cdbWord), flags)
	used := cdbHeaderLen + len(c.Data)
	if c.HasPresence {
		b = binary.BigEndian.AppendUint32(b, c.Presence)
		used += presenceLen
	}
	b = append(b, c.Data...)
	for ; used < n; used++ {
		b = append(b, 0)
	}
	return b, nil
}

// MarshalBinary encodes c.
func (c *CDB) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// DecodeCDB decodes one CDB at the start of b and returns it with the
// number of octets it used. Data aliases b.
func DecodeCDB(b []byte) (CDB, int, error) {
	if len(b) < cdbHeaderLen {
		return CDB{}, 0, fmt.Errorf("cxtp: decode CDB: %w", ErrTruncated)
	}
	fpt := FPT(binary.BigEndian.Uint16(b))
	words := int(b[cdbLengthFieldOffset])
	flags := b[3]
	n := words * cdbWord
	if words == 0 {
		return CDB{}, 0, fmt.Errorf("cxtp: decode CDB %v: %w: zero", fpt, ErrCDBLength)
	}
	if n > len(b) {
		return CDB{}, 0, fmt.Errorf("cxtp: decode CDB %v: %w: %d octets, have %d", fpt, ErrTruncated, n, len(b))
	}
	c := CDB{FPT: fpt, HasPresence: flags&cdbFlagPresence != 0}
	off := cdbHeaderLen
	if c.HasPresence {
		c.Presence = binary.BigEndian.Uint32(b[off:])
		off += presenceLen
	}
	c.Data = b[off:n:n]
	return c, n, nil
}

// UnmarshalBinary decodes exactly one CDB filling all of b; Data is copied.
func (c *CDB) UnmarshalBinary(b []byte) error {
	d, n, err := DecodeCDB(b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("cxtp: decode CDB %v: %w: %d octets", d.FPT, ErrTrailing, len(b)-n)
	}
	d.Data = append([]byte(nil), d.Data...)
	*c = d
	return nil
}

// appendCDBs appends all CDBs of a message of type t.
func appendCDBs(b []byte, t MsgType, cdbs []CDB) ([]byte, error) {
	for i := range cdbs {
		var err error
		b, err = cdbs[i].AppendBinary(b)
		if err != nil {
			return b, encErr(t, "CDB "+itoa(i), err)
		}
	}
	return b, nil
}

// decodeCDBs decodes the CDBs that fill b entirely. The data of all
// blocks is copied once, so the message owns it and decoding costs two
// allocations whatever the number of blocks.
func decodeCDBs(t MsgType, b []byte) ([]CDB, error) {
	if len(b) == 0 {
		return nil, nil
	}
	n := 0
	for rest := b; len(rest) > 0; n++ {
		_, used, err := DecodeCDB(rest)
		if err != nil {
			return nil, decErr(t, "CDB "+itoa(n), err)
		}
		rest = rest[used:]
	}
	own := append([]byte(nil), b...)
	out := make([]CDB, 0, n)
	for len(own) > 0 {
		c, used, _ := DecodeCDB(own)
		out = append(out, c)
		own = own[used:]
	}
	return out, nil
}

// CDBsLen is the encoded length of cdbs.
func CDBsLen(cdbs []CDB) int {
	n := 0
	for i := range cdbs {
		n += cdbs[i].WireLen()
	}
	return n
}

// AppendCDBs appends the encoding of cdbs to b, each block in its full
// form (as in CTD and PCTD).
func AppendCDBs(b []byte, cdbs []CDB) ([]byte, error) {
	return appendCDBs(b, 0, cdbs)
}

// SplitContext cuts one large context into as many CDBs of type fpt as
// needed, each at most 2040 octets: every block but the last carries
// exactly MaxCDBData octets (no padding), so concatenating the Data of the
// decoded blocks in order gives back data followed by at most 7 zero
// octets of padding.
func SplitContext(fpt FPT, data []byte) []CDB {
	if len(data) == 0 {
		return []CDB{{FPT: fpt}}
	}
	var out []CDB
	for len(data) > 0 {
		n := min(len(data), MaxCDBData)
		out = append(out, CDB{FPT: fpt, Data: data[:n:n]})
		data = data[n:]
	}
	return out
}

// JoinContext concatenates the Data of the CDBs of type fpt, in order.
func JoinContext(fpt FPT, cdbs []CDB) []byte {
	var out []byte
	for i := range cdbs {
		if cdbs[i].FPT == fpt {
			out = append(out, cdbs[i].Data...)
		}
	}
	return out
}

// PackRecords packs self-delimiting records (one SA, one policy, one IKE SA
// each) into as few CDBs of type fpt as possible without splitting a
// record. A record that alone does not fit in one CDB is an error.
func PackRecords(fpt FPT, records [][]byte) ([]CDB, error) {
	var out []CDB
	var cur []byte
	for i, r := range records {
		if len(r) > MaxCDBData {
			return nil, fmt.Errorf("cxtp: pack %v: record %d is %d octets, more than one CDB holds (%d)", fpt, i, len(r), MaxCDBData)
		}
		if len(cur)+len(r) > MaxCDBData {
			out = append(out, CDB{FPT: fpt, Data: cur})
			cur = nil
		}
		cur = append(cur, r...)
	}
	if len(cur) > 0 || len(out) == 0 {
		out = append(out, CDB{FPT: fpt, Data: cur})
	}
	return out, nil
}
