package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/ikectx/ikectx/cxtp"
)

func TestMNRetransmissionSchedule(t *testing.T) {
	w := newWorld(t)
	var at result
	w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb)
	start := w.clk.Now()
	w.clk.Advance(50 * time.Second) // nobody delivers anything
	ctars := w.sent(cxtp.TypeCTAR)
	var offs []time.Duration
	seqs := map[uint32]bool{}
	for _, p := range ctars {
		offs = append(offs, p.at.Sub(start))
		m := p.msg(t).(*cxtp.CTAR)
		if seqs[m.Seq] {
			t.Fatalf("sequence number %d reused", m.Seq)
		}
		seqs[m.Seq] = true
		if !cxtp.VerifyToken(key, aMN, m.Seq, nil, m.Token) {
			t.Fatal("retransmission carries a stale token")
		}
	}
	ms := time.Millisecond
	want := []time.Duration{0, 200 * ms, 600 * ms, 1400 * ms, 3000 * ms, 6200 * ms, 12600 * ms, 25400 * ms, 40400 * ms}
	if len(offs) != len(want) {
		t.Fatalf("CTAR at %v, want %v", offs, want)
	}
	for i := range want {
		if offs[i] != want[i] {
			t.Fatalf("CTAR at %v, want %v", offs, want)
		}
	}
	r := at.one(t)
	if !errors.Is(r.Err, ErrNoAnswer) || r.Attempts != len(want) || r.Elapsed != 45*time.Second {
		t.Fatalf("%+v", r)
	}
	if len(w.clk.Pending()) != 0 {
		t.Fatalf("timers left: %v", w.clk.Pending())
	}
}

func TestMNIgnoresStrayCTAA(t *testing.T) {
	w := newWorld(t)
	b, _ := cxtp.Marshal(&cxtp.CTAA{PrevCoA: aMN})
	w.mn.HandleAR(aNARx, b)     // nothing pending
	w.mn.HandleAR(aNARx, b[:7]) // truncated
	var at result
	w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb)
	w.mn.HandleAR(aEvil, b) // pending, but from another router
	m := w.mn.Metrics()
	if m.Rejected[ReasonUnexpected] != 2 || m.Rejected[ReasonTruncated]+m.Rejected[ReasonMalformed] != 1 {
		t.Fatalf("%+v", m)
	}
	w.mn.HandleAR(aNARx, b)
	if r := at.one(t); r.Err != nil {
		t.Fatalf("%+v", r)
	}
}

func TestMNRejectsMixedFamilies(t *testing.T) {
	w := newWorld(t)
	if err := w.mn.Attach(aNARx, aPARx, netip4(), nil, nil); err == nil {
		t.Fatal("mixed families accepted")
	}
}
