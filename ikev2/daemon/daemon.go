package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/ikectx/ikectx/ikev2"
)

// Options are the command-line settings.
type Options struct {
	NoKernel bool
	Logf     func(format string, args ...any)
	// Socket overrides the configuration's control socket path.
	Socket string
}

// Daemon is a running iked.
type Daemon struct {
	Conf    *Config
	Manager *ikev2.Manager
	kernel  ikev2.Kernel
	logf    func(string, ...any)
	socks   []*udpSock
	mu      sync.Mutex
	events  []string // recent events, for status
	// ESPDropped counts UDP-encapsulated ESP packets received on the
	// NAT-T port (no kernel to hand them to).
	ESPDropped int
}

type udpSock struct {
	addr netip.Addr
	port uint16
	natt bool
	v6   *ipv6.PacketConn
	v4   *ipv4.PacketConn
	c    net.PacketConn
}

// New creates the daemon and opens its sockets.
func New(c *Config, o Options) (*Daemon, error) {
	d := &Daemon{Conf: c, logf: o.Logf}
	if d.logf == nil {
		d.logf = func(string, ...any) {}
	}
	if o.Socket != "" {
		c.Socket = o.Socket
	}
	if o.NoKernel {
		d.kernel = ikev2.NewMemKernel()
	} else {
		k, err := openKernel(d.logf)
		if err != nil {
			return nil, fmt.Errorf("iked: PF_KEY: %w (use --no-kernel on hosts without it)", err)
		}
		d.kernel = k
	}
	m := ikev2.NewManager(c.Conns, c.PAD, d.kernel, d.send)
	m.RetransmitBase, m.RetransmitTries, m.CookieThreshold = c.RetransmitBase, c.RetransmitTries, c.CookieThreshold
	m.NATTPort = c.NATTPort
	m.Log = d.logf
	m.Event = d.event
	d.Manager = m
	listen := c.Listen
	if len(listen) == 0 {
		listen = []netip.Addr{netip.IPv6Unspecified(), netip.IPv4Unspecified()}
	}
	for _, port := range []uint16{c.Port, c.NATTPort} {
		for _, a := range listen {
			s, err := openSock(a, port, !o.NoKernel, !o.NoKernel && port == c.NATTPort)
			if err != nil {
				if a == netip.IPv4Unspecified() && len(c.Listen) == 0 {
					continue // a host without IPv4
				}
				d.Close()
				return nil, fmt.Errorf("iked: listen %v: %w", netip.AddrPortFrom(a, port), err)
			}
			s.natt = port == c.NATTPort
			d.socks = append(d.socks, s)
		}
	}
	return d, nil
}

func openSock(a netip.Addr, port uint16, bypass, encap bool) (*udpSock, error) {
	network := "udp6"
	if a.Is4() {
		network = "udp4"
	}
	lc := net.ListenConfig{}
	if bypass {
		lc.Control = bypassControl
	}
	if encap {
		lc.Control = encapControl
	}
	pc, err := lc.ListenPacket(context.Background(), network, netip.AddrPortFrom(a, port).String())
	if err != nil {
		return nil, err
	}
	s := &udpSock{addr: a, port: port, c: pc}
	if a.Is4() {
		s.v4 = ipv4.NewPacketConn(pc)
		if err := s.v4.SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true); err != nil {
			pc.Close()
			return nil, err
		}
	} else {
		s.v6 = ipv6.NewPacketConn(pc)
		if err := s.v6.SetControlMessage(ipv6.FlagDst|ipv6.FlagInterface, true); err != nil {
			pc.Close()
			return nil, err
		}
	}
	return s, nil
}

func (d *Daemon) event(e ikev2.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := e.Kind + " " + e.SA.Conf.Name
	if e.Child != nil {
		s += fmt.Sprintf(" child in 0x%08x out 0x%08x", e.Child.SPIIn, e.Child.SPIOut)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	d.events = append(d.events, time.Now().UTC().Format("15:04:05.000 ")+s)
	if len(d.events) > 50 {
		d.events = d.events[len(d.events)-50:]
	}
}

// send transmits an IKE message, with the non-ESP marker on the NAT-T port.
func (d *Daemon) send(b []byte, from, to netip.AddrPort) {
	natt := from.Port() == d.Conf.NATTPort
	var s *udpSock
	for _, x := range d.socks {
		if x.port != from.Port() || (x.v4 != nil) != to.Addr().Unmap().Is4() {
			continue
		}
		if x.addr == from.Addr().Unmap() {
			s = x
			break
		}
		if s == nil && x.addr.IsUnspecified() {
			s = x
		}
	}
	if s == nil {
		d.logf("iked: no socket for %v -> %v", from, to)
		return
	}
	if natt {
		b = append([]byte{0, 0, 0, 0}, b...)
	}
	var err error
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(to.Addr().Unmap(), to.Port()))
	if s.v4 != nil {
		var cm *ipv4.ControlMessage
		if from.Addr().IsValid() && !from.Addr().IsUnspecified() {
			cm = &ipv4.ControlMessage{Src: from.Addr().Unmap().AsSlice()}
		}
		_, err = s.v4.WriteTo(b, cm, dst)
	} else {
		var cm *ipv6.ControlMessage
		if from.Addr().IsValid() && !from.Addr().IsUnspecified() {
			cm = &ipv6.ControlMessage{Src: from.Addr().AsSlice()}
		}
		_, err = s.v6.WriteTo(b, cm, dst)
	}
	if err != nil {
		d.logf("iked: send %v -> %v: %v", from, to, err)
	}
}

func (d *Daemon) readLoop(ctx context.Context, s *udpSock) {
	buf := make([]byte, 65536)
	for ctx.Err() == nil {
		var n int
		var src net.Addr
		var dst net.IP
		var err error
		if s.v4 != nil {
			var cm *ipv4.ControlMessage
			n, cm, src, err = s.v4.ReadFrom(buf)
			if cm != nil {
				dst = cm.Dst
			}
		} else {
			var cm *ipv6.ControlMessage
			n, cm, src, err = s.v6.ReadFrom(buf)
			if cm != nil {
				dst = cm.Dst
			}
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			d.logf("iked: read: %v", err)
			continue
		}
		b := buf[:n]
		if s.natt {
			if n == 1 && b[0] == 0xff {
				continue // NAT keepalive
			}
			if n < 4 || b[0]|b[1]|b[2]|b[3] != 0 {
				d.mu.Lock()
				d.ESPDropped++
				d.mu.Unlock()
				continue
			}
			b = b[4:]
		}
		ua, ok := src.(*net.UDPAddr)
		if !ok {
			continue
		}
		la, _ := netip.AddrFromSlice(dst)
		remote := ua.AddrPort()
		remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
		local := netip.AddrPortFrom(la.Unmap(), s.port)
		d.Manager.Handle(append([]byte(nil), b...), local, remote)
	}
}

// Run serves until ctx is done: it reads the sockets, runs the timers,
// initiates the connections marked start, and answers the control socket.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ln, err := listenControl(d.Conf.Socket)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); d.serveControl(ctx, ln) }()
	for _, s := range d.socks {
		wg.Add(1)
		go func(s *udpSock) { defer wg.Done(); d.readLoop(ctx, s) }(s)
	}
	for _, name := range d.Conf.Start {
		if err := d.Initiate(name, nil); err != nil {
			d.logf("iked: initiate %s: %v", name, err)
		}
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			ln.Close()
			for _, s := range d.socks {
				s.c.Close()
			}
			wg.Wait()
			return nil
		case <-t.C:
			d.Manager.Tick()
		}
	}
}

// Initiate starts the connection name towards its remote address.
func (d *Daemon) Initiate(name string, done func(error)) error {
	c := d.Manager.Conn(name)
	if c == nil {
		return fmt.Errorf("no connection %q", name)
	}
	if !c.RemoteAddr.IsValid() {
		return fmt.Errorf("connection %q has no remote_addr", name)
	}
	la := c.LocalAddr
	if !la.IsValid() || la.IsUnspecified() {
		// The source address the routing table picks for the peer.
		u, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(c.RemoteAddr, d.Conf.Port)))
		if err != nil {
			return fmt.Errorf("connection %q: no route to %v: %w", name, c.RemoteAddr, err)
		}
		la = u.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
		u.Close()
	}
	local := netip.AddrPortFrom(la, d.Conf.Port)
	_, err := d.Manager.Initiate(name, local, netip.AddrPortFrom(c.RemoteAddr, d.Conf.RemotePorts[name]), done)
	return err
}

// Close closes the sockets (Run closes them itself when it returns).
func (d *Daemon) Close() {
	for _, s := range d.socks {
		s.c.Close()
	}
	if c, ok := d.kernel.(interface{ Close() error }); ok {
		c.Close()
	}
}
