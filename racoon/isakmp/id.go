package isakmp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// IDType is an identification type of the IPsec DOI (RFC 2407 section 4.6.2.1).
type IDType uint8

const (
	IDIPv4Addr       IDType = 1
	IDFQDN           IDType = 2
	IDUserFQDN       IDType = 3
	IDIPv4AddrSubnet IDType = 4
	IDIPv6Addr       IDType = 5
	IDIPv6AddrSubnet IDType = 6
	IDIPv4AddrRange  IDType = 7
	IDIPv6AddrRange  IDType = 8
	IDDERASN1DN      IDType = 9
	IDDERASN1GN      IDType = 10
	IDKeyID          IDType = 11
)

func (t IDType) String() string {
	names := [...]string{"", "IPV4_ADDR", "FQDN", "USER_FQDN", "IPV4_ADDR_SUBNET", "IPV6_ADDR", "IPV6_ADDR_SUBNET",
		"IPV4_ADDR_RANGE", "IPV6_ADDR_RANGE", "DER_ASN1_DN", "DER_ASN1_GN", "KEY_ID"}
	if int(t) < len(names) && t != 0 {
		return names[t]
	}
	return fmt.Sprintf("IDType(%d)", uint8(t))
}

// ID is the Identification payload with the IPsec DOI's fields (RFC 2407
// section 4.6.2): ID Type (1) | Protocol ID (1) | Port (2) | Identification Data.
type ID struct {
	Type       IDType
	ProtocolID uint8
	Port       uint16
	Data       []byte
}

func (p *ID) PayloadType() PayloadType { return PayloadID }

// dataLen is the fixed data length of the address types (0: variable).
func (t IDType) dataLen() int {
	switch t {
	case IDIPv4Addr:
		return 4
	case IDIPv4AddrSubnet, IDIPv4AddrRange:
		return 8
	case IDIPv6Addr:
		return 16
	case IDIPv6AddrSubnet, IDIPv6AddrRange:
		return 32
	}
	return 0
}

func (p *ID) AppendBody(b []byte) ([]byte, error) {
	if n := p.Type.dataLen(); n != 0 && len(p.Data) != n {
		return nil, fmt.Errorf("%s needs %d bytes of data, has %d", p.Type, n, len(p.Data))
	}
	b = append(b, byte(p.Type), p.ProtocolID)
	b = binary.BigEndian.AppendUint16(b, p.Port)
	return append(b, p.Data...), nil
}

func (p *ID) DecodeBody(b []byte) error {
	if len(b) < 4 {
		return errf("ID payload", 0, "%d bytes, shorter than the ID type, protocol and port", len(b))
	}
	p.Type, p.ProtocolID, p.Port = IDType(b[0]), b[1], binary.BigEndian.Uint16(b[2:])
	p.Data = append([]byte(nil), b[4:]...)
	if n := p.Type.dataLen(); n != 0 && len(p.Data) != n {
		return errf("ID payload", 4, "%s needs %d bytes of data, has %d", p.Type, n, len(p.Data))
	}
	return nil
}

// IDFromAddr makes an IPV4_ADDR or IPV6_ADDR identification.
func IDFromAddr(a netip.Addr, proto uint8, port uint16) *ID {
	a = a.WithZone("")
	if a.Is4() {
		b := a.As4()
		return &ID{Type: IDIPv4Addr, ProtocolID: proto, Port: port, Data: b[:]}
	}
	b := a.As16()
	return &ID{Type: IDIPv6Addr, ProtocolID: proto, Port: port, Data: b[:]}
}

// IDFromPrefix makes an IPV4_ADDR_SUBNET or IPV6_ADDR_SUBNET identification
// (address and mask).
func IDFromPrefix(p netip.Prefix, proto uint8, port uint16) *ID {
	p = p.Masked()
	bits := p.Bits()
	if p.Addr().Is4() {
		a := p.Addr().As4()
		mask := make([]byte, 4)
		for i := 0; i < bits; i++ {
			mask[i/8] |= 0x80 >> (i % 8)
		}
		return &ID{Type: IDIPv4AddrSubnet, ProtocolID: proto, Port: port, Data: append(a[:], mask...)}
	}
	a := p.Addr().As16()
	mask := make([]byte, 16)
	for i := 0; i < bits; i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	return &ID{Type: IDIPv6AddrSubnet, ProtocolID: proto, Port: port, Data: append(a[:], mask...)}
}

// IDFromRange makes an IPV4_ADDR_RANGE or IPV6_ADDR_RANGE identification.
func IDFromRange(lo, hi netip.Addr, proto uint8, port uint16) (*ID, error) {
	if lo.Is4() != hi.Is4() {
		return nil, fmt.Errorf("range %s-%s mixes families", lo, hi)
	}
	if lo.Is4() {
		l, h := lo.As4(), hi.As4()
		return &ID{Type: IDIPv4AddrRange, ProtocolID: proto, Port: port, Data: append(l[:], h[:]...)}, nil
	}
	l, h := lo.As16(), hi.As16()
	return &ID{Type: IDIPv6AddrRange, ProtocolID: proto, Port: port, Data: append(l[:], h[:]...)}, nil
}

// Addr returns the address of an IPV4_ADDR or IPV6_ADDR identification.
func (p *ID) Addr() (netip.Addr, error) {
	switch p.Type {
	case IDIPv4Addr, IDIPv6Addr:
		if a, ok := netip.AddrFromSlice(p.Data); ok && len(p.Data) == p.Type.dataLen() {
			return a, nil
		}
		return netip.Addr{}, fmt.Errorf("%s with %d bytes of data", p.Type, len(p.Data))
	}
	return netip.Addr{}, fmt.Errorf("%s is not an address identification", p.Type)
}

// Prefix returns the subnet of a *_ADDR_SUBNET identification (the mask must be
// contiguous) or the host prefix of a *_ADDR one.
func (p *ID) Prefix() (netip.Prefix, error) {
	switch p.Type {
	case IDIPv4Addr, IDIPv6Addr:
		a, err := p.Addr()
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	case IDIPv4AddrSubnet, IDIPv6AddrSubnet:
		n := p.Type.dataLen()
		if len(p.Data) != n {
			return netip.Prefix{}, fmt.Errorf("%s with %d bytes of data", p.Type, len(p.Data))
		}
		a, _ := netip.AddrFromSlice(p.Data[:n/2])
		mask := p.Data[n/2:]
		bits, seenZero := 0, false
		for _, c := range mask {
			for i := 7; i >= 0; i-- {
				if c>>uint(i)&1 == 1 {
					if seenZero {
						return netip.Prefix{}, fmt.Errorf("%s: mask %x is not contiguous", p.Type, mask)
					}
					bits++
				} else {
					seenZero = true
				}
			}
		}
		return netip.PrefixFrom(a, bits), nil
	}
	return netip.Prefix{}, fmt.Errorf("%s is not a subnet identification", p.Type)
}

// Range returns the bounds of a *_ADDR_RANGE identification.
func (p *ID) Range() (lo, hi netip.Addr, err error) {
	switch p.Type {
	case IDIPv4AddrRange, IDIPv6AddrRange:
		n := p.Type.dataLen()
		if len(p.Data) != n {
			return lo, hi, fmt.Errorf("%s with %d bytes of data", p.Type, len(p.Data))
		}
		lo, _ = netip.AddrFromSlice(p.Data[:n/2])
		hi, _ = netip.AddrFromSlice(p.Data[n/2:])
		return lo, hi, nil
	}
	return lo, hi, fmt.Errorf("%s is not a range identification", p.Type)
}
