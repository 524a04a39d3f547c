package cxtp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// CTReq is the Context Transfer Request (RFC 4067 section 2.5.6), sent by
// the nAR to the pAR in reactive mode after a CTAR for a context it does not
// hold; it relays the MN's sequence number and token so the pAR can check
// them before answering with a CTD:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Vers.|  Type=7 |V|  Reserved   |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~              Mobile Node's Previous Care-of Address           ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        Sequence Number                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    MN Authorization Token                     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Requested FPT                |  Length = 0   |0|  Reserved   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  ... one 4-octet requested Context Data Block per FPT         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Everything after the MN's address is copied from the CTAR (section
// 2.5.6), so the pAR checks the token over the same requested blocks. An
// all-zero token means the nAR has no CTAR yet (a network trigger): the
// pAR then answers with the token key, as in a predictive transfer.
type CTReq struct {
	PrevCoA netip.Addr
	Seq     uint32
	Token   [TokenLen]byte
	FPTs    []FPT // empty means all
}

func (m *CTReq) Type() MsgType                  { return TypeCTReq }
func (m *CTReq) PrevAddr() netip.Addr           { return m.PrevCoA }
func (m *CTReq) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

func (m *CTReq) AppendBinary(b []byte) ([]byte, error) {
	v, err := familyOf(TypeCTReq, m.PrevCoA)
	if err != nil {
		return b, err
	}
	s := len(b)
	b = appendHeader(b, TypeCTReq, vflag(v))
	b = appendAddr(b, m.PrevCoA)
	b = binary.BigEndian.AppendUint32(b, m.Seq)
	b = append(b, m.Token[:]...)
	b = appendRequests(b, m.FPTs)
	return finish(b, s, TypeCTReq)
}

func (m *CTReq) UnmarshalBinary(b []byte) error {
	r, h, err := start(b, TypeCTReq, flagV)
	if err != nil {
		return err
	}
	var d CTReq
	d.PrevCoA = r.addr(h.Flags&flagV != 0, "previous CoA")
	d.Seq = r.u32("sequence number")
	copy(d.Token[:], r.bytes(TokenLen, "token"))
	d.FPTs = r.requests("requested CDB")
	if r.err != nil {
		return r.err
	}
	*m = d
	return nil
}

func (m *CTReq) String() string {
	return fmt.Sprintf("CT-Req{prevCoA=%v seq=%d token=%x fpts=%s}", m.PrevCoA, m.Seq, m.Token, fptList(m.FPTs))
}
