package engine

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ikectx/ikectx/cxtp"
)

const fptSA, fptSP, fptIKE cxtp.FPT = 0x8101, 0x8102, 0x8103

// probe is a nAR handler that records how many CTAAs had been sent when it
// was activated, and takes part in a batch or comes after the CTAA.
type probe struct {
	*fakeHandler
	w       *world
	after   bool
	batch   BatchActivator
	ctaasAt int
}

func (h *probe) ActivateAfterAck() bool          { return h.after }
func (h *probe) ActivationBatch() BatchActivator { return h.batch }
func (h *probe) Activate(ctx context.Context, mn MN) error {
	h.ctaasAt = len(h.w.sent(cxtp.TypeCTAA))
	return h.fakeHandler.Activate(ctx, mn)
}

// recBatch activates its probes in one call and records the calls.
type recBatch struct {
	w       *world
	hs      map[cxtp.FPT]*probe
	calls   [][]cxtp.FPT
	ctaasAt int
}

func (b *recBatch) ActivateBatch(ctx context.Context, mn MN, fpts []cxtp.FPT) []error {
	b.calls = append(b.calls, append([]cxtp.FPT(nil), fpts...))
	b.ctaasAt = len(b.w.sent(cxtp.TypeCTAA))
	errs := make([]error, len(fpts))
	for i, f := range fpts {
		errs[i] = b.hs[f].fakeHandler.Activate(ctx, mn)
	}
	return errs
}

// TestAfterAckAndBatch: the SA and SP FPTs of one module are activated in
// one batch before the CTAA, the IKE FPT after it; the IKE FPT's failure
// is not in the CTAA (which says the traffic passes) but in the CTDR.
func TestAfterAckAndBatch(t *testing.T) {
	var w *world
	var hs map[cxtp.FPT]*probe
	var batch *recBatch
	w = newWorld(t, func(cp, cn *ARConfig) {
		hs = map[cxtp.FPT]*probe{}
		batch = &recBatch{hs: hs}
		for _, f := range []cxtp.FPT{fptSA, fptSP, fptIKE} {
			hp := newFake()
			hp.contexts[aMN] = bytes.Repeat([]byte{byte(f)}, 40)
			if err := cp.Registry.Register(Registration{FPT: f, Handler: hp}); err != nil {
				t.Fatal(err)
			}
			h := &probe{fakeHandler: newFake()}
			if f == fptIKE {
				h.after = true
				h.failAct = true
			} else {
				h.batch = batch
			}
			hs[f] = h
			if err := cn.Registry.Register(Registration{FPT: f, Handler: h}); err != nil {
				t.Fatal(err)
			}
		}
	})
	batch.w = w
	for _, h := range hs {
		h.w = w
	}
	w.par.Trigger(aMN, aNAR)
	w.deliver(nil)
	if got := w.nar.State(aMN); got != "stored" {
		t.Fatalf("nAR state %q, want stored", got)
	}
	n0 := len(w.sent(cxtp.TypeCTAA))
	var at result
	if err := w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb); err != nil {
		t.Fatal(err)
	}
	w.deliver(nil)
	r := at.one(t)
	if r.Err != nil || len(r.Failures) != 0 {
		t.Fatalf("the CTAA must report the traffic FPTs only (all active): %+v", r)
	}
	if len(batch.calls) != 1 || len(batch.calls[0]) != 2 || batch.calls[0][0] != fptSA || batch.calls[0][1] != fptSP {
		t.Fatalf("want one batch [SA SP], got %v", batch.calls)
	}
	if batch.ctaasAt != n0 {
		t.Fatalf("batch ran after the CTAA")
	}
	if hs[fptSA].active[aMN] != aMN2 || hs[fptSP].active[aMN] != aMN2 || w.hn.active[aMN] != aMN2 {
		t.Fatalf("not activated with the new CoA")
	}
	if hs[fptIKE].ctaasAt != n0+1 {
		t.Fatalf("IKE FPT activated with %d CTAAs sent, want %d (after the CTAA)", hs[fptIKE].ctaasAt, n0+1)
	}
	ctdr := w.sent(cxtp.TypeCTDR)
	if len(ctdr) != 1 {
		t.Fatalf("CTDR: %d", len(ctdr))
	}
	c := ctdr[0].msg(t).(*cxtp.CTDR)
	if c.Success || len(c.Status) != 1 || c.Status[0].FPT != fptIKE || c.Status[0].Status != cxtp.StatusInstallFailed {
		t.Fatalf("the CTDR must report the IKE FPT's failure: %v", c)
	}
	if st := w.hp.transferred[aMN]; st != cxtp.StatusSuccess {
		t.Fatalf("pAR's fptA: %v", st)
	}
	if m := w.nar.Metrics(); m.Activated != 1 || m.Sent["CTAA"] != 1 {
		t.Fatalf("nAR metrics %+v", m)
	}
	// A retransmitted CTAR gets the same CTAA and activates nothing again.
	before := len(hs[fptIKE].calls)
	w.nar.HandleMN(aMN2, w.sent(cxtp.TypeCTAR)[len(w.sent(cxtp.TypeCTAR))-1].b)
	w.deliver(nil)
	if len(batch.calls) != 1 || len(hs[fptIKE].calls) != before {
		t.Fatal("activated again on a retransmitted CTAR")
	}
}

// TestAfterAckDelay: with AfterAckDelay the FPTs activated after the CTAA,
// and the CTDR reporting them, wait for the delay; the CTAA does not.
func TestAfterAckDelay(t *testing.T) {
	hs := map[cxtp.FPT]*probe{}
	w := newWorld(t, func(cp, cn *ARConfig) {
		cn.AfterAckDelay = 100 * time.Millisecond
		for _, f := range []cxtp.FPT{fptSP, fptIKE} {
			hp := newFake()
			hp.contexts[aMN] = bytes.Repeat([]byte{byte(f)}, 40)
			if err := cp.Registry.Register(Registration{FPT: f, Handler: hp}); err != nil {
				t.Fatal(err)
			}
			h := &probe{fakeHandler: newFake(), after: f == fptIKE}
			hs[f] = h
			if err := cn.Registry.Register(Registration{FPT: f, Handler: h}); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, h := range hs {
		h.w = w
	}
	w.par.Trigger(aMN, aNAR)
	w.deliver(nil)
	var at result
	if err := w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb); err != nil {
		t.Fatal(err)
	}
	w.deliver(nil)
	if r := at.one(t); r.Err != nil || len(r.Failures) != 0 {
		t.Fatalf("CTAA: %+v", r)
	}
	if hs[fptSP].active[aMN] != aMN2 {
		t.Fatal("the traffic FPT must be active at the CTAA")
	}
	if slices.Contains(hs[fptIKE].calls, "activate") || len(w.sent(cxtp.TypeCTDR)) != 0 {
		t.Fatalf("before the delay: IKE FPT calls %v, CTDRs %d, want no activation and no CTDR", hs[fptIKE].calls, len(w.sent(cxtp.TypeCTDR)))
	}
	w.clk.Advance(100 * time.Millisecond)
	w.deliver(nil)
	if hs[fptIKE].active[aMN] != aMN2 {
		t.Fatal("the IKE FPT was not activated after the delay")
	}
	ctdr := w.sent(cxtp.TypeCTDR)
	if len(ctdr) != 1 || !ctdr[0].msg(t).(*cxtp.CTDR).Success {
		t.Fatalf("CTDR after the delay: %v", ctdr)
	}
	if m := w.nar.Metrics(); m.Activated != 1 {
		t.Fatalf("nAR metrics %+v", m)
	}
}
