package engine

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikectx/ikectx/cxtp"
)

// inState is the state of an MN's context on the nAR.
type inState uint8

const (
	inStored    inState = iota + 1 // PCTD received and pre-installed, waiting for CTAR
	inRequested                    // CTAR received first, CT-Req sent, waiting for CTD
	inActivated                    // activated; tombstone answers CTAR retransmissions
	inExpired                      // lifetime ran out before any CTAR; tombstone
	inCancelled                    // CTC or CT-Req gave up; tombstone
)

func (s inState) String() string {
	return [...]string{"?", "stored", "requested", "activated", "expired", "cancelled"}[min(int(s), 5)]
}

// inEntry is one MN's context on the nAR.
type inEntry struct {
	state inState
	prev  netip.Addr // MN previous CoA
	par   netip.Addr // pAR (AR-AR address)
	key   []byte     // token key (predictive), wiped after use
	fpts  []cxtp.FPT // FPTs received, in order
	data  map[cxtp.FPT][]byte
	fail  map[cxtp.FPT]cxtp.Status // PreInstall failures
	seqs  seqWindow

	// requested state: the CTAR waiting for its context.
	ctar    *cxtp.CTAR
	src     netip.Addr // where the CTAR came from (the MN's new CoA)
	started time.Time
	retry   backoff

	// unauth: created by a CTAR before any authentication (ar_admit.go);
	// srcKey is the CTAR's source group.
	unauth bool
	srcKey netip.Prefix

	ctaa  []byte // the CTAA sent, for CTAR retransmissions after activation
	timer Timer  // lifetime (stored), retransmission (requested) or tombstone
	pace  Timer  // a paced CT-Req waiting for its slot
}

func (e *inEntry) stopTimers() {
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	if e.pace != nil {
		e.pace.Stop()
		e.pace = nil
	}
}

func (e *inEntry) mn(newAddr netip.Addr) MN { return MN{Prev: e.prev, New: newAddr, PeerAR: e.par} }

// onCTAR handles an activation request from an MN at its new address.
func (a *AR) onCTAR(src netip.Addr, m *cxtp.CTAR) {
	now := a.cfg.Clock.Now()
	e := a.in[m.PrevCoA]
	if e == nil {
		a.startReactive(src, m, now)
		return
	}
	if e.seqs.peek(m.Seq, now, a.cfg.SeqWindow, netip.Addr{}) != seqFresh {
		a.drop(ReasonReplayedSeq, "mn", m.PrevCoA, "src", src, "seq", m.Seq, "state", e.state)
		return
	}
	if e.state != inStored {
		// No key to verify with here: the number is used either way.
		e.seqs.record(m.Seq, now, netip.Addr{})
	}
	switch e.state {
	case inStored:
		if !cxtp.VerifyToken(e.key, m.PrevCoA, m.Seq, requestedCDBs(m.FPTs), m.Token) {
			// The stored context stays for the real MN, and the sequence
			// number stays unused.
			a.drop(ReasonBadToken, "mn", m.PrevCoA, "src", src, "seq", m.Seq)
			a.sendMN(src, &cxtp.CTAA{PrevCoA: m.PrevCoA, Failures: allFailed(m.FPTs, a.held(e), cxtp.StatusAuthFailed)})
			return
		}
		e.seqs.record(m.Seq, now, netip.Addr{})
		a.activate(e, src, m)
	case inRequested:
		// The MN retransmitted (with a new sequence number) while the
		// context is on its way: keep the newest request.
		e.ctar, e.src = m, src
	case inActivated:
		// Our CTAA was lost: answer again, activate nothing.
		if e.ctaa != nil {
			a.sendMNRaw(src, cxtp.TypeCTAA, e.ctaa)
		}
	case inExpired:
		a.drop(ReasonExpired, "mn", m.PrevCoA, "src", src)
		a.sendMN(src, &cxtp.CTAA{PrevCoA: m.PrevCoA, Failures: allFailed(m.FPTs, a.held(e), cxtp.StatusContextExpired)})
	case inCancelled:
		a.drop(ReasonUnexpected, "mn", m.PrevCoA, "src", src, "state", e.state)
		a.sendMN(src, &cxtp.CTAA{PrevCoA: m.PrevCoA, Failures: allFailed(m.FPTs, a.held(e), cxtp.StatusNoContext)})
	}
}

func (a *AR) startReactive(src netip.Addr, m *cxtp.CTAR, now time.Time) {
	par, ok := a.peers[m.PrevAR]
	if !ok {
		a.drop(ReasonUnknownPAR, "mn", m.PrevCoA, "src", src, "par", m.PrevAR)
		a.sendMN(src, &cxtp.CTAA{PrevCoA: m.PrevCoA, Failures: allFailed(m.FPTs, a.cfg.Registry.FPTs(), cxtp.StatusNoContext)})
		return
	}
	if !a.admitUnauth(src, m.PrevCoA) {
		return
	}
	e := &inEntry{state: inRequested, prev: m.PrevCoA, par: par, ctar: m, src: src, started: now,
		retry: backoff{first: a.cfg.RequestRetry, max: a.cfg.RetryMax}}
	e.seqs.check(m.Seq, now, a.cfg.SeqWindow, netip.Addr{})
	a.in[m.PrevCoA] = e
	a.markUnauth(e, src)
	a.cfg.Log.Info("cxtp: reactive transfer", "mn", m.PrevCoA, "par", par)
	a.sendCTReq(e)
	a.armRetry(e)
}

// sendCTReq relays the pending CTAR to the pAR, paced to CT_REQUEST_RATE.
func (a *AR) sendCTReq(e *inEntry) {
	p := a.pacers[e.par]
	if p == nil {
		p = &pacer{}
		a.pacers[e.par] = p
	}
	req := &cxtp.CTReq{PrevCoA: e.prev, Seq: e.ctar.Seq, Token: e.ctar.Token, FPTs: e.ctar.FPTs}
	d := p.delay(a.cfg.Clock.Now(), a.cfg.RequestRate)
	if d == 0 {
		a.sendAR(e.par, req)
		return
	}
	if e.pace != nil {
		return // one is already waiting
	}
	e.pace = a.cfg.Clock.AfterFunc(d, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		e.pace = nil
		if a.in[e.prev] == e && e.state == inRequested {
			a.sendAR(e.par, req)
		}
	})
}

func (a *AR) armRetry(e *inEntry) {
	d := e.retry.next()
	if left := e.started.Add(a.cfg.Lifetime).Sub(a.cfg.Clock.Now()); left < d {
		d = max(left, 0)
	}
	e.timer = a.cfg.Clock.AfterFunc(d, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.in[e.prev] != e || e.state != inRequested {
			return
		}
		if a.cfg.Clock.Now().Sub(e.started) >= a.cfg.Lifetime {
			a.drop(ReasonTransferFailed, "mn", e.prev, "par", e.par)
			a.sendMN(e.src, &cxtp.CTAA{PrevCoA: e.prev, Failures: allFailed(e.ctar.FPTs, a.cfg.Registry.FPTs(), cxtp.StatusNoContext)})
			a.toTombstone(e, inCancelled)
			return
		}
		a.sendCTReq(e)
		a.armRetry(e)
	})
}

// onPCTD stores a predictive context (or answers a pending CTAR with it).
func (a *AR) onPCTD(par netip.Addr, m *cxtp.PCTD) {
	defer m.Wipe()
	if m.Algorithm != cxtp.AlgHMACSHA1 || len(m.Key) == 0 {
		a.drop(ReasonMalformed, "peer", par, "mn", m.PrevCoA, "err", "unsupported token algorithm or empty key", "alg", m.Algorithm)
		return
	}
	e := a.in[m.PrevCoA]
	switch {
	case e != nil && e.state == inRequested:
		if e.par != par {
			a.drop(ReasonUnexpected, "peer", par, "mn", m.PrevCoA, "want", e.par)
			return
		}
		e.stopTimers()
		e.key = append([]byte(nil), m.Key...)
		a.store(e, m.CDBs)
		if !cxtp.VerifyToken(e.key, e.prev, e.ctar.Seq, requestedCDBs(e.ctar.FPTs), e.ctar.Token) {
			a.drop(ReasonBadToken, "mn", e.prev, "src", e.src, "seq", e.ctar.Seq)
			a.sendMN(e.src, &cxtp.CTAA{PrevCoA: e.prev, Failures: allFailed(e.ctar.FPTs, a.held(e), cxtp.StatusAuthFailed)})
			e.state = inStored
			a.armLifetime(e)
			return
		}
		a.activate(e, e.src, e.ctar)
		return
	case e != nil && e.state == inStored:
		if e.par != par {
			a.drop(ReasonUnexpected, "peer", par, "mn", m.PrevCoA, "want", e.par)
			return
		}
		// A newer predictive context replaces the old one.
		e.stopTimers()
		a.discardAll(e)
		wipe(e.key)
	case e == nil:
		if !a.roomForAuth() {
			a.drop(ReasonTableFull, "peer", par, "mn", m.PrevCoA, "entries", len(a.in))
			return
		}
		e = &inEntry{prev: m.PrevCoA}
		a.in[m.PrevCoA] = e
	default:
		// A tombstone: a new transfer for an MN seen before. Keep its
		// sequence numbers.
		e.stopTimers()
	}
	e.state, e.par, e.ctar, e.ctaa = inStored, par, nil, nil
	e.key = append([]byte(nil), m.Key...)
	a.store(e, m.CDBs)
	a.armLifetime(e)
}

// store keeps the CDBs and pre-installs them through the handlers.
func (a *AR) store(e *inEntry, cdbs []cxtp.CDB) {
	a.markAuth(e) // the context came over the protected AR-AR channel
	e.fpts, e.data, e.fail = nil, map[cxtp.FPT][]byte{}, map[cxtp.FPT]cxtp.Status{}
	for _, c := range cdbs {
		if _, seen := e.data[c.FPT]; !seen {
			e.fpts = append(e.fpts, c.FPT)
			e.data[c.FPT] = nil
		}
	}
	for _, f := range e.fpts {
		data, err := unframe(cxtp.JoinContext(f, cdbs))
		if err != nil {
			e.fail[f] = cxtp.StatusBadMessage
			a.drop(ReasonMalformed, "mn", e.prev, "peer", e.par, "fpt", uint16(f), "err", err)
			continue
		}
		e.data[f] = data
		reg, ok := a.cfg.Registry.Lookup(f)
		if !ok {
			e.fail[f] = cxtp.StatusUnsupportedFPT
			a.cfg.Log.Warn("cxtp: no handler for FPT", "mn", e.prev, "fpt", uint16(f))
			continue
		}
		ctx, done := a.callCtx(a.cfg.HandlerTimeout)
		err = reg.Handler.PreInstall(ctx, e.mn(newAddrOf(e)), e.data[f])
		done()
		if err != nil {
			e.fail[f] = cxtp.StatusInstallFailed
			a.cfg.Log.Error("cxtp: pre-install failed", "mn", e.prev, "fpt", uint16(f), "err", err)
		}
	}
	a.metrics.add(&a.metrics.stored)
	a.cfg.Log.Info("cxtp: context stored", "mn", e.prev, "par", e.par, "fpts", len(e.fpts))
}

func newAddrOf(e *inEntry) netip.Addr {
	if e.ctar != nil {
		return e.src
	}
	return netip.Addr{}
}

func (a *AR) armLifetime(e *inEntry) {
	e.timer = a.cfg.Clock.AfterFunc(a.cfg.Lifetime, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.in[e.prev] != e || e.state != inStored {
			return
		}
		a.discardAll(e)
		a.metrics.add(&a.metrics.expired)
		a.cfg.Log.Info("cxtp: context expired", "mn", e.prev, "par", e.par)
		a.toTombstone(e, inExpired)
	})
}

// toTombstone ends an entry: key wiped, data dropped, remembered for a
// while so late messages are recognised.
func (a *AR) toTombstone(e *inEntry, s inState) {
	e.stopTimers()
	wipe(e.key)
	e.key, e.data = nil, nil
	e.state = s
	e.timer = a.cfg.Clock.AfterFunc(a.tombstone(), func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.in[e.prev] == e && e.state == s {
			a.removeIn(e)
		}
	})
}

// discardAll tells every handler holding a pre-installed context to drop it.
func (a *AR) discardAll(e *inEntry) {
	for _, f := range e.fpts {
		a.discard(e, f)
	}
}

func (a *AR) discard(e *inEntry, f cxtp.FPT) {
	if _, failed := e.fail[f]; failed {
		return
	}
	reg, ok := a.cfg.Registry.Lookup(f)
	if !ok {
		return
	}
	ctx, done := a.callCtx(a.cfg.HandlerTimeout)
	reg.Handler.Discard(ctx, e.mn(netip.Addr{}))
	done()
}

// activate switches on the requested contexts, answers the MN with CTAA and
// the pAR with CTDR.
func (a *AR) activate(e *inEntry, src netip.Addr, m *cxtp.CTAR) {
	e.stopTimers()
	wipe(e.key)
	e.key = nil
	want := map[cxtp.FPT]bool{}
	for _, f := range m.FPTs {
		want[f] = true
	}
	var failures []cxtp.FPTStatus
	activated := 0
	// The FPTs that carry the MN's traffic are activated before the CTAA,
	// the others (AfterAck) after it.
	var now, later []cxtp.FPT
	for _, f := range e.fpts {
		if len(want) > 0 && !want[f] {
			a.discard(e, f)
			continue
		}
		delete(want, f)
		if _, failed := e.fail[f]; failed {
			now = append(now, f)
			continue
		}
		reg, _ := a.cfg.Registry.Lookup(f)
		if aa, ok := reg.Handler.(AfterAck); ok && aa.ActivateAfterAck() {
			later = append(later, f)
			continue
		}
		now = append(now, f)
	}
	errs := a.activateFPTs(e, src, now)
	for i, f := range now {
		if st, failed := e.fail[f]; failed {
			failures = append(failures, cxtp.FPTStatus{FPT: f, Status: st})
			continue
		}
		if errs[i] != nil {
			a.cfg.Log.Error("cxtp: activation failed", "mn", e.prev, "fpt", uint16(f), "err", errs[i])
			failures = append(failures, cxtp.FPTStatus{FPT: f, Status: cxtp.StatusInstallFailed})
			continue
		}
		activated++
	}
	for _, f := range m.FPTs { // requested but never received
		if want[f] {
			st := cxtp.StatusNoContext
			if _, ok := a.cfg.Registry.Lookup(f); !ok {
				st = cxtp.StatusUnsupportedFPT
			}
			failures = append(failures, cxtp.FPTStatus{FPT: f, Status: st})
		}
	}
	e.ctaa = a.sendMN(src, &cxtp.CTAA{PrevCoA: e.prev, Failures: failures})
	a.cfg.Log.Info("cxtp: context activated", "mn", e.prev, "new", src, "par", e.par, "fpts", activated, "failed", len(failures), "after_ctaa", len(later))
	ctaa := e.ctaa
	a.toTombstone(e, inActivated)
	e.ctaa = ctaa
	// After the CTAA: what does not carry the MN's traffic, then the CTDR,
	// which reports its failures to the pAR. With AfterAckDelay it waits,
	// so that the MN's first packets through the new SAs do not compete
	// with it (an IKE daemon's import) for this router's CPU.
	finish := func() {
		lateErrs := a.activateFPTs(e, src, later)
		for i, f := range later {
			if lateErrs[i] != nil {
				a.cfg.Log.Error("cxtp: activation after the CTAA failed", "mn", e.prev, "fpt", uint16(f), "err", lateErrs[i])
				failures = append(failures, cxtp.FPTStatus{FPT: f, Status: cxtp.StatusInstallFailed})
				continue
			}
			activated++
		}
		if len(later) > 0 {
			a.cfg.Log.Info("cxtp: context activated after the CTAA", "mn", e.prev, "fpts", len(later), "failed", len(failures))
		}
		if activated > 0 {
			a.metrics.add(&a.metrics.activated)
		}
		a.sendAR(e.par, &cxtp.CTDR{Success: len(failures) == 0, PrevCoA: e.prev, Status: failures})
	}
	if len(later) == 0 || a.cfg.AfterAckDelay <= 0 {
		finish()
		return
	}
	a.cfg.Clock.AfterFunc(a.cfg.AfterAckDelay, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.closed {
			a.cfg.Log.Warn("cxtp: closed before the activations after the CTAA", "mn", e.prev, "fpts", len(later))
			return
		}
		finish()
	})
}

// activateFPTs activates fpts (those in e.fail are skipped) and returns
// one error per FPT. Handlers sharing a BatchActivator are activated in
// one call, at the place of the first of them.
func (a *AR) activateFPTs(e *inEntry, src netip.Addr, fpts []cxtp.FPT) []error {
	errs := make([]error, len(fpts))
	done := make([]bool, len(fpts))
	for i, f := range fpts {
		if done[i] {
			continue
		}
		done[i] = true
		if _, failed := e.fail[f]; failed {
			continue
		}
		reg, _ := a.cfg.Registry.Lookup(f)
		var batch BatchActivator
		if b, ok := reg.Handler.(Batcher); ok {
			batch = b.ActivationBatch()
		}
		if batch == nil {
			ctx, cancel := a.callCtx(a.cfg.HandlerTimeout)
			errs[i] = reg.Handler.Activate(ctx, e.mn(src))
			cancel()
			continue
		}
		idx := []int{i}
		group := []cxtp.FPT{f}
		for j := i + 1; j < len(fpts); j++ {
			if done[j] {
				continue
			}
			if _, failed := e.fail[fpts[j]]; failed {
				continue
			}
			rj, _ := a.cfg.Registry.Lookup(fpts[j])
			if bj, ok := rj.Handler.(Batcher); ok && bj.ActivationBatch() == batch {
				done[j] = true
				idx = append(idx, j)
				group = append(group, fpts[j])
			}
		}
		ctx, cancel := a.callCtx(a.cfg.HandlerTimeout)
		res := batch.ActivateBatch(ctx, e.mn(src), group)
		cancel()
		for k, j := range idx {
			if k < len(res) {
				errs[j] = res[k]
			} else {
				errs[j] = fmt.Errorf("cxtp: batch activation gave no result for FPT %d", fpts[j])
			}
		}
	}
	return errs
}

// allFailed lists FPTs with one status: the requested ones, else the held
// ones.
func allFailed(requested, held []cxtp.FPT, st cxtp.Status) []cxtp.FPTStatus {
	src := requested
	if len(src) == 0 {
		src = held
	}
	out := make([]cxtp.FPTStatus, 0, len(src))
	for _, f := range src {
		out = append(out, cxtp.FPTStatus{FPT: f, Status: st})
	}
	return out
}

// onCTD takes the pAR's answer to our CT-Req.
func (a *AR) onCTD(par netip.Addr, m *cxtp.CTD) {
	e := a.in[m.PrevCoA]
	if e == nil || e.state != inRequested || e.par != par {
		a.drop(ReasonUnexpected, "peer", par, "mn", m.PrevCoA, "type", cxtp.TypeCTD)
		return
	}
	e.stopTimers()
	a.store(e, m.CDBs)
	a.activate(e, e.src, e.ctar)
}

// onCTC cancels a transfer for an MN.
func (a *AR) onCTC(peer netip.Addr, m *cxtp.CTC) {
	if e := a.in[m.PrevCoA]; e != nil && e.par == peer && (e.state == inStored || e.state == inRequested) {
		if e.state == inStored {
			a.discardAll(e)
		} else {
			a.sendMN(e.src, &cxtp.CTAA{PrevCoA: e.prev, Failures: allFailed(e.ctar.FPTs, a.cfg.Registry.FPTs(), cxtp.StatusNoContext)})
		}
		a.metrics.add(&a.metrics.cancelled)
		a.cfg.Log.Info("cxtp: transfer cancelled by peer", "mn", e.prev, "peer", peer, "state", e.state)
		a.toTombstone(e, inCancelled)
		return
	}
	if o := a.out[m.PrevCoA]; o != nil && o.nar == peer {
		a.metrics.add(&a.metrics.cancelled)
		a.cfg.Log.Info("cxtp: transfer cancelled by peer", "mn", m.PrevCoA, "peer", peer)
		o.done = true
		return
	}
	a.drop(ReasonUnexpected, "peer", peer, "mn", m.PrevCoA, "type", cxtp.TypeCTC)
}

// held is what an entry's failure report lists when the MN asked for all
// contexts: the FPTs received, else every FPT this AR handles.
func (a *AR) held(e *inEntry) []cxtp.FPT {
	if len(e.fpts) > 0 {
		return e.fpts
	}
	return a.cfg.Registry.FPTs()
}
