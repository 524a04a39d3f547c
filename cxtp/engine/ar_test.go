package engine

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/ikectx/ikectx/cxtp"
)

func TestPredictiveMNTriggered(t *testing.T) {
	w := newWorld(t)
	var ho, at result
	if err := w.mn.Handover(aPARx, aNAR, aMN, nil, ho.cb); err != nil {
		t.Fatal(err)
	}
	w.deliver(nil)
	if r := ho.one(t); r.Err != nil || len(r.Failures) != 0 || r.AR != aPARx {
		t.Fatalf("handover result %+v", r)
	}
	if got := w.nar.State(aMN); got != "stored" {
		t.Fatalf("nAR state %q, want stored", got)
	}
	if !bytes.Equal(w.hn.pre[aMN], w.hp.contexts[aMN]) || w.hn.activeCount() != 0 {
		t.Fatalf("pre-install wrong or activated too early")
	}
	pctd := w.sent(cxtp.TypePCTD)[0].msg(t).(*cxtp.PCTD)
	if !bytes.Equal(pctd.Key, key) || pctd.Algorithm != cxtp.AlgHMACSHA1 || !pctd.Ack {
		t.Fatalf("PCTD fields: %v", pctd)
	}

	if err := w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb); err != nil {
		t.Fatal(err)
	}
	w.deliver(nil)
	if r := at.one(t); r.Err != nil || len(r.Failures) != 0 || r.AR != aNARx || r.Attempts != 1 {
		t.Fatalf("attach result %+v", r)
	}
	if w.hn.active[aMN] != aMN2 {
		t.Fatalf("not activated with the new CoA: %v", w.hn.active)
	}
	ctdr := w.sent(cxtp.TypeCTDR)
	if len(ctdr) != 1 || ctdr[0].to != aPAR || !ctdr[0].msg(t).(*cxtp.CTDR).Success {
		t.Fatalf("CTDR: %+v", ctdr)
	}
	if nar, done, _, ok := w.par.Transfer(aMN); !ok || !done || nar != aNAR {
		t.Fatalf("pAR did not record the CTDR")
	}
	if st, ok := w.hp.transferred[aMN]; !ok || st != cxtp.StatusSuccess {
		t.Fatalf("pAR handler not told of the transfer: %v", w.hp.transferred)
	}
	// A duplicate CTDR is refused.
	dup, _ := cxtp.Marshal(&cxtp.CTDR{Success: true, PrevCoA: aMN})
	w.par.HandleAR(aNAR, dup)
	if w.par.Metrics().Rejected[ReasonUnexpected] != 1 {
		t.Fatalf("%+v", w.par.Metrics())
	}
	if len(w.sent(cxtp.TypeCTReq)) != 0 {
		t.Fatal("predictive transfer must not send CT-Req")
	}
	m := w.nar.Metrics()
	if m.Stored != 1 || m.Activated != 1 || len(m.Rejected) != 0 || m.Received["CTAR"] != 1 || m.Sent["CTAA"] != 1 {
		t.Fatalf("nAR metrics %+v", m)
	}
	// The CTAA is the paper's 20 CXTP octets (82-byte frame).
	if n := len(w.sent(cxtp.TypeCTAA)[1].b); n != 20 {
		t.Fatalf("CTAA is %d octets, want 20", n)
	}
	if n := len(w.sent(cxtp.TypeCTAR)[1].b); n != 44 {
		t.Fatalf("CTAR is %d octets, want 44", n)
	}
}

func TestPredictiveLocalTrigger(t *testing.T) {
	w := newWorld(t)
	if _, err := w.par.Trigger(aMN, aNARx); err != nil { // access address resolves to the peer
		t.Fatal(err)
	}
	w.deliver(nil)
	var at result
	w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb)
	w.deliver(nil)
	if r := at.one(t); r.Err != nil || len(r.Failures) != 0 {
		t.Fatalf("%+v", r)
	}
	if _, err := w.par.Trigger(aMN2, aNAR); err == nil {
		t.Fatal("trigger for an MN without key accepted")
	}
	if _, err := w.par.Trigger(aMN, aEvil); err == nil {
		t.Fatal("trigger to an unknown AR accepted")
	}
}

func TestReactive(t *testing.T) {
	w := newWorld(t)
	var at result
	w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb)
	w.deliver(nil)
	if r := at.one(t); r.Err != nil || len(r.Failures) != 0 {
		t.Fatalf("%+v", r)
	}
	req := w.sent(cxtp.TypeCTReq)
	if len(req) != 1 || req[0].to != aPAR {
		t.Fatalf("CT-Req: %+v", req)
	}
	ctd := w.sent(cxtp.TypeCTD)
	if len(ctd) != 1 || ctd[0].msg(t).(*cxtp.CTD).CDBs == nil {
		t.Fatalf("CTD: %+v", ctd)
	}
	if w.hn.active[aMN] != aMN2 || len(w.sent(cxtp.TypeCTDR)) != 1 {
		t.Fatal("not activated / no CTDR")
	}
	if len(w.sent(cxtp.TypePCTD)) != 0 {
		t.Fatal("reactive must not send PCTD")
	}
}

func TestReactiveRequestedFPTsAndFailures(t *testing.T) {
	w := newWorld(t)
	var at result
	// fptB is unknown on both sides; fptA is captured.
	w.mn.Attach(aNARx, aPARx, aMN, []cxtp.FPT{fptA, fptB}, at.cb)
	w.deliver(nil)
	r := at.one(t)
	if r.Err != nil || len(r.Failures) != 1 || r.Failures[0].FPT != fptB || r.Failures[0].Status != cxtp.StatusUnsupportedFPT {
		t.Fatalf("want fptB reported unsupported: %+v", r)
	}
	if w.hn.active[aMN] != aMN2 {
		t.Fatal("fptA not activated")
	}
	ctdr := w.sent(cxtp.TypeCTDR)[0].msg(t).(*cxtp.CTDR)
	if ctdr.Success || len(ctdr.Status) != 1 {
		t.Fatalf("CTDR must report the failure: %v", ctdr)
	}
}

func TestActivationFailureReported(t *testing.T) {
	w := newWorld(t)
	w.hn.failAct = true
	w.par.Trigger(aMN, aNAR)
	w.deliver(nil)
	var at result
	w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb)
	w.deliver(nil)
	r := at.one(t)
	if len(r.Failures) != 1 || r.Failures[0].Status != cxtp.StatusInstallFailed {
		t.Fatalf("%+v", r)
	}
	if w.nar.Metrics().Activated != 0 {
		t.Fatal("counted as activated")
	}
}

func TestCancel(t *testing.T) {
	w := newWorld(t)
	w.par.Trigger(aMN, aNAR)
	w.deliver(nil)
	if err := w.par.Cancel(aMN); err != nil {
		t.Fatal(err)
	}
	w.deliver(nil)
	if w.nar.State(aMN) != "cancelled" || len(w.hn.discarded) != 1 || len(w.hn.pre) != 0 {
		t.Fatalf("state %q discarded %v", w.nar.State(aMN), w.hn.discarded)
	}
	var at result
	w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb)
	w.deliver(nil)
	if r := at.one(t); len(r.Failures) != 1 || r.Failures[0].Status != cxtp.StatusNoContext {
		t.Fatalf("%+v", r)
	}
	if w.hn.activeCount() != 0 || w.nar.Metrics().Cancelled != 1 {
		t.Fatal("activated after cancel")
	}
}

func TestExpiry(t *testing.T) {
	w := newWorld(t, func(p, n *ARConfig) { n.Lifetime = 5 * time.Second })
	w.par.Trigger(aMN, aNAR)
	w.deliver(nil)
	w.clk.Advance(4 * time.Second)
	if w.nar.State(aMN) != "stored" {
		t.Fatal("expired early")
	}
	w.clk.Advance(time.Second)
	if w.nar.State(aMN) != "expired" || len(w.hn.discarded) != 1 {
		t.Fatalf("state %q discarded %v", w.nar.State(aMN), w.hn.discarded)
	}
	var at result
	w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb)
	w.deliver(nil)
	r := at.one(t)
	if len(r.Failures) != 1 || r.Failures[0].Status != cxtp.StatusContextExpired {
		t.Fatalf("%+v", r)
	}
	m := w.nar.Metrics()
	if m.Expired != 1 || m.Rejected[ReasonExpired] != 1 || w.hn.activeCount() != 0 {
		t.Fatalf("%+v", m)
	}
	// The tombstone goes after its time; the entry is then forgotten.
	w.clk.Advance(time.Minute)
	if w.nar.Metrics().Live != 0 {
		t.Fatalf("entries left: %+v", w.nar.Metrics())
	}
}

func TestForgedToken(t *testing.T) {
	w := newWorld(t)
	w.par.Trigger(aMN, aNAR)
	w.deliver(nil)
	w.nar.HandleMN(aMN2, ctar(77, []byte("not-the-key-at-all!!"), aPARx))
	w.deliver(nil)
	if w.hn.activeCount() != 0 || w.nar.Metrics().Rejected[ReasonBadToken] != 1 {
		t.Fatalf("forged CTAR: %+v", w.nar.Metrics())
	}
	if w.nar.State(aMN) != "stored" {
		t.Fatal("forgery destroyed the stored context")
	}
	// The real MN still gets through.
	var at result
	w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb)
	w.deliver(nil)
	if r := at.one(t); len(r.Failures) != 0 || w.hn.activeCount() != 1 {
		t.Fatalf("%+v", r)
	}
}

func TestForgedTokenReactive(t *testing.T) {
	w := newWorld(t)
	w.nar.HandleMN(aMN2, ctar(5, []byte("not-the-key-at-all!!"), aPARx))
	w.deliver(nil)
	if w.par.Metrics().Rejected[ReasonBadToken] != 1 || len(w.sent(cxtp.TypeCTD)) != 0 || w.hn.activeCount() != 0 {
		t.Fatalf("pAR: %+v", w.par.Metrics())
	}
	if len(w.sent(cxtp.TypeCTC)) != 1 || w.nar.State(aMN) != "cancelled" {
		t.Fatalf("nAR not told: %q", w.nar.State(aMN))
	}
	if len(w.hp.calls) != 0 {
		t.Fatal("pAR captured for a forged request")
	}
}

func TestReplayedSeq(t *testing.T) {
	w := newWorld(t)
	w.par.Trigger(aMN, aNAR)
	w.deliver(nil)
	good := ctar(1000, key, aPARx)
	w.nar.HandleMN(aMN2, good)
	w.deliver(nil)
	if w.hn.activeCount() != 1 {
		t.Fatal("not activated")
	}
	ctaas := len(w.sent(cxtp.TypeCTAA))
	w.nar.HandleMN(aMN2, good) // replay
	w.deliver(nil)
	if w.nar.Metrics().Rejected[ReasonReplayedSeq] != 1 || len(w.sent(cxtp.TypeCTAA)) != ctaas {
		t.Fatalf("replay not rejected silently: %+v", w.nar.Metrics())
	}
	// A forged CTAR cannot burn the MN's next sequence number.
	w4 := newWorld(t)
	w4.par.Trigger(aMN, aNAR)
	w4.deliver(nil)
	w4.nar.HandleMN(aMN2, ctar(31, []byte("not-the-key-at-all!!"), aPARx))
	w4.nar.HandleMN(aMN2, ctar(31, key, aPARx))
	w4.deliver(nil)
	if m := w4.nar.Metrics(); m.Activated != 1 || m.Rejected[ReasonReplayedSeq] != 0 || m.Rejected[ReasonBadToken] != 1 {
		t.Fatalf("%+v", m)
	}
	// Replay before activation of a valid CTAR.
	w2 := newWorld(t)
	w2.par.Trigger(aMN, aNAR)
	w2.deliver(nil)
	w2.nar.HandleMN(aMN2, ctar(9, key, aPARx))
	w2.deliver(nil)
	w2.nar.HandleMN(aMN2, ctar(9, key, aPARx))
	w2.deliver(nil)
	if w2.nar.Metrics().Rejected[ReasonReplayedSeq] != 1 || w2.nar.Metrics().Activated != 1 {
		t.Fatalf("%+v", w2.nar.Metrics())
	}
	// On the pAR: a trigger CTAR replayed.
	w3 := newWorld(t)
	trig := ctar(50, key, aNAR)
	w3.par.HandleMN(aMN, trig)
	w3.par.HandleMN(aMN, trig)
	w3.deliver(nil)
	if w3.par.Metrics().Rejected[ReasonReplayedSeq] != 1 || len(w3.sent(cxtp.TypePCTD)) != 1 {
		t.Fatalf("%+v", w3.par.Metrics())
	}
	// After the window the number may come again (7 s).
	w3.clk.Advance(8 * time.Second)
	w3.par.HandleMN(aMN, ctar(50, key, aNAR))
	if w3.par.Metrics().Rejected[ReasonReplayedSeq] != 1 || len(w3.sent(cxtp.TypeCTAA)) != 2 {
		t.Fatalf("after the window: %+v", w3.par.Metrics())
	}
}

func TestCTAARetransmittedAfterActivation(t *testing.T) {
	w := newWorld(t)
	w.par.Trigger(aMN, aNAR)
	w.deliver(nil)
	var at result
	w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb)
	// Lose the first CTAA.
	w.deliver(func(p packet) bool { return p.to == aMN2 })
	w.clk.Advance(200 * time.Millisecond) // the MN retransmits with a new seq
	w.deliver(nil)
	r := at.one(t)
	if r.Attempts != 2 || len(r.Failures) != 0 {
		t.Fatalf("%+v", r)
	}
	if w.nar.Metrics().Activated != 1 || len(w.hn.calls) != 2 { // preinstall, activate once
		t.Fatalf("activated twice: %v", w.hn.calls)
	}
	ctars := w.sent(cxtp.TypeCTAR)
	if ctars[0].msg(t).(*cxtp.CTAR).Seq == ctars[1].msg(t).(*cxtp.CTAR).Seq {
		t.Fatal("MN reused a sequence number")
	}
}

func TestUnknownPeer(t *testing.T) {
	w := newWorld(t)
	// A perfectly valid PCTD, from an address that is not a peer.
	b, _ := cxtp.Marshal(&cxtp.PCTD{PrevCoA: aMN, Algorithm: cxtp.AlgHMACSHA1, Key: key,
		CDBs: []cxtp.CDB{{FPT: fptA, Data: []byte("x")}}})
	w.nar.HandleAR(aEvil, b)
	w.nar.HandleAR(aNARx, b) // a peer's access address is not its AR-AR address
	if w.nar.State(aMN) != "" || len(w.hn.calls) != 0 || w.nar.Metrics().Rejected[ReasonUnknownPeer] != 2 {
		t.Fatalf("%+v", w.nar.Metrics())
	}
	// A CTAR naming an unknown pAR.
	var at result
	w.mn.Attach(aNARx, aEvil, aMN, nil, at.cb)
	w.deliver(nil)
	if w.nar.Metrics().Rejected[ReasonUnknownPAR] != 1 || len(w.sent(cxtp.TypeCTReq)) != 0 {
		t.Fatalf("%+v", w.nar.Metrics())
	}
}

func TestMalformed(t *testing.T) {
	w := newWorld(t)
	full, _ := cxtp.Marshal(&cxtp.PCTD{PrevCoA: aMN, Algorithm: cxtp.AlgHMACSHA1, Key: key,
		CDBs: []cxtp.CDB{{FPT: fptA, Data: []byte("x")}}})
	w.nar.HandleAR(aPAR, full[:len(full)-3])
	w.nar.HandleAR(aPAR, full[:2])
	w.nar.HandleAR(aPAR, make([]byte, cxtp.MaxMessageLen+1))
	w.nar.HandleMN(aMN2, make([]byte, 70000))
	bad := append([]byte(nil), full...)
	bad[0] = 0xe0 | bad[0]&0x1f // version 7
	w.nar.HandleAR(aPAR, bad)
	ctaa, _ := cxtp.Marshal(&cxtp.CTAA{PrevCoA: aMN})
	w.nar.HandleAR(aPAR, ctaa) // MN message on the AR channel
	w.nar.HandleAR(aPAR, append(append([]byte(nil), full...), make([]byte, 100)...))
	m := w.nar.Metrics()
	if m.Rejected[ReasonTruncated] != 2 || m.Rejected[ReasonOversized] != 3 || m.Rejected[ReasonMalformed] != 1 ||
		m.Rejected[ReasonWrongChannel] != 1 || m.Stored != 0 || len(w.hn.calls) != 0 {
		t.Fatalf("%+v", m)
	}
	// Still serving.
	w.nar.HandleAR(aPAR, full)
	if w.nar.State(aMN) != "stored" {
		t.Fatal("engine stopped serving")
	}
}

func TestCTReqRetransmissionSchedule(t *testing.T) {
	w := newWorld(t)
	var at result
	w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb)
	dropPAR := func(p packet) bool { return p.to == aPAR }
	// The MN's own retransmissions are answered by nobody either.
	start := w.clk.Now()
	for i := 0; i < 400; i++ {
		w.deliver(dropPAR)
		w.clk.Advance(100 * time.Millisecond)
	}
	var offs []time.Duration
	for _, p := range w.sent(cxtp.TypeCTReq) {
		offs = append(offs, p.at.Sub(start))
	}
	want := []time.Duration{0, 2 * time.Second, 6 * time.Second, 14 * time.Second, 29 * time.Second}
	if len(offs) != len(want) {
		t.Fatalf("CT-Req at %v, want %v", offs, want)
	}
	for i := range want {
		if offs[i] != want[i] {
			t.Fatalf("CT-Req at %v, want %v", offs, want)
		}
	}
	// Given up after the 30 s lifetime: the MN is told, nothing activated.
	if w.nar.Metrics().Rejected[ReasonTransferFailed] != 1 || w.nar.State(aMN) != "cancelled" {
		t.Fatalf("%+v %q", w.nar.Metrics(), w.nar.State(aMN))
	}
	r := at.one(t)
	if len(r.Failures) != 1 || r.Failures[0].Status != cxtp.StatusNoContext {
		t.Fatalf("%+v", r)
	}
}

func TestCTReqRetransmissionAnsweredAgain(t *testing.T) {
	w := newWorld(t)
	var at result
	w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb)
	// Lose the first CTD on its way back.
	lost := false
	w.deliver(func(p packet) bool {
		if p.to == aNAR && !lost {
			if h, _ := cxtp.DecodeHeader(p.b); h.Type == cxtp.TypeCTD {
				lost = true
				return true
			}
		}
		return p.to == aNARx && lost && false
	})
	w.clk.Advance(2 * time.Second)
	w.deliver(nil)
	if len(w.sent(cxtp.TypeCTReq)) < 2 || w.par.Metrics().Rejected[ReasonReplayedSeq] != 0 {
		t.Fatalf("retransmitted CT-Req treated as replay: %+v", w.par.Metrics())
	}
	ctds := w.sent(cxtp.TypeCTD)
	if len(ctds) != 2 || ctds[0].msg(t).(*cxtp.CTD).ElapsedTime != 0 || ctds[1].msg(t).(*cxtp.CTD).ElapsedTime != 2000 {
		t.Fatalf("Elapsed Time of the CTDs: %d", len(ctds))
	}
	if w.hn.activeCount() != 1 {
		t.Fatal("not activated after the retransmission")
	}
}

func TestCTReqRate(t *testing.T) {
	w := newWorld(t)
	start := w.clk.Now()
	for i := 0; i < 25; i++ {
		prev := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 15: byte(i + 1)})
		b, _ := cxtp.Marshal(&cxtp.CTAR{PrevCoA: prev, PrevAR: aPARx, Seq: 1, Token: cxtp.Token(key, prev, 1, nil)})
		// Each MN from its own new address: 25 MNs, under the per-source
		// limit of unauthenticated entries (ar_admit.go).
		w.nar.HandleMN(srcAddr(i), b)
	}
	if m := w.nar.Metrics(); m.Rejected[ReasonSourceLimit] != 0 || m.Live != 25 {
		t.Fatalf("25 MNs: %d entries, %+v", m.Live, m.Rejected)
	}
	w.clk.Advance(3 * time.Second)
	reqs := w.sent(cxtp.TypeCTReq)
	if len(reqs) < 25 {
		t.Fatalf("only %d CT-Req", len(reqs))
	}
	// No 1-second window holds more than CT_REQUEST_RATE requests.
	for i := range reqs {
		n := 0
		for j := i; j < len(reqs) && reqs[j].at.Sub(reqs[i].at) < time.Second; j++ {
			n++
		}
		if n > cxtp.CTRequestRate {
			t.Fatalf("%d CT-Req within a second from %v", n, reqs[i].at.Sub(start))
		}
	}
}

func TestUnprotectedChannel(t *testing.T) {
	w := newWorld(t, func(p, n *ARConfig) { p.Protection = ProtectedSet{} })
	_, err := w.par.Trigger(aMN, aNAR)
	if !errors.Is(err, ErrUnprotected) || len(w.sent(cxtp.TypePCTD)) != 0 {
		t.Fatalf("PCTD over an unprotected channel: %v", err)
	}
	if w.par.Metrics().Rejected[ReasonUnprotected] != 1 {
		t.Fatalf("%+v", w.par.Metrics())
	}
	// Reactive: a key-material FPT is withheld, others go.
	w2 := newWorld(t, func(p, n *ARConfig) {
		p.Protection = ProtectedSet{}
		p.Registry = NewRegistry()
	})
	hk := newFake()
	hk.contexts[aMN] = []byte("sa-with-keys")
	w2.par.cfg.Registry.Register(Registration{FPT: fptA, Handler: w2.hp})
	w2.par.cfg.Registry.Register(Registration{FPT: fptB, Handler: hk, KeyMaterial: true})
	var at result
	w2.mn.Attach(aNARx, aPARx, aMN, nil, at.cb)
	w2.deliver(nil)
	ctd := w2.sent(cxtp.TypeCTD)[0].msg(t).(*cxtp.CTD)
	for _, c := range ctd.CDBs {
		if c.FPT == fptB {
			t.Fatal("key material sent in plaintext")
		}
	}
	if len(hk.calls) != 0 {
		t.Fatal("key-material context captured for an unprotected channel")
	}
	// allow_plaintext lets it through.
	w3 := newWorld(t, func(p, n *ARConfig) { p.Protection = ProtectedSet{}; p.AllowPlaintext = true })
	if _, err := w3.par.Trigger(aMN, aNAR); err != nil {
		t.Fatal(err)
	}
}

func TestLargeContextSplitAndJoined(t *testing.T) {
	w := newWorld(t)
	big := bytes.Repeat([]byte("0123456789"), 700) // 7000 octets: 4 CDBs
	w.hp.contexts[aMN] = big
	w.par.Trigger(aMN, aNAR)
	w.deliver(nil)
	pctd := w.sent(cxtp.TypePCTD)[0].msg(t).(*cxtp.PCTD)
	if len(pctd.CDBs) != 4 {
		t.Fatalf("%d CDBs", len(pctd.CDBs))
	}
	if !bytes.Equal(w.hn.pre[aMN], big) {
		t.Fatal("context not joined back")
	}
}

func TestCaptureFailureReportedToMN(t *testing.T) {
	w := newWorld(t)
	w.hp.failCap = true
	var ho result
	w.mn.Handover(aPARx, aNAR, aMN, nil, ho.cb)
	w.deliver(nil)
	r := ho.one(t)
	if len(r.Failures) != 1 || r.Failures[0].FPT != fptA {
		t.Fatalf("%+v", r)
	}
}

func TestTriggerRetransmissionNotTransferredTwice(t *testing.T) {
	w := newWorld(t)
	var ho result
	w.mn.Handover(aPARx, aNAR, aMN, nil, ho.cb)
	// The first CTAA is lost; the MN retransmits.
	w.deliver(func(p packet) bool { return p.to == aMN })
	w.clk.Advance(200 * time.Millisecond)
	w.deliver(nil)
	if r := ho.one(t); r.Attempts != 2 || len(r.Failures) != 0 {
		t.Fatalf("%+v", r)
	}
	if n := len(w.sent(cxtp.TypePCTD)); n != 1 {
		t.Fatalf("%d PCTD for one handover", n)
	}
	if len(w.hp.calls) != 1 {
		t.Fatalf("captured %d times", len(w.hp.calls))
	}
}
