package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"

	"github.com/ikectx/ikectx/cxtp"
)

// ICMPv6 header of a CXTP message (RFC 4065 experimental mobility message,
// RFC 4067 section 3.2): Type 150 | Code 0 | Checksum (16) | Subtype 1 |
// Reserved (24). The kernel fills in the checksum.
const icmpHeaderLen = 8

// ICMPv6Conn carries CXTP between MN and AR over ICMPv6 type 150, code 0,
// subtype 1. It sends with hop limit 255 and drops (and counts) received
// messages whose hop limit is not 255: such a message was forwarded by a
// router and cannot come from a neighbour.
type ICMPv6Conn struct {
	c     *icmp.PacketConn
	p     *ipv6.PacketConn
	local netip.AddrPort
	stats counters
	rmu   sync.Mutex // one reader at a time: buf and the read deadline
	buf   []byte
}

// ListenICMPv6 opens a raw ICMPv6 socket bound to addr (the unspecified
// address if invalid), filtered to type 150. A link-local addr needs its
// zone. Needs root (CAP_NET_RAW).
func ListenICMPv6(addr netip.Addr) (*ICMPv6Conn, error) {
	if !addr.IsValid() {
		addr = netip.IPv6Unspecified()
	}
	if addr.Is4() {
		return nil, fmt.Errorf("transport: icmpv6 listen %v: not an IPv6 address", addr)
	}
	c, err := icmp.ListenPacket("ip6:ipv6-icmp", addr.String())
	if err != nil {
		return nil, fmt.Errorf("transport: icmpv6 listen %v: %w", addr, err)
	}
	p := c.IPv6PacketConn()
	fail := func(what string, err error) (*ICMPv6Conn, error) {
		c.Close()
		return nil, fmt.Errorf("transport: icmpv6 listen %v: %s: %w", addr, what, err)
	}
	var f ipv6.ICMPFilter
	f.SetAll(true)
	f.Accept(ipv6.ICMPType(cxtp.ICMPv6Type))
	if err := p.SetICMPFilter(&f); err != nil {
		return fail("ICMP filter", err)
	}
	if err := p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true); err != nil {
		return fail("control messages", err)
	}
	if err := p.SetHopLimit(cxtp.ICMPv6HopLimit); err != nil {
		return fail("hop limit", err)
	}
	if err := p.SetMulticastHopLimit(cxtp.ICMPv6HopLimit); err != nil {
		return fail("multicast hop limit", err)
	}
	return &ICMPv6Conn{c: c, p: p, local: netip.AddrPortFrom(addr, 0), buf: make([]byte, icmpHeaderLen+MaxMessage+1)}, nil
}

// Kind implements Conn.
func (i *ICMPv6Conn) Kind() Kind { return KindICMPv6 }

// LocalAddr implements Conn (port 0).
func (i *ICMPv6Conn) LocalAddr() netip.AddrPort { return i.local }

// Stats implements Conn.
func (i *ICMPv6Conn) Stats() Stats { return i.stats.snapshot() }

// AppendICMPv6 appends the ICMPv6 header of a CXTP message (checksum zero,
// for the kernel to fill) and msg to b.
func AppendICMPv6(b, msg []byte) []byte {
	b = append(b, cxtp.ICMPv6Type, cxtp.ICMPv6Code, 0, 0, cxtp.ICMPv6Subtype, 0, 0, 0)
	return append(b, msg...)
}

// ParseICMPv6 returns the CXTP message carried by an ICMPv6 message (as
// read from a raw ICMPv6 socket or a capture, starting at the ICMPv6 type),
// or ok=false if it is not type 150, code 0, subtype 1. The checksum is not
// checked (the kernel did). msg aliases b.
func ParseICMPv6(b []byte) (msg []byte, ok bool) {
	if len(b) < icmpHeaderLen || b[0] != cxtp.ICMPv6Type || b[1] != cxtp.ICMPv6Code || b[4] != cxtp.ICMPv6Subtype {
		return nil, false
	}
	return b[icmpHeaderLen:], true
}

// WriteTo implements Conn: one ICMPv6 message with hop limit 255.
func (i *ICMPv6Conn) WriteTo(b []byte, to netip.AddrPort) error {
	if len(b) > MaxMessage {
		return fmt.Errorf("transport: icmpv6 send to %v: message of %d octets too long", to.Addr(), len(b))
	}
	if !to.Addr().Is6() || to.Addr().Is4In6() {
		return fmt.Errorf("transport: icmpv6 send to %v: not an IPv6 address", to.Addr())
	}
	pkt := AppendICMPv6(make([]byte, 0, icmpHeaderLen+len(b)), b)
	dst := &net.IPAddr{IP: to.Addr().AsSlice(), Zone: to.Addr().Zone()}
	cm := &ipv6.ControlMessage{HopLimit: cxtp.ICMPv6HopLimit}
	if _, err := i.p.WriteTo(pkt, cm, dst); err != nil {
		return fmt.Errorf("transport: icmpv6 send to %v: %w", to.Addr(), mapClosed(err))
	}
	i.stats.sent.Add(1)
	return nil
}

// ReadFrom implements Conn. It returns only CXTP messages (type 150, code
// 0, subtype 1) that arrived with hop limit 255; everything else is dropped
// and counted.
func (i *ICMPv6Conn) ReadFrom(ctx context.Context) (Packet, error) {
	i.rmu.Lock()
	defer i.rmu.Unlock()
	for {
		var n int
		var cm *ipv6.ControlMessage
		var src net.Addr
		err := withContext(ctx, i.c.SetReadDeadline, func() error {
			var err error
			n, cm, src, err = i.p.ReadFrom(i.buf)
			return err
		})
		if err != nil {
			return Packet{}, err
		}
		msg, ok := ParseICMPv6(i.buf[:n])
		if !ok {
			i.stats.dropBad.Add(1)
			continue
		}
		hop, ifx := -1, 0
		var to netip.Addr
		if cm != nil {
			hop, ifx = cm.HopLimit, cm.IfIndex
			to, _ = netip.AddrFromSlice(cm.Dst)
		}
		if hop != cxtp.ICMPv6HopLimit {
			i.stats.dropHop.Add(1)
			continue
		}
		var from netip.Addr
		if ia, ok := src.(*net.IPAddr); ok {
			from, _ = netip.AddrFromSlice(ia.IP)
			from = from.WithZone(ia.Zone)
		}
		i.stats.recv.Add(1)
		return Packet{
			Data:     append([]byte(nil), msg...),
			From:     netip.AddrPortFrom(from, 0),
			To:       to,
			HopLimit: hop,
			IfIndex:  ifx,
			Via:      KindICMPv6,
		}, nil
	}
}

// Close implements Conn.
func (i *ICMPv6Conn) Close() error { return i.c.Close() }
