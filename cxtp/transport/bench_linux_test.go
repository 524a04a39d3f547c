package transport

import (
	"context"
	"net/netip"
	"testing"

	"github.com/ikectx/ikectx/cxtp"
)

func benchRoundTrip(b *testing.B, a, c Conn, msg []byte) {
	ctx := context.Background()
	// One round trip first: neighbour discovery is not part of the figure.
	a.WriteTo(msg, c.LocalAddr())
	if pkt, err := c.ReadFrom(ctx); err == nil {
		c.WriteTo(pkt.Data, pkt.From)
		a.ReadFrom(ctx)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := a.WriteTo(msg, c.LocalAddr()); err != nil {
			b.Fatal(err)
		}
		pkt, err := c.ReadFrom(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.WriteTo(pkt.Data, pkt.From); err != nil {
			b.Fatal(err)
		}
		if _, err := a.ReadFrom(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "roundtrips/s")
}

// BenchmarkUDPRoundTrip: a CTD the size of 2 SAs + 2 policies + 1 IKE SA
// over UDP on loopback, there and back.
func BenchmarkUDPRoundTrip(b *testing.B) {
	a, err := ListenUDP(netip.MustParseAddrPort("127.0.0.1:45194"))
	if err != nil {
		b.Skip(err)
	}
	defer a.Close()
	c, err := ListenUDP(netip.MustParseAddrPort("127.0.0.1:45195"))
	if err != nil {
		b.Skip(err)
	}
	defer c.Close()
	cdbs := []cxtp.CDB{{FPT: cxtp.FPTIPsecSA, Data: make([]byte, 148)}, {FPT: cxtp.FPTIPsecSA, Data: make([]byte, 148)},
		{FPT: cxtp.FPTIPsecSP, Data: make([]byte, 76)}, {FPT: cxtp.FPTIPsecSP, Data: make([]byte, 76)}, {FPT: cxtp.FPTIKEv1SA, Data: make([]byte, 132)}}
	msg, _ := cxtp.Marshal(&cxtp.CTD{PrevCoA: netip.MustParseAddr("2001:db8:1::10"), CDBs: cdbs})
	benchRoundTrip(b, a, c, msg)
}

// BenchmarkICMPv6RoundTrip: CTAR out, the same bytes back, over the ICMPv6
// transport between two namespaces (root only).
func BenchmarkICMPv6RoundTrip(b *testing.B) {
	p := newNSPair(b)
	var a, c *ICMPv6Conn
	inNS(b, p.A, func() (err error) { a, err = ListenICMPv6(netip.MustParseAddr(p.A6)); return })
	defer a.Close()
	inNS(b, p.B, func() (err error) { c, err = ListenICMPv6(netip.MustParseAddr(p.B6)); return })
	defer c.Close()
	msg, _ := cxtp.Marshal(&cxtp.CTAR{PrevCoA: netip.MustParseAddr("2001:db8:1::10"), PrevAR: netip.MustParseAddr("2001:db8:1::1"), Seq: 1})
	benchRoundTrip(b, a, c, msg)
}
