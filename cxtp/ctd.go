package cxtp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// CTD is the Context Transfer Data message (RFC 4067 section 2.5.3), sent
// by the pAR to the nAR, in reactive mode as the answer to a CT-Req:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Vers.|  Type=3 |V|A| Reserved  |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  Elapsed Time (milliseconds)                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~              Mobile Node's Previous Care-of Address           ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                    Context Data Block(s)                      ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// A asks the nAR to answer with a CTDR. Elapsed Time counts the
// milliseconds since the first transmission of this CTD (it grows on
// retransmissions).
type CTD struct {
	Ack         bool   // A flag
	ElapsedTime uint32 // milliseconds
	PrevCoA     netip.Addr
	CDBs        []CDB
}

func (m *CTD) Type() MsgType                  { return TypeCTD }
func (m *CTD) PrevAddr() netip.Addr           { return m.PrevCoA }
func (m *CTD) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

func (m *CTD) AppendBinary(b []byte) ([]byte, error) {
	v, err := familyOf(TypeCTD, m.PrevCoA)
	if err != nil {
		return b, err
	}
	flags := vflag(v)
	if m.Ack {
		flags |= flagA
	}
	s := len(b)
	b = appendHeader(b, TypeCTD, flags)
	b = binary.BigEndian.AppendUint32(b, m.ElapsedTime)
	b = appendAddr(b, m.PrevCoA)
	if b, err = appendCDBs(b, TypeCTD, m.CDBs); err != nil {
		return b[:s], err
	}
	return finish(b, s, TypeCTD)
}

func (m *CTD) UnmarshalBinary(b []byte) error {
	r, h, err := start(b, TypeCTD, flagV|flagA)
	if err != nil {
		return err
	}
	d := CTD{Ack: h.Flags&flagA != 0}
	d.ElapsedTime = r.u32("elapsed time")
	d.PrevCoA = r.addr(h.Flags&flagV != 0, "previous CoA")
	if r.err != nil {
		return r.err
	}
	if d.CDBs, err = decodeCDBs(TypeCTD, b[r.off:]); err != nil {
		return err
	}
	*m = d
	return nil
}

func (m *CTD) String() string {
	return fmt.Sprintf("CTD{A=%t elapsed=%dms prevCoA=%v cdbs=%s}", m.Ack, m.ElapsedTime, m.PrevCoA, cdbList(m.CDBs))
}
