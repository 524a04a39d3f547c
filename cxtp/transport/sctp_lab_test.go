//go:build lab && linux

package transport

import (
	"bytes"
	"net/netip"
	"os/exec"
	"testing"
	"time"

	"github.com/ikectx/ikectx/cxtp"
)

// Kernel-lab tests: SCTP needs the sctp module, which the development host
// lacks. Run with: go run ./cmd/testbed lab test ./cxtp/transport

func sctpPair(t *testing.T, nsA, nsB string, a, b netip.AddrPort, opts SCTPOptions) (*SCTPConn, *SCTPConn) {
	t.Helper()
	var ca, cb *SCTPConn
	listen := func(ns string, ap netip.AddrPort, c **SCTPConn) {
		f := func() (err error) { *c, err = ListenSCTP(ap, opts); return }
		if ns == "" {
			if err := f(); err != nil {
				t.Fatal(err)
			}
			return
		}
		inNS(t, ns, f)
	}
	listen(nsA, a, &ca)
	t.Cleanup(func() { ca.Close() })
	listen(nsB, b, &cb)
	t.Cleanup(func() { cb.Close() })
	return ca, cb
}

// exchangeSCTP sends n messages each way, in bursts, and checks content,
// sender, and the unordered flag of every message.
func exchangeSCTP(t *testing.T, a, b *SCTPConn, n int, wantUnordered bool) {
	t.Helper()
	mn := netip.MustParseAddr("2001:db8:1::10")
	send := func(from, to *SCTPConn, dir string) {
		for i := range n {
			m := &cxtp.CTD{ElapsedTime: uint32(i), PrevCoA: mn, CDBs: []cxtp.CDB{{FPT: cxtp.FPTGeneric, Data: []byte(dir + "-context-data")}}}
			wire, _ := cxtp.Marshal(m)
			if err := from.WriteTo(wire, to.LocalAddr()); err != nil {
				t.Fatalf("%s %d: %v", dir, i, err)
			}
		}
	}
	recv := func(at, from *SCTPConn, dir string) {
		got := map[uint32]bool{}
		for range n {
			pkt, err := at.ReadFrom(ctxT(t, 10*time.Second))
			if err != nil {
				t.Fatalf("%s: after %d messages: %v", dir, len(got), err)
			}
			if pkt.From.Addr() != from.LocalAddr().Addr() || pkt.Via != KindSCTP {
				t.Fatalf("%s: from %v, want %v", dir, pkt.From, from.LocalAddr())
			}
			if pkt.Unordered != wantUnordered {
				t.Fatalf("%s: unordered=%v, want %v", dir, pkt.Unordered, wantUnordered)
			}
			m, err := cxtp.Parse(pkt.Data)
			if err != nil {
				t.Fatalf("%s: %v", dir, err)
			}
			ctd := m.(*cxtp.CTD)
			if !bytes.HasPrefix(ctd.CDBs[0].Data, []byte(dir+"-context-data")) {
				t.Fatalf("%s: data %q", dir, ctd.CDBs[0].Data)
			}
			got[ctd.ElapsedTime] = true
		}
		if len(got) != n {
			t.Fatalf("%s: %d distinct messages of %d", dir, len(got), n)
		}
	}
	// Both directions in flight at once.
	send(a, b, "a2b")
	send(b, a, "b2a")
	recv(b, a, "a2b")
	recv(a, b, "b2a")
	if s := a.Stats(); s.Sent != uint64(n) || s.Received != uint64(n) {
		t.Fatalf("stats of a: %+v", s)
	}
}

func TestLabSCTPNamespaces(t *testing.T) {
	p := newNSPair(t)
	a, b := sctpPair(t, p.A, p.B,
		netip.AddrPortFrom(netip.MustParseAddr(p.A6), 0),
		netip.AddrPortFrom(netip.MustParseAddr(p.B6), 0), SCTPOptions{})
	if a.LocalAddr().Port() != cxtp.Port {
		t.Fatalf("bound %v", a.LocalAddr())
	}
	start := time.Now()
	exchangeSCTP(t, a, b, 20, true)
	t.Logf("40 CXTP messages over SCTP (one-to-many, unordered) in %v", time.Since(start))
}

func TestLabSCTPIPv4Loopback(t *testing.T) {
	exec.Command(ipBinaryPath(), "link", "set", "lo", "up").Run()
	a, b := sctpPair(t, "", "",
		netip.MustParseAddrPort("127.0.0.1:5091"),
		netip.MustParseAddrPort("127.0.0.2:5091"), SCTPOptions{})
	exchangeSCTP(t, a, b, 10, true)
}

func TestLabSCTPOrdered(t *testing.T) {
	exec.Command(ipBinaryPath(), "link", "set", "lo", "up").Run()
	a, b := sctpPair(t, "", "",
		netip.MustParseAddrPort("[::1]:5191"),
		netip.MustParseAddrPort("[::1]:5192"), SCTPOptions{Ordered: true})
	exchangeSCTP(t, a, b, 5, false)
}

// TestLabSCTPLargeMessage sends a CTD near the 64 KiB limit of the CXTP
// length field.
func TestLabSCTPLargeMessage(t *testing.T) {
	p := newNSPair(t)
	a, b := sctpPair(t, p.A, p.B,
		netip.AddrPortFrom(netip.MustParseAddr(p.A6), 0),
		netip.AddrPortFrom(netip.MustParseAddr(p.B6), 0), SCTPOptions{})
	data := make([]byte, 60000)
	for i := range data {
		data[i] = byte(i * 13)
	}
	wire, err := cxtp.Marshal(&cxtp.CTD{PrevCoA: netip.MustParseAddr("2001:db8:1::10"), CDBs: cxtp.SplitContext(cxtp.FPTGeneric, data)})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.WriteTo(wire, b.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	pkt, err := b.ReadFrom(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pkt.Data, wire) {
		t.Fatalf("received %d octets, sent %d", len(pkt.Data), len(wire))
	}
}

func TestLabUDPExchange(t *testing.T)    { TestUDPExchange(t) }
func TestLabICMPv6Exchange(t *testing.T) { TestICMPv6Exchange(t) }
func TestLabICMPv6HopLimit(t *testing.T) { TestICMPv6DropsWrongHopLimit(t) }
func TestLabFrameSizes(t *testing.T)     { TestFrameSizes(t) }

// TestLabSCTPWildcardIPv4Peer: an AR bound to the IPv6 wildcard exchanges
// with an IPv4-only peer (IPv4-mapped addresses inside, plain outside).
func TestLabSCTPWildcardIPv4Peer(t *testing.T) {
	exec.Command(ipBinaryPath(), "link", "set", "lo", "up").Run()
	a, b := sctpPair(t, "", "",
		netip.AddrPortFrom(netip.Addr{}, 5291),
		netip.MustParseAddrPort("127.0.0.1:5292"), SCTPOptions{})
	msg := []byte{0x26, 0x80, 0x00, 0x08, 198, 51, 100, 10} // CTC, IPv4 form
	if err := b.WriteTo(msg, netip.MustParseAddrPort("127.0.0.1:5291")); err != nil {
		t.Fatal(err)
	}
	p, err := a.ReadFrom(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if p.From != b.LocalAddr() || !bytes.Equal(p.Data, msg) {
		t.Fatalf("from %v (want %v), % x", p.From, b.LocalAddr(), p.Data)
	}
	if err := a.WriteTo(msg, p.From); err != nil {
		t.Fatal(err)
	}
	if p, err := b.ReadFrom(ctxT(t, 10*time.Second)); err != nil || p.From.Port() != 5291 {
		t.Fatalf("reply: %+v %v", p, err)
	}
}

// TestLabSCTPRoundTrips measures CXTP round trips over SCTP and UDP
// between two namespaces under the lab's emulation and logs them (a figure,
// not a threshold: the VM runs under TCG).
func TestLabSCTPRoundTrips(t *testing.T) {
	p := newNSPair(t)
	a, b := sctpPair(t, p.A, p.B,
		netip.AddrPortFrom(netip.MustParseAddr(p.A6), 0),
		netip.AddrPortFrom(netip.MustParseAddr(p.B6), 0), SCTPOptions{})
	var ua, ub *UDPConn
	inNS(t, p.A, func() (err error) { ua, err = ListenUDP(netip.AddrPortFrom(netip.MustParseAddr(p.A6), 0)); return })
	defer ua.Close()
	inNS(t, p.B, func() (err error) { ub, err = ListenUDP(netip.AddrPortFrom(netip.MustParseAddr(p.B6), 0)); return })
	defer ub.Close()
	msg, _ := cxtp.Marshal(&cxtp.CTD{PrevCoA: netip.MustParseAddr("2001:db8:1::10"), CDBs: []cxtp.CDB{{FPT: cxtp.FPTGeneric, Data: make([]byte, 596)}}})
	for _, pair := range []struct {
		name string
		x, y Conn
	}{{"sctp", a, b}, {"udp", ua, ub}} {
		rt := func() time.Duration {
			start := time.Now()
			if err := pair.x.WriteTo(msg, pair.y.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			pk, err := pair.y.ReadFrom(ctxT(t, 10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if err := pair.y.WriteTo(pk.Data, pk.From); err != nil {
				t.Fatal(err)
			}
			if _, err := pair.x.ReadFrom(ctxT(t, 10*time.Second)); err != nil {
				t.Fatal(err)
			}
			return time.Since(start)
		}
		first := rt()
		const n = 100
		var total time.Duration
		for range n {
			total += rt()
		}
		t.Logf("%s: first round trip %v (association/ND set-up), then %v average over %d (%d-octet CTD, TCG emulation)",
			pair.name, first, total/n, n, len(msg))
	}
}
