package cxtp

import (
	"fmt"
	"net/netip"
)

// CTDR is the Context Transfer Data Reply (RFC 4067 section 2.5.4), sent by
// the nAR to the pAR in answer to a CTD or PCTD with A set:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Vers.|  Type=5 |V|S| Reserved  |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~              Mobile Node's Previous Care-of Address           ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         FPT (if present)      |  Status code  |   Reserved    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// S set means every context was received successfully; otherwise the
// entries give each FPT's status.
type CTDR struct {
	Success bool // S flag
	PrevCoA netip.Addr
	Status  []FPTStatus
}

func (m *CTDR) Type() MsgType                  { return TypeCTDR }
func (m *CTDR) PrevAddr() netip.Addr           { return m.PrevCoA }
func (m *CTDR) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

func (m *CTDR) AppendBinary(b []byte) ([]byte, error) {
	v, err := familyOf(TypeCTDR, m.PrevCoA)
	if err != nil {
		return b, err
	}
	flags := vflag(v)
	if m.Success {
		flags |= flagS
	}
	s := len(b)
	b = appendHeader(b, TypeCTDR, flags)
	b = appendAddr(b, m.PrevCoA)
	b = appendStatuses(b, m.Status)
	return finish(b, s, TypeCTDR)
}

func (m *CTDR) UnmarshalBinary(b []byte) error {
	r, h, err := start(b, TypeCTDR, flagV|flagS)
	if err != nil {
		return err
	}
	d := CTDR{Success: h.Flags&flagS != 0}
	d.PrevCoA = r.addr(h.Flags&flagV != 0, "previous CoA")
	d.Status = r.statuses("FPT status")
	if r.err != nil {
		return r.err
	}
	*m = d
	return nil
}

func (m *CTDR) String() string {
	return fmt.Sprintf("CTDR{S=%t prevCoA=%v status=%s}", m.Success, m.PrevCoA, statusList(m.Status))
}
