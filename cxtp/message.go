package cxtp

import (
	"fmt"
	"net/netip"
	"strings"
)

// Message is implemented by the seven CXTP message types (*CTAR, *CTAA,
// *CTD, *PCTD, *CTDR, *CTC, *CTReq).
type Message interface {
	// Type returns the message type of the header.
	Type() MsgType
	// PrevAddr returns the MN's previous care-of address, which every
	// message carries and which identifies the MN's context.
	PrevAddr() netip.Addr
	// AppendBinary appends the encoding of the message to b.
	AppendBinary(b []byte) ([]byte, error)
	// MarshalBinary encodes the message.
	MarshalBinary() ([]byte, error)
	// UnmarshalBinary decodes b, which must hold exactly one message of
	// this type. The message owns everything it keeps (no aliasing of b).
	UnmarshalBinary(b []byte) error
	// String describes the message without key bytes.
	String() string
}

// Marshal encodes m.
func Marshal(m Message) ([]byte, error) { return m.AppendBinary(nil) }

// New returns an empty message of type t, or nil for an unknown type.
func New(t MsgType) Message {
	switch t {
	case TypeCTAR:
		return new(CTAR)
	case TypeCTAA:
		return new(CTAA)
	case TypeCTD:
		return new(CTD)
	case TypePCTD:
		return new(PCTD)
	case TypeCTDR:
		return new(CTDR)
	case TypeCTC:
		return new(CTC)
	case TypeCTReq:
		return new(CTReq)
	}
	return nil
}

// Parse decodes one CXTP message filling all of b.
func Parse(b []byte) (Message, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		return nil, err
	}
	m := New(h.Type)
	if err := m.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return m, nil
}

func fptList(f []FPT) string {
	if len(f) == 0 {
		return "[]"
	}
	s := make([]string, len(f))
	for i, v := range f {
		s[i] = itoa(int(v))
	}
	return "[" + strings.Join(s, " ") + "]"
}

func statusList(st []FPTStatus) string {
	s := make([]string, len(st))
	for i, v := range st {
		s[i] = fmt.Sprintf("%d:%v", v.FPT, v.Status)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func cdbList(c []CDB) string {
	s := make([]string, len(c))
	for i := range c {
		s[i] = fmt.Sprintf("%d/%dB", c[i].FPT, len(c[i].Data))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// FPTStatus is one FPT with its status, as listed by CTAA and CTDR:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            FPT                |  Status code  |   Reserved    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type FPTStatus struct {
	FPT    FPT
	Status Status
}

const fptStatusLen = 4

func appendStatuses(b []byte, st []FPTStatus) []byte {
	for _, s := range st {
		b = append(b, byte(s.FPT>>8), byte(s.FPT), byte(s.Status), 0)
	}
	return b
}

func (r *reader) statuses(field string) []FPTStatus {
	if r.err != nil {
		return nil
	}
	if r.rest()%fptStatusLen != 0 {
		r.err = decErr(r.t, field, fmt.Errorf("%w: %d octets is not a whole number of 4-octet entries", ErrLength, r.rest()))
		return nil
	}
	var out []FPTStatus
	for r.rest() > 0 {
		f := FPT(r.u16(field))
		s := Status(r.u8(field))
		r.u8(field) // reserved
		out = append(out, FPTStatus{FPT: f, Status: s})
	}
	return out
}

func vflag(v bool) uint8 {
	if v {
		return flagV
	}
	return 0
}

func ipver(v bool) string {
	if v {
		return "IPv4"
	}
	return "IPv6"
}
