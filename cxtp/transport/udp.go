package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/ikectx/ikectx/cxtp"
)

// UDPConn carries CXTP between ARs over UDP (port 5091), the fallback
// when SCTP is not available. Each datagram is one CXTP message.
type UDPConn struct {
	c     *net.UDPConn
	local netip.AddrPort
	stats counters
	rmu   sync.Mutex // one reader at a time: buf and the read deadline
	buf   []byte
}

type counters struct {
	sent, recv, dropHop, dropBad atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{Sent: c.sent.Load(), Received: c.recv.Load(), DroppedHopLimit: c.dropHop.Load(), DroppedMalformed: c.dropBad.Load()}
}

// ListenUDP binds a UDP socket. A zero port means cxtp.Port (5091); an
// invalid address binds the wildcard.
func ListenUDP(addr netip.AddrPort) (*UDPConn, error) {
	port := addr.Port()
	if port == 0 {
		port = cxtp.Port
	}
	ip := addr.Addr()
	network := "udp"
	if !ip.IsValid() {
		ip = netip.IPv6Unspecified()
	} else if ip.Is4() {
		network = "udp4"
	} else {
		network = "udp6"
	}
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, port)))
	if err != nil {
		return nil, fmt.Errorf("transport: udp listen %v: %w", netip.AddrPortFrom(ip, port), err)
	}
	return &UDPConn{c: c, local: c.LocalAddr().(*net.UDPAddr).AddrPort(), buf: make([]byte, MaxMessage+1)}, nil
}

// Kind implements Conn.
func (u *UDPConn) Kind() Kind { return KindUDP }

// LocalAddr implements Conn.
func (u *UDPConn) LocalAddr() netip.AddrPort { return u.local }

// Stats implements Conn.
func (u *UDPConn) Stats() Stats { return u.stats.snapshot() }

// WriteTo implements Conn. A zero port means cxtp.Port.
func (u *UDPConn) WriteTo(b []byte, to netip.AddrPort) error {
	if len(b) > MaxMessage {
		return fmt.Errorf("transport: udp send to %v: message of %d octets too long", to, len(b))
	}
	if to.Port() == 0 {
		to = netip.AddrPortFrom(to.Addr(), cxtp.Port)
	}
	if u.local.Addr().Is6() && to.Addr().Is4() {
		to = netip.AddrPortFrom(netip.AddrFrom16(to.Addr().As16()), to.Port())
	}
	if _, err := u.c.WriteToUDPAddrPort(b, to); err != nil {
		return fmt.Errorf("transport: udp send to %v: %w", to, mapClosed(err))
	}
	u.stats.sent.Add(1)
	return nil
}

// ReadFrom implements Conn. Empty datagrams are dropped and counted.
func (u *UDPConn) ReadFrom(ctx context.Context) (Packet, error) {
	u.rmu.Lock()
	defer u.rmu.Unlock()
	for {
		var n int
		var from netip.AddrPort
		err := withContext(ctx, u.c.SetReadDeadline, func() error {
			var err error
			n, from, err = u.c.ReadFromUDPAddrPort(u.buf)
			return err
		})
		if err != nil {
			return Packet{}, err
		}
		if n == 0 || n > MaxMessage {
			u.stats.dropBad.Add(1)
			continue
		}
		u.stats.recv.Add(1)
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		return Packet{Data: append([]byte(nil), u.buf[:n]...), From: from, HopLimit: -1, Via: KindUDP}, nil
	}
}

// Close implements Conn.
func (u *UDPConn) Close() error { return u.c.Close() }
