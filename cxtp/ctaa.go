package cxtp

import (
	"fmt"
	"net/netip"
)

// CTAA is the Context Transfer Activate Acknowledge (RFC 4067 section
// 2.5.2), sent by the nAR to the MN; it lists the FPTs whose contexts could
// not be activated:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Vers.|  Type=2 |V|  Reserved   |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~              Mobile Node's Previous Care-of Address           ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         FPT (if present)      |  Status code  |   Reserved    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// With IPv6 addresses and no failure it is 4+16 = 20 octets (the paper's
// 82-byte frame: 14 + 40 + 8 + 20).
type CTAA struct {
	PrevCoA  netip.Addr
	Failures []FPTStatus // FPTs that failed, with their status
}

// CTAALen is the length of a CTAA without failures.
func CTAALen(v4 bool) int { return HeaderLen + addrLen(v4) }

func (m *CTAA) Type() MsgType                  { return TypeCTAA }
func (m *CTAA) PrevAddr() netip.Addr           { return m.PrevCoA }
func (m *CTAA) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

func (m *CTAA) AppendBinary(b []byte) ([]byte, error) {
	v, err := familyOf(TypeCTAA, m.PrevCoA)
	if err != nil {
		return b, err
	}
	s := len(b)
	b = appendHeader(b, TypeCTAA, vflag(v))
	b = appendAddr(b, m.PrevCoA)
	b = appendStatuses(b, m.Failures)
	return finish(b, s, TypeCTAA)
}

func (m *CTAA) UnmarshalBinary(b []byte) error {
	r, h, err := start(b, TypeCTAA, flagV)
	if err != nil {
		return err
	}
	var d CTAA
	d.PrevCoA = r.addr(h.Flags&flagV != 0, "previous CoA")
	d.Failures = r.statuses("FPT status")
	if r.err != nil {
		return r.err
	}
	*m = d
	return nil
}

func (m *CTAA) String() string {
	return fmt.Sprintf("CTAA{prevCoA=%v failures=%s}", m.PrevCoA, statusList(m.Failures))
}
