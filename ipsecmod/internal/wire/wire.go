// Package wire holds the big-endian reader and writer and the 20-octet
// address form shared by the ipsecmod record layouts.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// AddrLen is the size of an encoded address: family (0 none, 4, 6),
// reserved (0), port (2), address (16; IPv4 in the first 4 octets, the rest
// zero).
const AddrLen = 20

// ErrShort is wrapped by every "field runs past the end" error.
var ErrShort = errors.New("truncated")

// AppendAddr appends the 20-octet form of ap.
func AppendAddr(b []byte, ap netip.AddrPort) []byte {
	var f [AddrLen]byte
	a := ap.Addr()
	switch {
	case !a.IsValid():
	case a.Is4():
		f[0] = 4
		a4 := a.As4()
		copy(f[4:], a4[:])
	default:
		f[0] = 6
		a16 := a.As16()
		copy(f[4:], a16[:])
	}
	if a.IsValid() {
		binary.BigEndian.PutUint16(f[2:], ap.Port())
	}
	return append(b, f[:]...)
}

// Reader decodes a buffer front to back; the first error sticks.
type Reader struct {
	B   []byte
	Off int
	Err error
	// What names the structure in errors.
	What string
}

// Fail records an error about field (the first one sticks).
func (r *Reader) Fail(field string, err error) {
	if r.Err == nil {
		r.Err = fmt.Errorf("%s: %s at offset %d: %w", r.What, field, r.Off, err)
	}
}

// Left is the number of octets not read yet.
func (r *Reader) Left() int { return len(r.B) - r.Off }

// Take returns the next n octets (aliasing the buffer).
func (r *Reader) Take(field string, n int) []byte {
	if r.Err != nil {
		return nil
	}
	if n < 0 || len(r.B)-r.Off < n {
		r.Fail(field, fmt.Errorf("%w: need %d octets, have %d", ErrShort, n, len(r.B)-r.Off))
		return nil
	}
	p := r.B[r.Off : r.Off+n : r.Off+n]
	r.Off += n
	return p
}

// U8 reads one octet.
func (r *Reader) U8(field string) uint8 {
	p := r.Take(field, 1)
	if p == nil {
		return 0
	}
	return p[0]
}

// U16 reads a big-endian 16-bit number.
func (r *Reader) U16(field string) uint16 {
	p := r.Take(field, 2)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint16(p)
}

// U32 reads a big-endian 32-bit number.
func (r *Reader) U32(field string) uint32 {
	p := r.Take(field, 4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

// U64 reads a big-endian 64-bit number.
func (r *Reader) U64(field string) uint64 {
	p := r.Take(field, 8)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

// Zero reads n octets that must be zero.
func (r *Reader) Zero(field string, n int) {
	for _, x := range r.Take(field, n) {
		if x != 0 {
			r.Fail(field, errors.New("reserved octets not zero"))
			return
		}
	}
}

// Bytes reads n octets into a new slice (nil for n == 0).
func (r *Reader) Bytes(field string, n int) []byte {
	p := r.Take(field, n)
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

// Var reads a 2-octet length then that many octets, at most max.
func (r *Reader) Var(field string, max int) []byte {
	n := int(r.U16(field + " length"))
	if r.Err == nil && n > max {
		r.Fail(field, fmt.Errorf("length %d over the limit %d", n, max))
		return nil
	}
	return r.Bytes(field, n)
}

// Addr reads the 20-octet address form.
func (r *Reader) Addr(field string) netip.AddrPort {
	p := r.Take(field, AddrLen)
	if p == nil {
		return netip.AddrPort{}
	}
	if p[1] != 0 {
		r.Fail(field, errors.New("reserved octet not zero"))
		return netip.AddrPort{}
	}
	port := binary.BigEndian.Uint16(p[2:])
	switch p[0] {
	case 0:
		for _, x := range p[2:] {
			if x != 0 {
				r.Fail(field, errors.New("family 0 with non-zero octets"))
				return netip.AddrPort{}
			}
		}
		return netip.AddrPort{}
	case 4:
		for _, x := range p[8:] {
			if x != 0 {
				r.Fail(field, errors.New("IPv4 address with non-zero tail"))
				return netip.AddrPort{}
			}
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(p[4:8])), port)
	case 6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(p[4:20])), port)
	}
	r.Fail(field, fmt.Errorf("unknown address family %d", p[0]))
	return netip.AddrPort{}
}

// AppendVar appends a 2-octet length and b; b must be at most 65535 octets.
func AppendVar(out []byte, field string, b []byte) ([]byte, error) {
	if len(b) > 0xffff {
		return out, fmt.Errorf("%s: %d octets, more than 65535", field, len(b))
	}
	out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
	return append(out, b...), nil
}
