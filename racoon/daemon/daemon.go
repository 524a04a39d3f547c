package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
	"github.com/ikectx/ikectx/racoon/conf"
	"github.com/ikectx/ikectx/racoon/ike"
	"github.com/ikectx/ikectx/racoon/psk"
)

// Options configure a Daemon.
type Options struct {
	ConfigFile string
	Config     *conf.Config // parsed already (tests); ConfigFile is then only a name
	// NoKernel negotiates without PF_KEY: SAs stay in memory and are
	// reported through the admin socket; policies come from PolicyFile.
	NoKernel bool
	// PolicyFile is a setkey(8) file whose spdadd lines form the in-memory
	// security policy database of a --no-kernel daemon.
	PolicyFile string
	Port       int // isakmp port (500)
	NATTPort   int // NAT-T port (4500)
	Family     int // 4, 6 or 0
	// AdminSock overrides the configuration's adminsock path ("-": none).
	AdminSock string
	Log       io.Writer
	Debug     int
}

// Stats count what the daemon saw.
type Stats struct {
	Received, Sent, Dropped, Retransmits uint64
	Phase1Up, Phase1Failed               uint64
	Phase2Up, Phase2Failed, Acquires     uint64
}

// Stats returns the counters.
func (d *Daemon) Stats() Stats {
	return Stats{
		Received: d.stats.received.Load(), Sent: d.stats.sent.Load(), Dropped: d.stats.dropped.Load(),
		Retransmits: d.stats.retransmits.Load(), Phase1Up: d.stats.p1up.Load(), Phase1Failed: d.stats.p1fail.Load(),
		Phase2Up: d.stats.p2up.Load(), Phase2Failed: d.stats.p2fail.Load(), Acquires: d.stats.acquires.Load(),
	}
}

type packet struct {
	data  []byte
	from  netip.AddrPort
	sock  *sock
	natt  bool
	local netip.AddrPort
}

type sock struct {
	c     *net.UDPConn
	local netip.AddrPort
	natt  bool
}

// p2req is what a quick mode is for: the policy's selectors and SA shape.
type p2req struct {
	local, remote selector
	mode          pfkey.Mode
	reqid         uint32
	me, peer      netip.Addr
	policyID      uint32
	remoteName    string
}

type ph1 struct {
	sa       *ike.Phase1
	remote   *conf.Remote
	sock     *sock
	peer     netip.AddrPort // where to send
	natt     bool
	gen      int
	retries  int
	pending  []*p2req
	deleted  bool
	imported bool
	spis     map[uint32]bool // IPsec SAs negotiated under this phase 1
}

type ph2key struct {
	cookies [16]byte
	msgID   uint32
}

type ph2 struct {
	q       *ike.Phase2
	p1      *ph1
	req     *p2req
	gen     int
	retries int
}

// Daemon is ikectx's racoon.
type Daemon struct {
	opt    Options
	cfg    *conf.Config
	kernel Kernel
	log    *log.Logger

	socks []*sock
	in    chan packet
	calls chan func()
	done  chan struct{}
	wg    sync.WaitGroup

	pskMu sync.Mutex
	psk   *psk.File

	ph1s     map[[16]byte]*ph1
	ph2s     map[ph2key]*ph2
	inflight map[uint32]bool // policy IDs with a negotiation running
	admin    *admin.Server
	events   *eventHub

	rekeyMu sync.Mutex
	rekey   map[uint32]*p2req // SPI -> the request to redo on soft EXPIRE

	stats struct {
		received, sent, dropped, retransmits atomic.Uint64
		p1up, p1fail, p2up, p2fail, acquires atomic.Uint64
	}
}

func cookieKey(i, r [8]byte) (k [16]byte) {
	copy(k[:8], i[:])
	copy(k[8:], r[:])
	return k
}

// New reads the configuration, opens the kernel (unless NoKernel), the
// sockets and the admin socket. Run starts the work.
func New(opt Options) (*Daemon, error) {
	if opt.Port == 0 {
		opt.Port = 500
	}
	if opt.NATTPort == 0 {
		opt.NATTPort = 4500
	}
	if opt.Log == nil {
		opt.Log = os.Stderr
	}
	d := &Daemon{opt: opt, cfg: opt.Config, in: make(chan packet, 256), calls: make(chan func(), 64), done: make(chan struct{}),
		ph1s: map[[16]byte]*ph1{}, ph2s: map[ph2key]*ph2{}, inflight: map[uint32]bool{}, events: newEventHub()}
	d.log = log.New(opt.Log, "racoon: ", log.LstdFlags|log.Lmicroseconds)
	if d.cfg == nil {
		c, err := conf.ParseFile(opt.ConfigFile)
		if err != nil {
			return nil, err
		}
		d.cfg = c
	}
	for _, w := range d.cfg.Warnings {
		d.logf("WARNING: %s: %s", w.Pos, w.Msg)
	}
	if opt.NoKernel {
		mk := &memKernel{}
		if opt.PolicyFile != "" {
			if err := mk.loadPolicies(opt.PolicyFile); err != nil {
				return nil, err
			}
		}
		d.kernel = mk
		d.logf("INFO: running without a kernel (--no-kernel): SAs are negotiated and kept in memory only")
	} else {
		k, err := openKernel(d.logf)
		if err != nil {
			return nil, fmt.Errorf("pfkey: %w (without PF_KEY, run with --no-kernel)", err)
		}
		d.kernel = k
	}
	if err := d.openSockets(); err != nil {
		d.kernel.Close()
		return nil, err
	}
	if err := d.openAdmin(); err != nil {
		d.closeSockets()
		d.kernel.Close()
		return nil, err
	}
	return d, nil
}

func (d *Daemon) logf(format string, args ...any) { d.log.Printf(format, args...) }

func (d *Daemon) debugf(format string, args ...any) {
	if d.opt.Debug > 0 {
		d.log.Printf("DEBUG: "+format, args...)
	}
}

// pskFile reads psk.txt on first use (and again after a failed read).
func (d *Daemon) pskFile() *psk.File {
	d.pskMu.Lock()
	defer d.pskMu.Unlock()
	if d.psk != nil {
		return d.psk
	}
	p := d.cfg.Path(conf.PathPreSharedKey)
	if p == "" {
		return nil
	}
	f, err := psk.Load(p)
	if err != nil {
		d.logf("ERROR: %v", err)
		return nil
	}
	d.psk = f
	return f
}

func (d *Daemon) nattWanted() bool {
	for _, r := range d.cfg.Remotes {
		if r.NATTraversal == "on" || r.NATTraversal == "force" {
			return true
		}
	}
	for _, l := range d.cfg.Listen.ISAKMP {
		if l.NATT {
			return true
		}
	}
	return false
}

// listenAddrs are the listen block's isakmp addresses, or every address
// of the host as racoon does without one.
func (d *Daemon) listenAddrs() ([]netip.AddrPort, []netip.AddrPort, error) {
	var plain, natt []netip.AddrPort
	for _, l := range d.cfg.Listen.ISAKMP {
		port := l.Port
		if l.NATT {
			if port == 0 {
				port = uint16(d.opt.NATTPort)
			}
			natt = append(natt, netip.AddrPortFrom(l.Addr, port))
			continue
		}
		if port == 0 {
			port = uint16(d.opt.Port)
		}
		plain = append(plain, netip.AddrPortFrom(l.Addr, port))
	}
	if len(plain) == 0 {
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			return nil, nil, err
		}
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(n.IP)
			if !ok || ip.IsLinkLocalUnicast() || ip.IsMulticast() {
				continue
			}
			plain = append(plain, netip.AddrPortFrom(ip.Unmap(), uint16(d.opt.Port)))
		}
	}
	if d.nattWanted() && len(natt) == 0 {
		for _, p := range plain {
			natt = append(natt, netip.AddrPortFrom(p.Addr(), uint16(d.opt.NATTPort)))
		}
	}
	return plain, natt, nil
}

func (d *Daemon) openSockets() error {
	plain, natt, err := d.listenAddrs()
	if err != nil {
		return err
	}
	explicit := len(d.cfg.Listen.ISAKMP) > 0
	open := func(ap netip.AddrPort, isNATT bool) error {
		if d.opt.Family == 4 && !ap.Addr().Is4() || d.opt.Family == 6 && !ap.Addr().Is6() {
			return nil
		}
		network := "udp4"
		if ap.Addr().Is6() {
			network = "udp6"
		}
		lc := net.ListenConfig{}
		if explicit {
			// a listen address may appear later (a mobile node's CoA)
			lc.Control = freebind
		}
		pc, err := lc.ListenPacket(context.Background(), network, ap.String())
		if err != nil {
			return fmt.Errorf("listen %s: %w", ap, err)
		}
		c := pc.(*net.UDPConn)
		if !d.opt.NoKernel {
			if err := bypassIPsec(c, ap.Addr().Is6()); err != nil {
				c.Close()
				return fmt.Errorf("listen %s: %w", ap, err)
			}
		}
		s := &sock{c: c, local: ap, natt: isNATT}
		d.socks = append(d.socks, s)
		d.logf("INFO: %s used as isakmp port%s", ap, map[bool]string{true: " (NAT-T)"}[isNATT])
		return nil
	}
	// addresses named in the listen block must work (they may be absent
	// yet: freebind); the host's own addresses (no listen block) may fail
	// one by one (tentative IPv6 addresses, for example): logged, skipped
	for _, set := range []struct {
		aps  []netip.AddrPort
		natt bool
	}{{plain, false}, {natt, true}} {
		for _, ap := range set.aps {
			if err := open(ap, set.natt); err != nil {
				if explicit {
					d.closeSockets()
					return err
				}
				d.logf("WARNING: %v", err)
			}
		}
	}
	if len(d.socks) == 0 {
		return errors.New("no address to listen on")
	}
	return nil
}

func (d *Daemon) closeSockets() {
	for _, s := range d.socks {
		s.c.Close()
	}
}

func (d *Daemon) openAdmin() error {
	path := d.opt.AdminSock
	if path == "-" || (path == "" && d.cfg.Listen.AdminDisabled) {
		return nil
	}
	sc, ok, err := admin.ServerConfigFromListen(&d.cfg.Listen)
	if err != nil {
		return err
	}
	if !ok && path == "" {
		return nil
	}
	if path != "" {
		sc.Path = path
	}
	sc.Backend = &backend{d}
	s, err := admin.Listen(sc)
	if err != nil {
		return err
	}
	d.admin = s
	return nil
}

// Run serves until ctx ends.
func (d *Daemon) Run(ctx context.Context) error {
	for _, s := range d.socks {
		d.wg.Add(1)
		go d.reader(s)
	}
	if d.admin != nil {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.admin.Serve()
		}()
		d.logf("INFO: admin socket %s", d.admin.Path())
	}
	events := d.kernel.Events()
	for {
		select {
		case <-ctx.Done():
			d.shutdown()
			return nil
		case p := <-d.in:
			d.handlePacket(p)
		case f := <-d.calls:
			f()
		case m, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			d.handleKernel(m)
		}
	}
}

func (d *Daemon) shutdown() {
	close(d.done)
	for _, p := range d.ph1s {
		if p.sa.Established() && !p.deleted {
			d.sendDelete(p)
		}
		p.sa.Wipe()
	}
	if d.admin != nil {
		d.admin.Close()
	}
	d.closeSockets()
	d.wg.Wait()
	d.kernel.Close()
	if d.psk != nil {
		d.psk.Wipe()
	}
	st := d.Stats()
	d.logf("INFO: racoon shutdown: %d datagrams received, %d sent, %d dropped, %d retransmissions; phase 1 %d up %d failed; phase 2 %d up %d failed; %d ACQUIREs",
		st.Received, st.Sent, st.Dropped, st.Retransmits, st.Phase1Up, st.Phase1Failed, st.Phase2Up, st.Phase2Failed, st.Acquires)
}

// post runs f on the event loop (from timers and the admin server).
func (d *Daemon) post(f func()) bool {
	select {
	case d.calls <- f:
		return true
	case <-d.done:
		return false
	}
}

// call runs f on the event loop and waits for it.
func (d *Daemon) call(f func()) error {
	ch := make(chan struct{})
	if !d.post(func() { f(); close(ch) }) {
		return errors.New("racoon is shutting down")
	}
	select {
	case <-ch:
		return nil
	case <-d.done:
		return errors.New("racoon is shutting down")
	}
}

func (d *Daemon) reader(s *sock) {
	defer d.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := s.c.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case <-d.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			d.logf("ERROR: recvfrom %s: %v", s.local, err)
			continue
		}
		b := append([]byte(nil), buf[:n]...)
		select {
		case d.in <- packet{data: b, from: netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), sock: s, natt: s.natt, local: s.local}:
		case <-d.done:
			return
		}
	}
}

func (d *Daemon) send(p *ph1, b []byte) {
	if p.sock == nil || b == nil {
		return
	}
	out := b
	if p.natt {
		out = append([]byte{0, 0, 0, 0}, b...)
	}
	// timer { persend N; }: every message goes out N times
	n := d.cfg.Timer.Persend
	if n == 0 {
		n = 1
	}
	for i := uint64(0); i < n; i++ {
		if _, err := p.sock.c.WriteToUDPAddrPort(out, p.peer); err != nil {
			d.logf("ERROR: sendto %s: %v", p.peer, err)
			return
		}
		d.stats.sent.Add(1)
	}
}

// sockFor picks the socket to reach peer: the one bound to the source
// address the routing table chooses.
func (d *Daemon) sockFor(peer netip.Addr, natt bool, want netip.Addr) (*sock, error) {
	src := want
	if !src.IsValid() {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(peer, 500)))
		if err == nil {
			src = c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
			c.Close()
		}
	}
	var fallback *sock
	for _, s := range d.socks {
		if s.natt != natt || s.local.Addr().Is4() != peer.Is4() {
			continue
		}
		if s.local.Addr() == src {
			return s, nil
		}
		if s.local.Addr().IsUnspecified() && fallback == nil {
			fallback = s
		}
	}
	if fallback != nil {
		return fallback, nil
	}
	return nil, fmt.Errorf("no isakmp socket for %s (source %s)", peer, src)
}

func (d *Daemon) drop(p packet, format string, args ...any) {
	d.stats.dropped.Add(1)
	d.logf("ERROR: dropped packet from %s: %s", p.from, fmt.Sprintf(format, args...))
}
