package stress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ikectx/ikectx/ikev2"
	"github.com/ikectx/ikectx/ikev2/daemon"
	"github.com/ikectx/ikectx/ipsecmod"
	"github.com/ikectx/ikectx/pfkey"
)

// Lab is the kernel backend: the MNs share one network namespace (every
// nCoA on one veth, every home address on lo), the nAR has its own; both
// kernels are driven through PF_KEY (the MNs' and the nAR's Managers with
// iked's PF_KEY backend, the nAR's ipsecmod with the socket itself), so
// the nAR's SAD is Linux's, under its own rule (SPI, destination). Needs
// root, PF_KEY and ESP: the kernel lab.
type Lab struct {
	// Prefix names the namespaces (PREFIX-mn, PREFIX-nar) and, hashed, the
	// veth pair: unique per test.
	Prefix string
	// IP is the iproute2 binary ("ip" by default; /sbin/ip in the lab).
	IP string

	// TrafficPort is the UDP echo port on the correspondent address;
	// TrafficTimeout the wait for one echo (3 tries).
	TrafficPort    int
	TrafficTimeout time.Duration

	mnNS, narNS  string
	mnConn, narC *pfkey.Conn
	mnK, narK    ikev2.Kernel
	created      []string
}

// NewLab returns the kernel backend with namespaces NAME-mn and NAME-nar.
func NewLab(prefix string) *Lab {
	return &Lab{Prefix: prefix, IP: "ip", TrafficPort: 7777, TrafficTimeout: 3 * time.Second}
}

func (l *Lab) ip(args ...string) error {
	out, err := exec.Command(l.IP, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", l.IP, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (l *Lab) batch(ns string, lines []string) error {
	f, err := os.CreateTemp("", "stress-"+l.Prefix+"-*.ip")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	f.WriteString(strings.Join(lines, "\n") + "\n")
	f.Close()
	return l.ip("-n", ns, "-batch", f.Name())
}

// inNS runs fn on an OS thread inside namespace ns (the thread is dropped
// afterwards); sockets fn creates stay in ns.
func inNS(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		f, err := os.Open("/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Setup creates the namespaces, the veth between them, the addresses and
// routes, and opens a PF_KEY socket in each.
func (l *Lab) Setup(p *Plan) error {
	l.mnNS, l.narNS = l.Prefix+"-mn", l.Prefix+"-nar"
	for _, ns := range []string{l.mnNS, l.narNS} {
		if err := l.ip("netns", "add", ns); err != nil {
			return err
		}
		l.created = append(l.created, ns)
	}
	mnDev, narDev := "stm"+shortName(l.Prefix), "stn"+shortName(l.Prefix)
	if err := l.ip("link", "add", mnDev, "netns", l.mnNS, "type", "veth", "peer", "name", narDev, "netns", l.narNS); err != nil {
		return err
	}
	mn := []string{"link set lo up", "link set " + mnDev + " up",
		fmt.Sprintf("route add %v via %v dev %s", p.Corr, p.NAR, mnDev)}
	for i := range p.NCoA {
		mn = append(mn, fmt.Sprintf("addr add %v/64 dev %s nodad", p.NCoA[i], mnDev), fmt.Sprintf("addr add %v/128 dev lo", p.HoA[i]))
	}
	// Addresses before the route that uses them.
	mn = append(mn[3:], mn[:3]...)
	if err := l.batch(l.mnNS, mn); err != nil {
		return err
	}
	nar := []string{"link set lo up", "link set " + narDev + " up",
		fmt.Sprintf("addr add %v/64 dev %s nodad", p.NAR, narDev), fmt.Sprintf("addr add %v/128 dev lo", p.CorrAddr)}
	if len(p.NCoA) > 0 {
		nar = append(nar, fmt.Sprintf("route add %v via %v dev %s", p.HomeNet, p.NCoA[0], narDev))
	}
	if err := l.batch(l.narNS, nar); err != nil {
		return err
	}
	var err error
	if err = inNS(l.mnNS, func() (e error) { l.mnConn, e = pfkey.Open(); return }); err != nil {
		return fmt.Errorf("PF_KEY in %s: %w", l.mnNS, err)
	}
	if err = inNS(l.narNS, func() (e error) { l.narC, e = pfkey.Open(); return }); err != nil {
		return fmt.Errorf("PF_KEY in %s: %w", l.narNS, err)
	}
	l.mnK, l.narK = daemon.PFKeyKernel(l.mnConn), daemon.PFKeyKernel(l.narC)
	return nil
}

func shortName(s string) string {
	h := uint32(2166136261)
	for _, c := range []byte(s) {
		h = (h ^ uint32(c)) * 16777619
	}
	return fmt.Sprintf("%06x", h&0xffffff)
}

// Name is the backend's name in reports.
func (l *Lab) Name() string { return "kernel (PF_KEY, " + runtime.GOOS + ")" }

func (l *Lab) NAR() (ipsecmod.Kernel, ikev2.Kernel) { return l.narC, l.narK }
func (l *Lab) MN() ikev2.Kernel                     { return l.mnK }

func cctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// Probe asks the nAR's kernel: SADB_GET by destination and SPI (Linux's
// own lookup) for spi-dst and spi-dst-src (the source compared here), a
// dump for spi.
func (l *Lab) Probe(rule ipsecmod.LookupRule, spi uint32, src, dst netip.Addr) ([]*pfkey.SAEntry, error) {
	ctx, cancel := cctx()
	defer cancel()
	if rule == ipsecmod.RuleSPI {
		sas, err := l.narC.SAs(ctx, pfkey.SATypeESP)
		if err != nil {
			return nil, err
		}
		var out []*pfkey.SAEntry
		for _, e := range sas {
			if e.SPI == spi && e.State != pfkey.SAStateLarval {
				out = append(out, e)
			} else {
				e.Wipe()
			}
		}
		return out, nil
	}
	e, err := l.narC.Get(ctx, pfkey.SATypeESP, src, dst, spi)
	if pfkey.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if e.State == pfkey.SAStateLarval || rule == ipsecmod.RuleSPIDstSrc && e.Src.WithZone("") != src.WithZone("") {
		e.Wipe()
		return nil, nil
	}
	return []*pfkey.SAEntry{e}, nil
}

func inboundBytes(sas []*pfkey.SAEntry, ncoa, nar netip.Addr) map[uint32]uint64 {
	out := map[uint32]uint64{}
	for _, e := range sas {
		if e.Src.WithZone("") == ncoa && e.Dst.WithZone("") == nar {
			out[e.SPI] = e.Current.Bytes
		}
	}
	return out
}

// Traffic sends one UDP datagram from each MN's home address to the
// correspondent address behind the nAR and waits for its echo: both cross
// ESP in tunnel mode (the MN's and the nAR's policies require it). The
// nAR's inbound SA byte counters of the MN must rise.
func (l *Lab) Traffic(p *Plan, mns []MNSAs) ([]TrafficResult, error) {
	ctx, cancel := cctx()
	defer cancel()
	before, err := l.narC.SAs(ctx, pfkey.SATypeESP)
	if err != nil {
		return nil, err
	}
	var srv *net.UDPConn
	if err := inNS(l.narNS, func() (e error) {
		srv, e = net.ListenUDP("udp6", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.CorrAddr, uint16(l.TrafficPort))))
		return
	}); err != nil {
		return nil, err
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			srv.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	socks := make([]*net.UDPConn, len(mns))
	defer func() {
		for _, s := range socks {
			if s != nil {
				s.Close()
			}
		}
	}()
	if err := inNS(l.mnNS, func() error {
		for i, m := range mns {
			s, err := net.ListenUDP("udp6", net.UDPAddrFromAddrPort(netip.AddrPortFrom(m.HoA, 0)))
			if err != nil {
				return err
			}
			socks[i] = s
		}
		return nil
	}); err != nil {
		return nil, err
	}
	res := make([]TrafficResult, len(mns))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.CorrAddr, uint16(l.TrafficPort)))
	for i, m := range mns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := TrafficResult{Index: m.Index}
			msg := fmt.Sprintf("stress MN %d", m.Index)
			buf := make([]byte, 256)
			var err error
			for try := 0; try < 3 && !r.OK; try++ {
				if _, err = socks[i].WriteToUDP([]byte(msg), dst); err != nil {
					continue
				}
				socks[i].SetReadDeadline(time.Now().Add(l.TrafficTimeout))
				var n int
				n, _, err = socks[i].ReadFromUDPAddrPort(buf)
				r.OK = err == nil && string(buf[:n]) == msg
			}
			if !r.OK {
				r.Err = fmt.Sprintf("no echo through ESP from %v: %v", m.HoA, err)
			}
			res[i] = r
		}()
	}
	wg.Wait()
	after, err := l.narC.SAs(ctx, pfkey.SATypeESP)
	if err != nil {
		return res, err
	}
	for i, m := range mns {
		b0, b1 := inboundBytes(before, m.NCoA, p.NAR), inboundBytes(after, m.NCoA, p.NAR)
		var sum0, sum1 uint64
		for _, c := range m.Children {
			sum0 += b0[c.SPIOut]
			sum1 += b1[c.SPIOut]
		}
		res[i].BytesIn = sum1
		if res[i].OK && sum1 <= sum0 {
			res[i].OK, res[i].Err = false, fmt.Sprintf("the nAR's inbound SA byte counter for %v did not rise (%d -> %d)", m.NCoA, sum0, sum1)
		}
	}
	for _, e := range append(before, after...) {
		e.Wipe()
	}
	return res, nil
}

// Close closes the sockets and deletes the namespaces it created.
func (l *Lab) Close() error {
	var errs []error
	for _, c := range []*pfkey.Conn{l.mnConn, l.narC} {
		if c != nil {
			c.Close()
		}
	}
	for _, ns := range l.created {
		if err := l.ip("netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	l.created = nil
	return errors.Join(errs...)
}
