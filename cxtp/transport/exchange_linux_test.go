package transport

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"

	"github.com/ikectx/ikectx/cxtp"
)

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestICMPv6Exchange(t *testing.T) {
	p := newNSPair(t)
	var mn, ar *ICMPv6Conn
	inNS(t, p.A, func() (err error) { mn, err = ListenICMPv6(netip.MustParseAddr(p.A6)); return })
	defer mn.Close()
	inNS(t, p.B, func() (err error) { ar, err = ListenICMPv6(netip.MustParseAddr(p.B6)); return })
	defer ar.Close()

	mnAddr, arAddr := netip.MustParseAddr(p.A6), netip.MustParseAddr(p.B6)
	ctar, _ := cxtp.Marshal(&cxtp.CTAR{PrevCoA: netip.MustParseAddr("2001:db8:1::10"), PrevAR: netip.MustParseAddr("2001:db8:1::1"), Seq: 42})
	if err := mn.WriteTo(ctar, netip.AddrPortFrom(arAddr, 0)); err != nil {
		t.Fatal(err)
	}
	pkt, err := ar.ReadFrom(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if pkt.From.Addr() != mnAddr || pkt.HopLimit != 255 || pkt.Via != KindICMPv6 || pkt.To != arAddr || pkt.IfIndex == 0 {
		t.Fatalf("packet meta: %+v", pkt)
	}
	m, err := cxtp.Parse(pkt.Data)
	if err != nil || m.(*cxtp.CTAR).Seq != 42 {
		t.Fatalf("CTAR: %v %v", m, err)
	}
	ctaa, _ := cxtp.Marshal(&cxtp.CTAA{PrevCoA: netip.MustParseAddr("2001:db8:1::10")})
	if err := ar.WriteTo(ctaa, pkt.From); err != nil {
		t.Fatal(err)
	}
	back, err := mn.ReadFrom(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if m, err := cxtp.Parse(back.Data); err != nil || m.Type() != cxtp.TypeCTAA {
		t.Fatalf("CTAA: %v %v", m, err)
	}
	if s := ar.Stats(); s.Received != 1 || s.Sent != 1 {
		t.Fatalf("AR stats %+v", s)
	}
}

// sendRawICMPv6 sends one ICMPv6 message from namespace ns with the given
// hop limit, bypassing ICMPv6Conn.
func sendRawICMPv6(t *testing.T, ns string, from, to string, hop int, body []byte) {
	inNS(t, ns, func() error {
		c, err := icmp.ListenPacket("ip6:ipv6-icmp", from)
		if err != nil {
			return err
		}
		defer c.Close()
		cm := &ipv6.ControlMessage{HopLimit: hop}
		_, err = c.IPv6PacketConn().WriteTo(body, cm, &net.IPAddr{IP: net.ParseIP(to)})
		return err
	})
}

func TestICMPv6DropsWrongHopLimit(t *testing.T) {
	p := newNSPair(t)
	var ar *ICMPv6Conn
	inNS(t, p.B, func() (err error) { ar, err = ListenICMPv6(netip.Addr{}); return })
	defer ar.Close()
	ctc, _ := cxtp.Marshal(&cxtp.CTC{PrevCoA: netip.MustParseAddr("2001:db8:1::10")})
	// Forwarded (hop limit 64 and 254) and malformed (wrong subtype, too
	// short) messages must not come out; the last, good one must.
	sendRawICMPv6(t, p.A, p.A6, p.B6, 64, AppendICMPv6(nil, ctc))
	sendRawICMPv6(t, p.A, p.A6, p.B6, 254, AppendICMPv6(nil, ctc))
	sendRawICMPv6(t, p.A, p.A6, p.B6, 255, append([]byte{150, 0, 0, 0, 2, 0, 0, 0}, ctc...))
	sendRawICMPv6(t, p.A, p.A6, p.B6, 255, []byte{150, 0, 0, 0})
	sendRawICMPv6(t, p.A, p.A6, p.B6, 255, append(AppendICMPv6(nil, ctc)[:0:0], AppendICMPv6(nil, ctc)...))
	pkt, err := ar.ReadFrom(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if pkt.HopLimit != 255 {
		t.Fatalf("hop limit %d delivered", pkt.HopLimit)
	}
	s := ar.Stats()
	if s.DroppedHopLimit != 2 || s.DroppedMalformed != 2 || s.Received != 1 {
		t.Fatalf("stats %+v, want 2 dropped for hop limit, 2 malformed, 1 received", s)
	}
	// Nothing else is queued.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := ar.ReadFrom(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("extra packet or wrong error: %v", err)
	}
}

func TestUDPExchange(t *testing.T) {
	p := newNSPair(t)
	for _, fam := range []struct{ a, b string }{{p.A6, p.B6}, {p.A4, p.B4}} {
		var pa, pb *UDPConn
		inNS(t, p.A, func() (err error) { pa, err = ListenUDP(netip.AddrPortFrom(netip.MustParseAddr(fam.a), 0)); return })
		inNS(t, p.B, func() (err error) { pb, err = ListenUDP(netip.AddrPortFrom(netip.MustParseAddr(fam.b), 0)); return })
		if pa.LocalAddr().Port() != cxtp.Port {
			t.Fatalf("bound %v, want port %d", pa.LocalAddr(), cxtp.Port)
		}
		mn := netip.MustParseAddr("2001:db8:1::10")
		if fam.a == p.A4 {
			mn = netip.MustParseAddr("198.51.100.10")
		}
		// Several messages both ways.
		for i := range 5 {
			b, _ := cxtp.Marshal(&cxtp.CTD{ElapsedTime: uint32(i), PrevCoA: mn, CDBs: []cxtp.CDB{{FPT: cxtp.FPTGeneric, Data: []byte("context")}}})
			if err := pa.WriteTo(b, pb.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			pkt, err := pb.ReadFrom(ctxT(t, 5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if pkt.From != pa.LocalAddr() || pkt.Via != KindUDP {
				t.Fatalf("from %v, want %v", pkt.From, pa.LocalAddr())
			}
			m, err := cxtp.Parse(pkt.Data)
			if err != nil || m.(*cxtp.CTD).ElapsedTime != uint32(i) {
				t.Fatalf("CTD %d: %v %v", i, m, err)
			}
			r, _ := cxtp.Marshal(&cxtp.CTDR{Success: true, PrevCoA: mn})
			if err := pb.WriteTo(r, pkt.From); err != nil {
				t.Fatal(err)
			}
			back, err := pa.ReadFrom(ctxT(t, 5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if m, err := cxtp.Parse(back.Data); err != nil || !m.(*cxtp.CTDR).Success {
				t.Fatalf("CTDR: %v %v", m, err)
			}
		}
		pa.Close()
		pb.Close()
	}
}

func TestUDPReadCancelAndClose(t *testing.T) {
	c, err := ListenUDP(netip.MustParseAddrPort("127.0.0.1:45193"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.ReadFrom(ctx); done <- err }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v", err)
	}
	go func() { _, err := c.ReadFrom(context.Background()); done <- err }()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}
