package cxtp

import (
	"fmt"
	"net/netip"
)

// CTC is the Context Transfer Cancel message (RFC 4067 section 2.5.5): an
// AR tells its peer to stop a transfer and discard the MN's context:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Vers.|  Type=6 |V|  Reserved   |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~              Mobile Node's Previous Care-of Address           ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type CTC struct {
	PrevCoA netip.Addr
}

func (m *CTC) Type() MsgType                  { return TypeCTC }
func (m *CTC) PrevAddr() netip.Addr           { return m.PrevCoA }
func (m *CTC) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

func (m *CTC) AppendBinary(b []byte) ([]byte, error) {
	v, err := familyOf(TypeCTC, m.PrevCoA)
	if err != nil {
		return b, err
	}
	s := len(b)
	b = appendHeader(b, TypeCTC, vflag(v))
	b = appendAddr(b, m.PrevCoA)
	return finish(b, s, TypeCTC)
}

func (m *CTC) UnmarshalBinary(b []byte) error {
	r, h, err := start(b, TypeCTC, flagV)
	if err != nil {
		return err
	}
	var d CTC
	d.PrevCoA = r.addr(h.Flags&flagV != 0, "previous CoA")
	if r.err == nil && r.rest() != 0 {
		r.err = decErr(TypeCTC, "end", fmt.Errorf("%w: %d octets", ErrTrailing, r.rest()))
	}
	if r.err != nil {
		return r.err
	}
	*m = d
	return nil
}

func (m *CTC) String() string { return fmt.Sprintf("CTC{prevCoA=%v}", m.PrevCoA) }
