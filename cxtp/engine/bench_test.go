package engine

import (
	"context"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/ikectx/ikectx/cxtp"
)

// nopHandler accepts everything and keeps nothing: the benchmarks measure
// the engine, not a module.
type nopHandler struct{ data []byte }

func (h nopHandler) Capture(context.Context, MN) ([]byte, error) { return h.data, nil }
func (nopHandler) PreInstall(context.Context, MN, []byte) error  { return nil }
func (nopHandler) Activate(context.Context, MN) error            { return nil }
func (nopHandler) Discard(context.Context, MN)                   {}
func (nopNet) SendAR(netip.Addr, []byte) error                   { return nil }
func (nopNet) SendMN(netip.Addr, []byte) error                   { return nil }

type nopNet struct{}

// benchContext is a context the size of 2 IPsec SAs + 2 policies + 1 IKE
// SA: 2x160 + 2x64 + 1x152 = 600 octets of context data in three FPTs.
var benchFPTs = []struct {
	fpt  cxtp.FPT
	size int
}{{cxtp.FPTIPsecSA, 320}, {cxtp.FPTIPsecSP, 128}, {cxtp.FPTIKEv1SA, 152}}

func benchNAR(tb testing.TB, clk Clock) *AR {
	reg := NewRegistry()
	for _, f := range benchFPTs {
		reg.Register(Registration{FPT: f.fpt, Handler: nopHandler{}, KeyMaterial: true})
	}
	a, err := NewAR(ARConfig{Self: aNAR, Access: aNARx, Peers: []Peer{{Addr: aPAR, AccessAddrs: []netip.Addr{aPARx}}},
		Registry: reg, Net: nopNet{}, Clock: clk, Protection: ProtectedSet{aPAR: true}, MaxEntries: 1 << 20})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func benchMN(i int) netip.Addr {
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 12: byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
}

func benchPCTD(tb testing.TB, mn netip.Addr) []byte {
	var cdbs []cxtp.CDB
	for _, f := range benchFPTs {
		cdbs = append(cdbs, cxtp.SplitContext(f.fpt, frame(make([]byte, f.size)))...)
	}
	b, err := cxtp.Marshal(&cxtp.PCTD{Ack: true, PrevCoA: mn, Algorithm: cxtp.AlgHMACSHA1, Key: key, CDBs: cdbs})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func benchCTAR(tb testing.TB, mn netip.Addr, seq uint32) []byte {
	b, err := cxtp.Marshal(&cxtp.CTAR{PrevCoA: mn, PrevAR: aPARx, Seq: seq, Token: cxtp.Token(key, mn, seq, nil)})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkARContextThroughput: one nAR engine, per operation: PCTD in
// (decode, store, pre-install 3 FPTs), CTAR in (decode, token check, key
// wiped, activate), CTAA and CTDR out (encode, send). Reports contexts/s.
func BenchmarkARContextThroughput(b *testing.B) {
	clk := NewManualClock()
	a := benchNAR(b, clk)
	const pool = 4096
	pctd := make([][]byte, pool)
	ctar := make([][]byte, pool)
	mns := make([]netip.Addr, pool)
	for i := range pool {
		mns[i] = benchMN(i)
		pctd[i] = benchPCTD(b, mns[i])
		ctar[i] = benchCTAR(b, mns[i], uint32(i))
	}
	b.SetBytes(int64(len(pctd[0])))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for n := 0; n < b.N; n++ {
		i := n % pool
		if i == 0 && n > 0 {
			b.StopTimer()
			clk.Advance(time.Minute) // tombstones and sequence windows go
			b.StartTimer()
		}
		a.HandleAR(aPAR, pctd[i])
		a.HandleMN(aMN2, ctar[i])
	}
	el := time.Since(start)
	b.StopTimer()
	if m := a.Metrics(); m.Activated != uint64(b.N) || len(m.Rejected) != 0 {
		b.Fatalf("activated %d of %d: %+v", m.Activated, b.N, m)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "contexts/s")
}

// BenchmarkARStoredContextMemory reports the heap held per stored (not yet
// activated) context of ~600 octets.
func BenchmarkARStoredContextMemory(b *testing.B) {
	const n = 20000
	pctd := make([][]byte, n)
	for i := range n {
		pctd[i] = benchPCTD(b, benchMN(i))
	}
	var perCtx float64
	for it := 0; it < b.N; it++ {
		a := benchNAR(b, NewManualClock())
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range n {
			a.HandleAR(aPAR, pctd[i])
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if a.Metrics().Stored != n {
			b.Fatal("not stored")
		}
		perCtx = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(a)
	}
	b.ReportMetric(perCtx, "bytes/context")
}
