package pfkey

import (
	"errors"
	"net/netip"
	"strconv"
)

// Sockaddr sizes, identical on both systems (BSD moves two bytes of the
// family into sa_len).
const (
	sockaddrInLen  = 16
	sockaddrIn6Len = 28
)

// SockaddrLen returns the size of the sockaddr for ap (16 or 28), or 0
// if ap has no valid address.
func SockaddrLen(ap netip.AddrPort) int {
	a := ap.Addr()
	switch {
	case a.Is4():
		return sockaddrInLen
	case a.Is6():
		return sockaddrIn6Len
	}
	return 0
}

var errNoAddress = errors.New("no address")

// AppendSockaddr appends the dialect's sockaddr_in or sockaddr_in6 for ap.
func (d *Dialect) AppendSockaddr(b []byte, ap netip.AddrPort) ([]byte, error) {
	a := ap.Addr()
	var fam uint16
	n := SockaddrLen(ap)
	switch n {
	case sockaddrInLen:
		fam = d.AFInet
	case sockaddrIn6Len:
		fam = d.AFInet6
	default:
		return b, errNoAddress
	}
	var scope uint32
	if z := a.Zone(); z != "" {
		v, err := strconv.ParseUint(z, 10, 32)
		if err != nil {
			return b, errors.New("IPv6 zone " + strconv.Quote(z) + " is not a numeric scope id")
		}
		scope = uint32(v)
	}
	off := len(b)
	b = append(b, make([]byte, n)...)
	s := b[off:]
	if d.SockaddrLen {
		s[0] = byte(n)
		s[1] = byte(fam)
	} else {
		d.ByteOrder.PutUint16(s[0:], fam)
	}
	s[2] = byte(ap.Port() >> 8)
	s[3] = byte(ap.Port())
	if n == sockaddrInLen {
		a4 := a.As4()
		copy(s[4:8], a4[:])
	} else {
		// sin6_flowinfo (s[4:8]) stays 0.
		a16 := a.As16()
		copy(s[8:24], a16[:])
		d.ByteOrder.PutUint32(s[24:], scope)
	}
	return b, nil
}

// ParseSockaddr decodes one sockaddr_in or sockaddr_in6 at the start of b
// and returns it with the number of bytes it occupies.
func (d *Dialect) ParseSockaddr(b []byte) (netip.AddrPort, int, error) {
	if len(b) < 4 {
		return netip.AddrPort{}, 0, errors.New("sockaddr truncated: " + itoa(len(b)) + " bytes")
	}
	var fam uint16
	salen := -1
	if d.SockaddrLen {
		salen = int(b[0])
		fam = uint16(b[1])
	} else {
		fam = d.ByteOrder.Uint16(b)
	}
	var n int
	switch fam {
	case d.AFInet:
		n = sockaddrInLen
	case d.AFInet6:
		n = sockaddrIn6Len
	default:
		return netip.AddrPort{}, 0, errors.New("unsupported address family " + itoa(int(fam)))
	}
	if salen >= 0 && salen != n {
		return netip.AddrPort{}, 0, errors.New("sa_len " + itoa(salen) + " for family " + itoa(int(fam)) + ", want " + itoa(n))
	}
	if len(b) < n {
		return netip.AddrPort{}, 0, errors.New("sockaddr truncated: " + itoa(len(b)) + " bytes for family " + itoa(int(fam)))
	}
	port := uint16(b[2])<<8 | uint16(b[3])
	if n == sockaddrInLen {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port), n, nil
	}
	a := netip.AddrFrom16([16]byte(b[8:24]))
	if scope := d.ByteOrder.Uint32(b[24:28]); scope != 0 {
		a = a.WithZone(strconv.FormatUint(uint64(scope), 10))
	}
	return netip.AddrPortFrom(a, port), n, nil
}
