package engine

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikectx/ikectx/cxtp"
)

// outEntry is one MN's transfer from this AR (the pAR).
type outEntry struct {
	prev   netip.Addr
	nar    netip.Addr
	sentAt time.Time
	seqs   seqWindow
	done   bool // CTDR received or cancelled
	result []cxtp.FPTStatus
	// predictive is set while a PCTD is outstanding; captured holds the
	// capture failures reported to the MN, for its retransmissions.
	predictive bool
	captured   []cxtp.FPTStatus
	sent       []cxtp.FPT // FPTs whose contexts went to the nAR
	timer      Timer
}

func (o *outEntry) stop() {
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
}

// outFor returns (creating) the pAR entry of an MN, refreshing its expiry.
func (a *AR) outFor(mn netip.Addr) *outEntry {
	o := a.out[mn]
	if o == nil {
		o = &outEntry{prev: mn}
		a.out[mn] = o
	}
	o.stop()
	o.timer = a.cfg.Clock.AfterFunc(a.tombstone(), func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.out[mn] == o {
			delete(a.out, mn)
		}
	})
	return o
}

// Trigger starts a predictive transfer of mn's contexts to nar (its AR-AR
// or access address): the local trigger API (testbed, control socket).
func (a *AR) Trigger(mn, nar netip.Addr) ([]cxtp.FPTStatus, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.trigger(mn, nar, nil)
}

// Cancel tells the nAR of mn's last predictive transfer to discard it (CTC).
func (a *AR) Cancel(mn netip.Addr) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.out[mn]
	if o == nil || !o.nar.IsValid() {
		return fmt.Errorf("cxtp: cancel: no transfer for MN %s", mn)
	}
	o.done = true
	a.metrics.add(&a.metrics.cancelled)
	a.sendAR(o.nar, &cxtp.CTC{PrevCoA: mn})
	return nil
}

func (a *AR) trigger(mn, nar netip.Addr, fpts []cxtp.FPT) ([]cxtp.FPTStatus, error) {
	peer, ok := a.peers[nar.Unmap()]
	if !ok {
		a.metrics.reject(ReasonUnknownPeer)
		return nil, fmt.Errorf("cxtp: trigger for MN %s: %s is not a configured peer AR", mn, nar)
	}
	key, ok := a.cfg.Keys[mn]
	if !ok {
		a.metrics.reject(ReasonNoKey)
		return nil, fmt.Errorf("cxtp: trigger for MN %s: no token key configured for it", mn)
	}
	if err := a.unprotected(peer); err != nil {
		// The PCTD carries the MN's token key: key material.
		a.drop(ReasonUnprotected, "mn", mn, "peer", peer, "msg", "PCTD", "err", err)
		return nil, fmt.Errorf("cxtp: predictive transfer for MN %s to %s refused: %w", mn, peer, err)
	}
	cdbs, failures := a.capture(mn, peer, fpts)
	o := a.outFor(mn)
	o.nar, o.sentAt, o.done, o.result = peer, a.cfg.Clock.Now(), false, nil
	o.predictive, o.captured, o.sent = true, failures, sentFPTs(cdbs)
	a.sendAR(peer, &cxtp.PCTD{Ack: true, PrevCoA: mn, Algorithm: cxtp.AlgHMACSHA1, Key: key, CDBs: cdbs})
	a.cfg.Log.Info("cxtp: predictive transfer sent", "mn", mn, "nar", peer, "cdbs", len(cdbs), "failed", len(failures))
	return failures, nil
}

// capture asks the handlers for mn's contexts (the requested FPTs, or all),
// each bounded by CT_MAX_TRANSFER_TIME, and drops what may not cross the
// channel to peer.
func (a *AR) capture(mn, peer netip.Addr, fpts []cxtp.FPT) ([]cxtp.CDB, []cxtp.FPTStatus) {
	if len(fpts) == 0 {
		fpts = a.cfg.Registry.FPTs()
	}
	protErr := a.unprotected(peer) // checked once per transfer
	var cdbs []cxtp.CDB
	var failures []cxtp.FPTStatus
	for _, f := range fpts {
		reg, ok := a.cfg.Registry.Lookup(f)
		if !ok {
			failures = append(failures, cxtp.FPTStatus{FPT: f, Status: cxtp.StatusUnsupportedFPT})
			continue
		}
		if reg.KeyMaterial && protErr != nil {
			a.drop(ReasonUnprotected, "mn", mn, "peer", peer, "fpt", uint16(f))
			a.cfg.Log.Error("cxtp: context with key material not sent", "mn", mn, "peer", peer, "fpt", uint16(f), "err", protErr)
			failures = append(failures, cxtp.FPTStatus{FPT: f, Status: cxtp.StatusUndefinedError})
			continue
		}
		ctx, done := a.callCtx(a.cfg.MaxTransferTime)
		data, err := reg.Handler.Capture(ctx, MN{Prev: mn, PeerAR: peer})
		done()
		if err != nil {
			a.cfg.Log.Warn("cxtp: capture failed", "mn", mn, "fpt", uint16(f), "err", err)
			failures = append(failures, cxtp.FPTStatus{FPT: f, Status: cxtp.StatusNoContext})
			continue
		}
		cdbs = append(cdbs, cxtp.SplitContext(f, frame(data))...)
	}
	return cdbs, failures
}

// sentFPTs lists the FPTs present in cdbs, in order.
func sentFPTs(cdbs []cxtp.CDB) []cxtp.FPT {
	var out []cxtp.FPT
	for _, c := range cdbs {
		if len(out) == 0 || out[len(out)-1] != c.FPT {
			out = append(out, c.FPT)
		}
	}
	return out
}

// onTriggerCTAR handles a CTAR from an MN still attached here that names
// its next AR: verify it, then transfer predictively and acknowledge.
func (a *AR) onTriggerCTAR(src netip.Addr, m *cxtp.CTAR) {
	key, ok := a.cfg.Keys[m.PrevCoA]
	if !ok {
		a.drop(ReasonNoKey, "mn", m.PrevCoA, "src", src)
		a.sendMN(src, &cxtp.CTAA{PrevCoA: m.PrevCoA, Failures: allFailed(m.FPTs, a.cfg.Registry.FPTs(), cxtp.StatusAuthFailed)})
		return
	}
	o := a.outFor(m.PrevCoA)
	now := a.cfg.Clock.Now()
	if o.seqs.peek(m.Seq, now, a.cfg.SeqWindow, netip.Addr{}) != seqFresh {
		a.drop(ReasonReplayedSeq, "mn", m.PrevCoA, "src", src, "seq", m.Seq)
		return
	}
	if !cxtp.VerifyToken(key, m.PrevCoA, m.Seq, requestedCDBs(m.FPTs), m.Token) {
		a.drop(ReasonBadToken, "mn", m.PrevCoA, "src", src, "seq", m.Seq)
		a.sendMN(src, &cxtp.CTAA{PrevCoA: m.PrevCoA, Failures: allFailed(m.FPTs, a.cfg.Registry.FPTs(), cxtp.StatusAuthFailed)})
		return
	}
	o.seqs.record(m.Seq, now, netip.Addr{})
	if nar, ok := a.peers[m.PrevAR]; ok && o.predictive && !o.done && o.nar == nar &&
		a.cfg.Clock.Now().Sub(o.sentAt) < a.cfg.Lifetime {
		// A retransmission (our CTAA was lost or late): the context is
		// already on its way; if that PCTD was lost, the nAR falls back
		// to a reactive transfer when the MN arrives.
		a.sendMN(src, &cxtp.CTAA{PrevCoA: m.PrevCoA, Failures: o.captured})
		return
	}
	failures, err := a.trigger(m.PrevCoA, m.PrevAR, m.FPTs)
	if err != nil {
		a.cfg.Log.Error("cxtp: MN-triggered transfer failed", "mn", m.PrevCoA, "err", err)
		failures = allFailed(m.FPTs, a.cfg.Registry.FPTs(), cxtp.StatusUndefinedError)
	}
	a.sendMN(src, &cxtp.CTAA{PrevCoA: m.PrevCoA, Failures: failures})
}

// onCTReq answers a reactive request from the nAR with a CTD, after checking
// the MN's token and sequence number. A null (all-zero) token means the
// nAR has no CTAR yet (RFC 4067 section 2.5.6): the answer then carries the
// token key, as a predictive transfer (PCTD), so the nAR checks the MN's
// CTAR itself; like any key material it goes only over a protected channel.
func (a *AR) onCTReq(nar netip.Addr, m *cxtp.CTReq) {
	key, ok := a.cfg.Keys[m.PrevCoA]
	if !ok {
		a.drop(ReasonNoKey, "mn", m.PrevCoA, "peer", nar)
		a.sendAR(nar, &cxtp.CTC{PrevCoA: m.PrevCoA})
		return
	}
	if m.Token == ([cxtp.TokenLen]byte{}) {
		if _, err := a.trigger(m.PrevCoA, nar, m.FPTs); err != nil {
			a.cfg.Log.Error("cxtp: CT-Req with a null token not answered", "mn", m.PrevCoA, "peer", nar, "err", err)
			a.sendAR(nar, &cxtp.CTC{PrevCoA: m.PrevCoA})
		}
		return
	}
	o := a.outFor(m.PrevCoA)
	seq := o.seqs.peek(m.Seq, a.cfg.Clock.Now(), a.cfg.SeqWindow, nar)
	switch seq {
	case seqReplay:
		a.drop(ReasonReplayedSeq, "mn", m.PrevCoA, "peer", nar, "seq", m.Seq)
		return
	case seqRetransmit:
		// The nAR did not get our CTD: answer again.
	}
	if !cxtp.VerifyToken(key, m.PrevCoA, m.Seq, requestedCDBs(m.FPTs), m.Token) {
		a.drop(ReasonBadToken, "mn", m.PrevCoA, "peer", nar, "seq", m.Seq)
		a.sendAR(nar, &cxtp.CTC{PrevCoA: m.PrevCoA})
		return
	}
	if seq == seqFresh {
		o.seqs.record(m.Seq, a.cfg.Clock.Now(), nar)
	}
	cdbs, failures := a.capture(m.PrevCoA, nar, m.FPTs)
	now := a.cfg.Clock.Now()
	var elapsed time.Duration
	if seq == seqRetransmit && o.nar == nar && !o.predictive {
		// Elapsed Time counts from this transfer's first CTD.
		elapsed = now.Sub(o.sentAt)
	} else {
		o.sentAt = now
	}
	o.nar, o.done, o.result, o.predictive, o.sent = nar, false, nil, false, sentFPTs(cdbs)
	a.sendAR(nar, &cxtp.CTD{Ack: true, ElapsedTime: uint32(min(elapsed.Milliseconds(), 1<<32-1)), PrevCoA: m.PrevCoA, CDBs: cdbs})
	a.cfg.Log.Info("cxtp: reactive transfer sent", "mn", m.PrevCoA, "nar", nar, "cdbs", len(cdbs), "failed", len(failures))
}

// onCTDR records the nAR's report.
func (a *AR) onCTDR(nar netip.Addr, m *cxtp.CTDR) {
	o := a.out[m.PrevCoA]
	if o == nil || o.nar != nar {
		a.drop(ReasonUnexpected, "peer", nar, "mn", m.PrevCoA, "type", cxtp.TypeCTDR)
		return
	}
	if o.done {
		a.drop(ReasonUnexpected, "peer", nar, "mn", m.PrevCoA, "type", cxtp.TypeCTDR, "err", "transfer already closed")
		return
	}
	o.done, o.result = true, m.Status
	a.cfg.Log.Info("cxtp: transfer confirmed", "mn", m.PrevCoA, "nar", nar, "success", m.Success, "status", len(m.Status))
	for _, f := range o.sent {
		reg, ok := a.cfg.Registry.Lookup(f)
		if !ok {
			continue
		}
		r, ok := reg.Handler.(Releaser)
		if !ok {
			continue
		}
		st := cxtp.StatusSuccess
		for _, s := range m.Status {
			if s.FPT == f {
				st = s.Status
			}
		}
		ctx, done := a.callCtx(a.cfg.HandlerTimeout)
		r.Transferred(ctx, MN{Prev: m.PrevCoA, PeerAR: nar}, st)
		done()
	}
}

// Transfer reports what the pAR knows of an MN's last transfer: the nAR,
// whether a CTDR (or CTC) closed it, and the per-FPT statuses it reported.
func (a *AR) Transfer(mn netip.Addr) (nar netip.Addr, done bool, status []cxtp.FPTStatus, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.out[mn]
	if o == nil {
		return netip.Addr{}, false, nil, false
	}
	return o.nar, o.done, append([]cxtp.FPTStatus(nil), o.result...), true
}

// State reports the nAR-side state of an MN's context ("" when none).
func (a *AR) State(mn netip.Addr) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e := a.in[mn]; e != nil {
		return e.state.String()
	}
	return ""
}
