package cxtp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// MsgType is the CXTP message type of the common header.
type MsgType uint8

// Message types (RFC 4067 section 2.5).
const (
	TypeCTAR  MsgType = 1 // Context Transfer Activate Request, MN -> nAR
	TypeCTAA  MsgType = 2 // Context Transfer Activate Acknowledge, nAR -> MN
	TypeCTD   MsgType = 3 // Context Transfer Data, pAR -> nAR
	TypePCTD  MsgType = 4 // Predictive Context Transfer Data, pAR -> nAR
	TypeCTDR  MsgType = 5 // Context Transfer Data Reply, nAR -> pAR
	TypeCTC   MsgType = 6 // Context Transfer Cancel, nAR -> pAR
	TypeCTReq MsgType = 7 // Context Transfer Request, nAR -> pAR
)

var typeNames = [...]string{
	TypeCTAR:  "CTAR",
	TypeCTAA:  "CTAA",
	TypeCTD:   "CTD",
	TypePCTD:  "PCTD",
	TypeCTDR:  "CTDR",
	TypeCTC:   "CTC",
	TypeCTReq: "CT-Req",
}

func (t MsgType) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "MsgType(" + itoa(int(t)) + ")"
}

// Header flag bits (second octet).
const (
	flagV = 0x80 // IPv4 addresses
	flagA = 0x40 // CTD/PCTD: acknowledgement requested
	flagS = 0x40 // CTDR: all contexts succeeded
)

// Sentinel causes wrapped by *DecodeError; test them with errors.Is.
var (
	ErrTruncated   = errors.New("message truncated")
	ErrLength      = errors.New("length field does not match the message")
	ErrVersion     = errors.New("unsupported version")
	ErrType        = errors.New("unknown message type")
	ErrTrailing    = errors.New("trailing octets")
	ErrAddrFamily  = errors.New("addresses of mixed or invalid family")
	ErrTooLong     = errors.New("message longer than 65535 octets")
	ErrCDBLength   = errors.New("invalid context data block length")
	ErrCDBTooLarge = errors.New("context data block larger than 2040 octets")
	ErrKeyLength   = errors.New("invalid key length")
)

// DecodeError is returned by decoders and encoders: it names the message
// type, the field (or CDB) where the problem was found, and the cause.
type DecodeError struct {
	Type   MsgType // message being processed (0 when unknown)
	Field  string  // field or position
	Err    error   // cause, often one of the Err* sentinels
	Encode bool    // true for encoding errors
}

func (e *DecodeError) Error() string {
	op := "decode"
	if e.Encode {
		op = "encode"
	}
	name := "message"
	if e.Type != 0 {
		name = e.Type.String()
	}
	if e.Field != "" {
		return fmt.Sprintf("cxtp: %s %s: %s: %v", op, name, e.Field, e.Err)
	}
	return fmt.Sprintf("cxtp: %s %s: %v", op, name, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

func decErr(t MsgType, field string, err error) error {
	return &DecodeError{Type: t, Field: field, Err: err}
}

func encErr(t MsgType, field string, err error) error {
	return &DecodeError{Type: t, Field: field, Err: err, Encode: true}
}

// Header is the common 4-octet CXTP header.
type Header struct {
	Version uint8
	Type    MsgType
	Flags   uint8
	Length  uint16
}

// DecodeHeader decodes and checks the common header of b: version, type
// and that Length equals len(b) exactly.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, decErr(0, "header", ErrTruncated)
	}
	h := Header{
		Version: b[0] >> 5,
		Type:    MsgType(b[0] & 0x1f),
		Flags:   b[1],
		Length:  binary.BigEndian.Uint16(b[2:4]),
	}
	if h.Version != Version {
		return h, decErr(h.Type, "header", fmt.Errorf("%w %d", ErrVersion, h.Version))
	}
	if h.Type < TypeCTAR || h.Type > TypeCTReq {
		return h, decErr(0, "header", fmt.Errorf("%w %d", ErrType, uint8(h.Type)))
	}
	if int(h.Length) != len(b) {
		return h, decErr(h.Type, "length", fmt.Errorf("%w: field says %d, have %d octets", ErrLength, h.Length, len(b)))
	}
	return h, nil
}

func appendHeader(b []byte, t MsgType, flags uint8) []byte {
	return append(b, Version<<5|uint8(t), flags, 0, 0)
}

// finish writes the length of the message that starts at b[start:].
func finish(b []byte, start int, t MsgType) ([]byte, error) {
	n := len(b) - start
	if n > MaxMessageLen {
		return b[:start], encErr(t, "length", ErrTooLong)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

// addrLen returns 4 for IPv4 (V set) and 16 for IPv6.
func addrLen(v bool) int {
	if v {
		return 4
	}
	return 16
}

// familyOf decides the V flag from the addresses of a message: all valid
// addresses must be of one family (IPv4 -> V set). An IPv4-mapped IPv6
// address counts as IPv6.
func familyOf(t MsgType, addrs ...netip.Addr) (v bool, err error) {
	first := true
	for i, a := range addrs {
		if !a.IsValid() {
			return false, encErr(t, "address "+itoa(i), fmt.Errorf("%w: invalid address", ErrAddrFamily))
		}
		if first {
			v, first = a.Is4(), false
		} else if a.Is4() != v {
			return false, encErr(t, "address "+itoa(i), ErrAddrFamily)
		}
	}
	return v, nil
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return append(b, v[:]...)
	}
	v := a.As16()
	return append(b, v[:]...)
}

func readAddr(b []byte, v bool) netip.Addr {
	if v {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16([16]byte(b[:16]))
}

// reader walks a message body with bounds checks.
type reader struct {
	t   MsgType
	b   []byte
	off int
	err error
}

func (r *reader) need(n int, field string) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = decErr(r.t, field, ErrTruncated)
		return false
	}
	return true
}

func (r *reader) bytes(n int, field string) []byte {
	if !r.need(n, field) {
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) u8(field string) uint8 {
	if !r.need(1, field) {
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

func (r *reader) u16(field string) uint16 {
	if !r.need(2, field) {
		return 0
	}
	v := binary.BigEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v
}

func (r *reader) u32(field string) uint32 {
	if !r.need(4, field) {
		return 0
	}
	v := binary.BigEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) addr(v bool, field string) netip.Addr {
	n := addrLen(v)
	if !r.need(n, field) {
		return netip.Addr{}
	}
	a := readAddr(r.b[r.off:], v)
	r.off += n
	return a
}

func (r *reader) rest() int { return len(r.b) - r.off }

// start decodes the common header for message type t and returns a reader
// positioned after it.
func start(b []byte, t MsgType, allowed uint8) (reader, Header, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		return reader{}, h, err
	}
	if h.Type != t {
		return reader{}, h, decErr(t, "type", fmt.Errorf("%w: got %v", ErrType, h.Type))
	}
	// Reserved flag bits are sent as zero and ignored on receipt.
	h.Flags &= allowed
	return reader{t: t, b: b, off: HeaderLen}, h, nil
}
