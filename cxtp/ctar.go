package cxtp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// CTAR is the Context Transfer Activate Request (RFC 4067 section 2.5.1),
// sent by the MN to the nAR after attachment (naming the pAR), or to the pAR
// before a predictive handover (naming the nAR):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Vers.|  Type=1 |V|A| Reserved  |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~              Mobile Node's Previous Care-of Address           ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~               Previous (or New) Access Router's Address       ~
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
// With IPv6 addresses and no requested FPT it is 4+16+16+4+4 = 44 octets
// (the paper's 106-byte frame: 14 + 40 + 8 + 44). An empty list asks for
// every context. A set means the MN wants a CTAA back (the paper's "CTAR
// message which may be acknowledged"). The requested blocks are the
// header-only CDBs described in request.go; the token covers them.
type CTAR struct {
	Ack     bool       // A flag: acknowledgement (CTAA) requested
	PrevCoA netip.Addr // MN's previous care-of address
	PrevAR  netip.Addr // the other AR: the pAR in a CTAR to the nAR, the nAR in one to the pAR
	Seq     uint32
	Token   [TokenLen]byte
	FPTs    []FPT // requested FPTs; empty means all
}

// CTARLen is the length of a CTAR without requested CDBs; each requested
// FPT adds ReqCDBLen octets.
func CTARLen(v4 bool) int { return HeaderLen + 2*addrLen(v4) + 4 + TokenLen }

func (m *CTAR) Type() MsgType                  { return TypeCTAR }
func (m *CTAR) PrevAddr() netip.Addr           { return m.PrevCoA }
func (m *CTAR) IsIPv4() bool                   { return m.PrevCoA.Is4() }
func (m *CTAR) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

func (m *CTAR) AppendBinary(b []byte) ([]byte, error) {
	v, err := familyOf(TypeCTAR, m.PrevCoA, m.PrevAR)
	if err != nil {
		return b, err
	}
	flags := vflag(v)
	if m.Ack {
		flags |= flagA
	}
	s := len(b)
	b = appendHeader(b, TypeCTAR, flags)
	b = appendAddr(b, m.PrevCoA)
	b = appendAddr(b, m.PrevAR)
	b = binary.BigEndian.AppendUint32(b, m.Seq)
	b = append(b, m.Token[:]...)
	b = appendRequests(b, m.FPTs)
	return finish(b, s, TypeCTAR)
}

func (m *CTAR) UnmarshalBinary(b []byte) error {
	r, h, err := start(b, TypeCTAR, flagV|flagA)
	if err != nil {
		return err
	}
	v := h.Flags&flagV != 0
	d := CTAR{Ack: h.Flags&flagA != 0}
	d.PrevCoA = r.addr(v, "previous CoA")
	d.PrevAR = r.addr(v, "previous AR address")
	d.Seq = r.u32("sequence number")
	copy(d.Token[:], r.bytes(TokenLen, "token"))
	d.FPTs = r.requests("requested CDB")
	if r.err != nil {
		return r.err
	}
	*m = d
	return nil
}

func (m *CTAR) String() string {
	return fmt.Sprintf("CTAR{A=%t prevCoA=%v prevAR=%v seq=%d token=%x fpts=%s}",
		m.Ack, m.PrevCoA, m.PrevAR, m.Seq, m.Token, fptList(m.FPTs))
}
