package daemon

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
	"github.com/ikectx/ikectx/racoon/conf"
	"github.com/ikectx/ikectx/racoon/ike"
	"github.com/ikectx/ikectx/racoon/isakmp"
)

const kernelTimeout = 5 * time.Second

func (d *Daemon) handlePacket(p packet) {
	d.stats.received.Add(1)
	b := p.data
	if p.natt {
		// RFC 3948: IKE on the NAT-T port carries a 4-byte zero non-ESP marker
		if len(b) < 4 || binary.BigEndian.Uint32(b) != 0 {
			if len(b) == 1 && b[0] == 0xff {
				return // NAT-T keepalive
			}
			d.drop(p, "ESP or keepalive on the NAT-T port (no kernel ESP here)")
			return
		}
		b = b[4:]
	}
	var h isakmp.Header
	if err := h.DecodeFromBytes(b); err != nil {
		d.drop(p, "%v", err)
		return
	}
	if h.MajorVersion() != 1 {
		d.drop(p, "ISAKMP version %#x", h.Version)
		return
	}
	defer func() {
		if r := recover(); r != nil {
			d.drop(p, "internal error handling %s exchange: %v", h.ExchangeType, r)
		}
	}()
	key := cookieKey(h.InitiatorCookie, h.ResponderCookie)
	ph, ok := d.ph1s[key]
	if !ok && h.ResponderCookie != ([8]byte{}) {
		// an initiator's first reply: move it under its full key
		if pi, ok2 := d.ph1s[cookieKey(h.InitiatorCookie, [8]byte{})]; ok2 && pi.sa.Initiator {
			ph, ok = pi, true
		}
	}
	if !ok && h.ResponderCookie == ([8]byte{}) {
		// a retransmitted first message: we answered it already
		for _, x := range d.ph1s {
			if !x.sa.Initiator && x.sa.ICookie == h.InitiatorCookie && x.peer.Addr() == p.from.Addr() && !x.deleted {
				if _, err := x.sa.Handle(b); errors.Is(err, ike.ErrRetransmit) {
					d.stats.retransmits.Add(1)
					d.send(x, x.sa.LastSent)
				} else {
					d.drop(p, "first %s message for an ISAKMP SA already under negotiation", h.ExchangeType)
				}
				return
			}
		}
	}
	if !ok {
		if h.ResponderCookie != ([8]byte{}) || h.ExchangeType == isakmp.ExchangeInformational {
			d.drop(p, "%s exchange for unknown ISAKMP SA %x:%x", h.ExchangeType, h.InitiatorCookie, h.ResponderCookie)
			return
		}
		d.newResponder(p, b, &h)
		return
	}
	if p.natt && !ph.natt {
		ph.natt, ph.sock = true, p.sock
	}
	if !ph.sa.Established() && (!ph.sa.Initiator || ph.natt) {
		ph.peer = p.from
	}
	// Once the SA is up, an authenticated message from a new address moves
	// the peer there (racoon answers where a message came from; an ISAKMP SA
	// imported after a context transfer meets its peer at a new address).
	// One that reached another of our addresses moves our side too: a
	// mobile node whose phase 1 was with its old care-of address answers
	// from the new one and installs its SAs there.
	moved := func() {
		if !ph.sa.Established() || ph.deleted {
			return
		}
		if p.from != ph.peer {
			d.logf("INFO: ISAKMP-SA %x:%x: peer now at %s (was %s)", ph.sa.ICookie, ph.sa.RCookie, p.from, ph.peer)
			ph.peer = p.from
		}
		if p.sock != nil && p.natt == ph.natt && p.local.IsValid() && !p.local.Addr().IsUnspecified() && p.local.Addr().Unmap() != ph.sa.Local.Addr().Unmap() {
			d.logf("INFO: ISAKMP-SA %x:%x: local address now %s (was %s)", ph.sa.ICookie, ph.sa.RCookie, p.local, ph.sa.Local)
			ph.sa.Local = p.local
			ph.sock = p.sock
		}
	}
	switch h.ExchangeType {
	case isakmp.ExchangeIdentityProt, isakmp.ExchangeAggressive:
		d.phase1Message(ph, p, b)
	case isakmp.ExchangeQuick:
		d.quickMessage(ph, p, b, &h, moved)
	case isakmp.ExchangeInformational:
		if q, ok := d.ph2s[ph2key{cookieKey(ph.sa.ICookie, ph.sa.RCookie), h.MessageID}]; ok && q.q.State == ike.P2WaitConnected {
			d.quickMessage(ph, p, b, &h, moved)
			return
		}
		d.informational(ph, p, b, moved)
	default:
		d.drop(p, "exchange type %s is not implemented", h.ExchangeType)
	}
}

func (d *Daemon) newResponder(p packet, b []byte, h *isakmp.Header) {
	if h.ExchangeType != isakmp.ExchangeIdentityProt && h.ExchangeType != isakmp.ExchangeAggressive {
		d.drop(p, "%s exchange without an ISAKMP SA", h.ExchangeType)
		return
	}
	r := d.findRemote(p.from.Addr())
	if r == nil {
		d.drop(p, "no remote configuration for %s", p.from.Addr())
		return
	}
	if !allowsMode(r, h.ExchangeType) {
		d.drop(p, "remote %s does not allow %s mode", r, h.ExchangeType)
		return
	}
	cfg, err := d.phase1Config(r, h.ExchangeType, p.local.Addr(), p.from.Addr())
	if err != nil {
		d.drop(p, "%v", err)
		return
	}
	local := p.local
	sa, out, err := ike.NewResponder(cfg, local, p.from, b)
	if err != nil {
		d.stats.p1fail.Add(1)
		if errors.Is(err, ike.ErrNoProposal) {
			d.events.emit(admin.EvtPhase1NoProposal, local, p.from, 0)
		} else if errors.Is(err, ike.ErrAuth) {
			d.events.emit(admin.EvtPhase1AuthFailed, local, p.from, 0)
		}
		d.drop(p, "phase 1 (%s mode, responder): %v", h.ExchangeType, err)
		if sa != nil {
			d.notifyPlain(p, h, isakmp.NoProposalChosen)
		}
		return
	}
	d.logf("INFO: respond new phase 1 negotiation: %s<=>%s", local, p.from)
	ph := &ph1{sa: sa, remote: r, sock: p.sock, peer: p.from, natt: p.natt}
	d.ph1s[cookieKey(sa.ICookie, sa.RCookie)] = ph
	d.phase1Deadline(ph)
	d.send(ph, out)
	d.armPhase1(ph)
	d.afterPhase1Step(ph)
}

// notifyPlain answers an unacceptable first message with an unencrypted
// informational notification, as racoon does for NO-PROPOSAL-CHOSEN.
func (d *Daemon) notifyPlain(p packet, h *isakmp.Header, t isakmp.NotifyType) {
	m := &isakmp.Message{Header: isakmp.Header{InitiatorCookie: h.InitiatorCookie, Version: isakmp.Version, ExchangeType: isakmp.ExchangeInformational},
		Payloads: []isakmp.Payload{&isakmp.Notification{DOI: isakmp.DOIIPsec, ProtocolID: isakmp.ProtoISAKMP, Type: t}}}
	if b, err := m.Marshal(); err == nil {
		if p.natt {
			b = append([]byte{0, 0, 0, 0}, b...)
		}
		p.sock.c.WriteToUDPAddrPort(b, p.from)
	}
}

func (d *Daemon) phase1Message(ph *ph1, p packet, b []byte) {
	before := ph.sa.State
	oldKey := cookieKey(ph.sa.ICookie, ph.sa.RCookie)
	out, err := ph.sa.Handle(b)
	if errors.Is(err, ike.ErrRetransmit) {
		d.stats.retransmits.Add(1)
		d.debugf("peer %s retransmitted; resending our last message", p.from)
		d.send(ph, ph.sa.LastSent)
		return
	}
	if err != nil {
		d.drop(p, "phase 1 %s mode with %s (state %s): %v", ph.sa.Mode, p.from, before, err)
		if before != ike.P1Established && isFatal(err) {
			d.failPhase1(ph, err)
		}
		return
	}
	if newKey := cookieKey(ph.sa.ICookie, ph.sa.RCookie); newKey != oldKey {
		delete(d.ph1s, oldKey)
		d.ph1s[newKey] = ph
	}
	d.afterPhase1Step(ph)
	d.send(ph, out)
	if ph.sa.State != before {
		d.armPhase1(ph)
	}
	if before != ike.P1Established && ph.sa.Established() {
		d.phase1Up(ph)
	}
}

// isFatal tells authentication and proposal failures (which end the
// negotiation) from garbage (which is dropped and the exchange goes on).
func isFatal(err error) bool {
	var ie *isakmp.Error
	return !errors.As(err, &ie)
}

// afterPhase1Step floats to the NAT-T port once a NAT is detected.
func (d *Daemon) afterPhase1Step(ph *ph1) {
	if !ph.sa.NATDetected || ph.natt {
		return
	}
	s, err := d.sockFor(ph.peer.Addr(), true, ph.sock.local.Addr())
	if err != nil {
		d.logf("ERROR: NAT detected with %s but %v", ph.peer, err)
		return
	}
	d.logf("INFO: NAT detected with %s: moving to port %d", ph.peer.Addr(), d.opt.NATTPort)
	ph.natt, ph.sock = true, s
	ph.peer = netip.AddrPortFrom(ph.peer.Addr(), uint16(d.opt.NATTPort))
}

// armPhase1 schedules the retransmission of our last phase-1 message
// until the peer answers (timer counter/interval).
func (d *Daemon) armPhase1(ph *ph1) {
	ph.gen++
	ph.retries = 0
	gen := ph.gen
	if ph.sa.Established() && !(ph.sa.Initiator && ph.sa.Mode == isakmp.ExchangeAggressive) {
		return
	}
	if ph.sa.Established() {
		return
	}
	d.retry(func() bool { return ph.gen == gen && !ph.sa.Established() && !ph.deleted }, func() bool {
		ph.retries++
		if uint64(ph.retries) > d.cfg.Timer.Counter {
			d.failPhase1(ph, errors.New("phase 1 negotiation failed due to time up"))
			d.events.emit(admin.EvtPhase1NoResponse, ph.sa.Local, ph.sa.Remote, 0)
			return false
		}
		d.stats.retransmits.Add(1)
		d.send(ph, ph.sa.LastSent)
		return true
	})
}

// retry calls resend every timer interval while alive holds and resend
// asks for more.
func (d *Daemon) retry(alive func() bool, resend func() bool) { d.retryFirst(0, alive, resend) }

// retryFirst is retry with a different first delay (0: the interval).
func (d *Daemon) retryFirst(first time.Duration, alive func() bool, resend func() bool) {
	iv := d.cfg.Timer.Interval
	if iv <= 0 {
		iv = 10 * time.Second
	}
	if first <= 0 || first > iv {
		first = iv
	}
	var tick func(time.Duration)
	tick = func(wait time.Duration) {
		time.AfterFunc(wait, func() {
			d.post(func() {
				if alive() && resend() {
					tick(iv)
				}
			})
		})
	}
	tick(first)
}

// phase1Deadline fails a phase 1 not established within timer { phase1 }.
func (d *Daemon) phase1Deadline(ph *ph1) {
	if t := d.cfg.Timer.Phase1; t > 0 {
		time.AfterFunc(t, func() {
			d.post(func() {
				if !ph.deleted && !ph.sa.Established() {
					d.failPhase1(ph, fmt.Errorf("phase 1 not established within %v (timer phase1)", t))
					d.events.emit(admin.EvtPhase1NoResponse, ph.sa.Local, ph.sa.Remote, 0)
				}
			})
		})
	}
}

// phase2Deadline drops a quick mode not done within timer { phase2 }.
func (d *Daemon) phase2Deadline(e *ph2) {
	if t := d.cfg.Timer.Phase2; t > 0 {
		time.AfterFunc(t, func() {
			d.post(func() {
				k := ph2key{cookieKey(e.p1.sa.ICookie, e.p1.sa.RCookie), e.q.MsgID}
				if d.ph2s[k] == e && !e.q.Established() {
					d.logf("ERROR: phase 2 with %s not established within %v (timer phase2)", e.p1.peer, t)
					d.stats.p2fail.Add(1)
					d.events.emit(admin.EvtPhase2NoResponse, e.p1.sa.Local, e.p1.sa.Remote, e.q.MsgID)
					d.dropPhase2(e)
				}
			})
		})
	}
}

func (d *Daemon) failPhase1(ph *ph1, err error) {
	if ph.deleted {
		return
	}
	d.logf("ERROR: phase 1 with %s failed: %v", ph.peer, err)
	d.stats.p1fail.Add(1)
	switch {
	case errors.Is(err, ike.ErrAuth):
		d.events.emit(admin.EvtPhase1AuthFailed, ph.sa.Local, ph.sa.Remote, 0)
	case errors.Is(err, ike.ErrNoProposal):
		d.events.emit(admin.EvtPhase1NoProposal, ph.sa.Local, ph.sa.Remote, 0)
	}
	d.removePhase1(ph)
}

func (d *Daemon) removePhase1(ph *ph1) {
	ph.deleted = true
	ph.sa.Wipe()
	for k, v := range d.ph1s {
		if v == ph {
			delete(d.ph1s, k)
		}
	}
	for k, q := range d.ph2s {
		if q.p1 == ph {
			q.q.Wipe()
			delete(d.ph2s, k)
		}
	}
	for _, r := range ph.pending {
		delete(d.inflight, r.policyID)
	}
}

func (d *Daemon) phase1Up(ph *ph1) {
	d.stats.p1up.Add(1)
	sa := ph.sa
	// the ISAKMP SA dies at the end of its lifetime (racoon sends a DELETE)
	if life := sa.Chosen.Lifetime; life > 0 {
		time.AfterFunc(life, func() {
			d.post(func() {
				if !ph.deleted {
					d.logf("INFO: ISAKMP-SA expired %x:%x", sa.ICookie, sa.RCookie)
					d.sendDelete(ph)
					d.events.emit(admin.EvtPhase1Down, sa.Local, sa.Remote, 0)
					d.removePhase1(ph)
				}
			})
		})
	}
	d.logf("INFO: ISAKMP-SA established %s-%s spi:%x:%x", sa.Local, ph.peer, sa.ICookie, sa.RCookie)
	d.events.emit(admin.EvtPhase1Up, sa.Local, sa.Remote, 0)
	// racoon sends INITIAL-CONTACT as its own informational exchange, from
	// both sides, when initial_contact is on (the default).
	if ph.remote != nil && ph.remote.InitialContact && !ph.imported {
		if b, err := sa.Informational(sa.InitialContactNotify()); err == nil {
			d.send(ph, b)
		}
	}
	// Unlike racoon (which re-checks waiting phase-2 requests on a
	// 1-second timer), quick mode starts as soon as phase 1 is up.
	// An aggressive-mode initiator's last message is not acknowledged: a
	// quick mode sent at once can overtake it inside a multi-threaded peer
	// (charon drops it and waits for the retransmission). Give the peer a
	// moment first.
	start := func() {
		pend := ph.pending
		ph.pending = nil
		for _, r := range pend {
			if !ph.deleted {
				d.startQuick(ph, r)
			}
		}
	}
	if sa.Initiator && sa.Mode == isakmp.ExchangeAggressive && len(ph.pending) > 0 {
		time.AfterFunc(aggressiveQuickDelay, func() { d.post(start) })
		return
	}
	start()
}

// aggressiveQuickDelay is the pause between an aggressive mode this end
// initiated and its first quick mode.
const aggressiveQuickDelay = 50 * time.Millisecond

func (d *Daemon) sendDelete(ph *ph1) {
	if b, err := ph.sa.Informational(ph.sa.DeleteSelf()); err == nil {
		d.send(ph, b)
	}
}

func (d *Daemon) informational(ph *ph1, p packet, b []byte, moved func()) {
	ps, err := ph.sa.HandleInformational(b)
	if err != nil {
		d.drop(p, "informational from %s: %v", p.from, err)
		return
	}
	if ph.sa.Keys != nil {
		moved()
	}
	for _, x := range ps {
		switch v := x.(type) {
		case *isakmp.Notification:
			if v.Type == isakmp.InitialContact {
				d.logf("INFO: [%s] received INITIAL-CONTACT", p.from.Addr())
				d.initialContact(ph)
			} else if v.Type.IsError() {
				d.logf("ERROR: [%s] notification %s", p.from.Addr(), v.Type)
				if !ph.sa.Established() {
					d.failPhase1(ph, fmt.Errorf("peer sent %s", v.Type))
				}
			} else {
				d.logf("INFO: [%s] notification %s", p.from.Addr(), v.Type)
			}
		case *isakmp.Delete:
			d.peerDelete(ph, v)
		}
	}
}

// initialContact drops every other phase 1 with the peer and the IPsec SAs
// between us that were not negotiated under this one, as racoon does: the
// peer restarted and has forgotten them.
func (d *Daemon) initialContact(ph *ph1) {
	for _, o := range d.ph1s {
		if o != ph && o.peer.Addr() == ph.peer.Addr() && o.sa.Established() {
			d.logf("INFO: purging ISAKMP-SA %x:%x after INITIAL-CONTACT", o.sa.ICookie, o.sa.RCookie)
			d.removePhase1(o)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), kernelTimeout)
	defer cancel()
	me, peer := ph.sa.Local.Addr(), ph.peer.Addr()
	for _, st := range []pfkey.SAType{pfkey.SATypeESP, pfkey.SATypeAH} {
		sas, err := d.kernel.SAs(ctx, st)
		if err != nil {
			continue
		}
		for _, e := range sas {
			if ph.spis[e.SPI] || !(e.Src == me && e.Dst == peer || e.Src == peer && e.Dst == me) {
				e.Wipe()
				continue
			}
			if e.State == pfkey.SAStateLarval {
				e.Wipe()
				continue // a GETSPI of a quick mode in progress
			}
			d.logf("INFO: purging IPsec-SA spi=%#x %s->%s after INITIAL-CONTACT", e.SPI, e.Src, e.Dst)
			d.kernel.Delete(ctx, st, e.Src, e.Dst, e.SPI)
			e.Wipe()
		}
	}
}

func (d *Daemon) peerDelete(ph *ph1, del *isakmp.Delete) {
	ctx, cancel := context.WithTimeout(context.Background(), kernelTimeout)
	defer cancel()
	switch del.ProtocolID {
	case isakmp.ProtoISAKMP:
		d.logf("INFO: [%s] purged ISAKMP-SA %x:%x (peer's DELETE)", ph.peer.Addr(), ph.sa.ICookie, ph.sa.RCookie)
		d.events.emit(admin.EvtPhase1PeerDeleted, ph.sa.Local, ph.sa.Remote, 0)
		ph.deleted = true // no DELETE back
		d.removePhase1(ph)
	case isakmp.ProtoIPsecESP, isakmp.ProtoIPsecAH:
		st := pfkey.SATypeESP
		if del.ProtocolID == isakmp.ProtoIPsecAH {
			st = pfkey.SATypeAH
		}
		for _, s := range del.SPIs {
			if len(s) != 4 {
				continue
			}
			spi := binary.BigEndian.Uint32(s)
			// the peer's SPI is our outbound SA
			d.kernel.Delete(ctx, st, ph.sa.Local.Addr(), ph.peer.Addr(), spi)
			for k, q := range d.ph2s {
				if q.p1 == ph && q.q.SPIOut == spi {
					d.kernel.Delete(ctx, st, ph.peer.Addr(), ph.sa.Local.Addr(), q.q.SPIIn)
					q.q.Wipe()
					delete(d.ph2s, k)
				}
			}
			d.logf("INFO: [%s] purged IPsec-SA spi=%#x (peer's DELETE)", ph.peer.Addr(), spi)
		}
	}
}

// ---- phase 2

// startPhase1 begins a phase 1 to peer, for r (may be nil: phase 1 only).
func (d *Daemon) startPhase1(peer, me netip.Addr, rm *conf.Remote, r *p2req) (*ph1, error) {
	if rm == nil {
		rm = d.findRemote(peer)
	}
	if rm == nil {
		return nil, fmt.Errorf("no remote configuration for %s", peer)
	}
	if rm.Passive {
		return nil, fmt.Errorf("remote %s is passive: racoon does not initiate", rm)
	}
	if len(rm.ExchangeModes) == 0 {
		return nil, fmt.Errorf("remote %s has no exchange mode", rm)
	}
	s, err := d.sockFor(peer, false, me)
	if err != nil {
		return nil, err
	}
	port := rm.Port
	if port == 0 || rm.Anonymous {
		port = uint16(d.opt.Port)
	}
	remote := netip.AddrPortFrom(peer, port)
	cfg, err := d.phase1Config(rm, modeOf(rm.ExchangeModes[0]), s.local.Addr(), peer)
	if err != nil {
		return nil, err
	}
	sa, out, err := ike.NewInitiator(cfg, s.local, remote)
	if err != nil {
		return nil, err
	}
	d.logf("INFO: initiate new phase 1 negotiation: %s<=>%s", s.local, remote)
	ph := &ph1{sa: sa, remote: rm, sock: s, peer: remote}
	if r != nil {
		ph.pending = append(ph.pending, r)
	}
	d.ph1s[cookieKey(sa.ICookie, [8]byte{})] = ph
	d.send(ph, out)
	d.armPhase1(ph)
	d.phase1Deadline(ph)
	return ph, nil
}

// findPhase1 returns an established (or negotiating) phase 1 with peer.
func (d *Daemon) findPhase1(peer netip.Addr, established bool) *ph1 {
	var best *ph1
	for _, p := range d.ph1s {
		if p.deleted || p.sa.Remote.Addr() != peer && p.peer.Addr() != peer {
			continue
		}
		if established && !p.sa.Established() {
			continue
		}
		if best == nil || p.sa.Established() && (!best.sa.Established() || p.sa.Created.After(best.sa.Created)) {
			best = p
		}
	}
	return best
}

// request starts (or queues) a quick mode for r.
func (d *Daemon) request(r *p2req) error {
	if r.policyID != 0 && d.inflight[r.policyID] {
		return nil
	}
	if ph := d.findPhase1(r.peer, true); ph != nil {
		d.startQuick(ph, r)
		return nil
	}
	if ph := d.findPhase1(r.peer, false); ph != nil {
		ph.pending = append(ph.pending, r)
		if r.policyID != 0 {
			d.inflight[r.policyID] = true
		}
		return nil
	}
	var rm *conf.Remote
	if r.remoteName != "" {
		rm = d.findRemoteByName(r.remoteName)
	}
	if _, err := d.startPhase1(r.peer, r.me, rm, r); err != nil {
		return err
	}
	if r.policyID != 0 {
		d.inflight[r.policyID] = true
	}
	return nil
}

func (d *Daemon) allocSPI(peer, me netip.Addr, reqid uint32, fixedMode pfkey.Mode) func(ike.Proposal2) (uint32, error) {
	return func(p ike.Proposal2) (uint32, error) {
		mode := fixedMode
		if mode == pfkey.ModeAny {
			mode = encapMode(p.Encap)
		}
		ctx, cancel := context.WithTimeout(context.Background(), kernelTimeout)
		defer cancel()
		return d.kernel.GetSPI(ctx, peer, me, mode, reqid)
	}
}

func encapMode(e uint16) pfkey.Mode {
	switch e {
	case isakmp.EncapTransport, isakmp.EncapUDPTransport, 61444:
		return pfkey.ModeTransport
	}
	return pfkey.ModeTunnel
}

func modeEncap(m pfkey.Mode) uint16 {
	if m == pfkey.ModeTransport {
		return isakmp.EncapTransport
	}
	return isakmp.EncapTunnel
}

func (d *Daemon) startQuick(ph *ph1, r *p2req) {
	si := d.findSAInfo(r.local, r.remote, true)
	if si == nil {
		d.logf("ERROR: no sainfo for %v <=> %v", r.local.Prefix, r.remote.Prefix)
		delete(d.inflight, r.policyID)
		return
	}
	cfg := &ike.Phase2Config{
		Proposals: phase2Proposals(si, []uint16{modeEncap(r.mode)}),
		PFSGroup:  pfsGroup(si),
		Check:     checkLevel(ph.remote.ProposalCheck),
		IDci:      selID(r.local), IDcr: selID(r.remote),
		AllocSPI:  d.allocSPI(ph.peer.Addr(), ph.sa.Local.Addr(), r.reqid, r.mode),
		NonceSize: int(ph.remote.NonceSize),
	}
	q, out, err := ike.NewQuickInitiator(ph.sa, cfg)
	if err != nil {
		d.logf("ERROR: quick mode with %s: %v", ph.peer, err)
		d.stats.p2fail.Add(1)
		delete(d.inflight, r.policyID)
		return
	}
	d.logf("INFO: initiate new phase 2 negotiation: %s<=>%s", ph.sa.Local, ph.peer)
	e := &ph2{q: q, p1: ph, req: r}
	d.ph2s[ph2key{cookieKey(ph.sa.ICookie, ph.sa.RCookie), q.MsgID}] = e
	d.send(ph, out)
	d.armPhase2(e)
	d.phase2Deadline(e)
}

func (d *Daemon) armPhase2(e *ph2) {
	e.gen++
	e.retries = 0
	gen := e.gen
	if e.q.Established() {
		return
	}
	// The first quick-mode message may overtake the responder's processing
	// of the last aggressive-mode message (charon drops it then): the first
	// retransmission comes after one second at most, later ones at the
	// configured interval.
	d.retryFirst(time.Second, func() bool { return e.gen == gen && !e.q.Established() && !e.p1.deleted && e.q.State != ike.P2Failed }, func() bool {
		e.retries++
		if uint64(e.retries) > d.cfg.Timer.Counter {
			d.logf("ERROR: phase 2 negotiation with %s failed due to time up", e.p1.peer)
			d.stats.p2fail.Add(1)
			d.events.emit(admin.EvtPhase2NoResponse, e.p1.sa.Local, e.p1.sa.Remote, e.q.MsgID)
			d.dropPhase2(e)
			return false
		}
		d.stats.retransmits.Add(1)
		d.send(e.p1, e.q.LastSent)
		return true
	})
}

func (d *Daemon) dropPhase2(e *ph2) {
	if e.req != nil {
		delete(d.inflight, e.req.policyID)
	}
	e.q.Wipe()
	delete(d.ph2s, ph2key{cookieKey(e.p1.sa.ICookie, e.p1.sa.RCookie), e.q.MsgID})
}

func (d *Daemon) quickMessage(ph *ph1, p packet, b []byte, h *isakmp.Header, moved func()) {
	if !ph.sa.Established() {
		d.drop(p, "quick mode before phase 1 is established")
		return
	}
	k := ph2key{cookieKey(ph.sa.ICookie, ph.sa.RCookie), h.MessageID}
	if e, ok := d.ph2s[k]; ok {
		before := e.q.State
		out, err := e.q.Handle(b)
		if errors.Is(err, ike.ErrRetransmit) {
			d.stats.retransmits.Add(1)
			d.send(ph, e.q.LastSent)
			return
		}
		if err != nil {
			d.drop(p, "quick mode with %s (state %s): %v", p.from, before, err)
			return
		}
		moved()
		d.send(ph, out)
		if e.q.State != before {
			d.armPhase2(e)
		}
		if before != ike.P2Established && e.q.Established() {
			d.phase2Up(e)
		}
		return
	}
	if h.ExchangeType != isakmp.ExchangeQuick {
		d.drop(p, "unexpected %s", h.ExchangeType)
		return
	}
	var req *p2req
	q, out, err := ike.NewQuickResponder(ph.sa, b, func(idci, idcr *isakmp.ID) (*ike.Phase2Config, error) {
		moved() // HASH(1) is verified when this runs
		// the initiator's client ID is the remote side from here
		remote, okr := idSelector(idci)
		local, okl := idSelector(idcr)
		if !okr || !okl {
			remote = selector{Prefix: netip.PrefixFrom(ph.peer.Addr(), ph.peer.Addr().BitLen()), Proto: 255}
			local = selector{Prefix: netip.PrefixFrom(ph.sa.Local.Addr(), ph.sa.Local.Addr().BitLen()), Proto: 255}
		}
		si := d.findSAInfo(local, remote, true)
		if si == nil {
			return nil, fmt.Errorf("no sainfo for %v <=> %v", local.Prefix, remote.Prefix)
		}
		req = &p2req{local: local, remote: remote, me: ph.sa.Local.Addr(), peer: ph.peer.Addr()}
		pol := d.findPolicy(local, remote)
		mode := pfkey.ModeAny
		if pol != nil && len(pol.Requests) > 0 {
			req.reqid = pol.Requests[0].ReqID
			mode = pol.Requests[0].Mode
		}
		req.mode = mode
		encaps := []uint16{isakmp.EncapTunnel, isakmp.EncapTransport}
		if mode != pfkey.ModeAny {
			encaps = []uint16{modeEncap(mode)}
		}
		return &ike.Phase2Config{
			Proposals: phase2Proposals(si, encaps), PFSGroup: pfsGroup(si), Check: checkLevel(ph.remote.ProposalCheck),
			AllocSPI: d.allocSPI(ph.peer.Addr(), ph.sa.Local.Addr(), req.reqid, mode), NonceSize: int(ph.remote.NonceSize),
		}, nil
	})
	if err != nil {
		d.stats.p2fail.Add(1)
		d.drop(p, "quick mode (responder) with %s: %v", p.from, err)
		if q != nil && q.State == ike.P2Failed {
			if b, err2 := ph.sa.Informational(&isakmp.Notification{DOI: isakmp.DOIIPsec, ProtocolID: isakmp.ProtoIPsecESP, Type: isakmp.NoProposalChosen}); err2 == nil {
				d.send(ph, b)
			}
		}
		return
	}
	moved()
	d.logf("INFO: respond new phase 2 negotiation: %s<=>%s", ph.sa.Local, ph.peer)
	e := &ph2{q: q, p1: ph, req: req}
	d.ph2s[k] = e
	d.send(ph, out)
	d.armPhase2(e)
	d.phase2Deadline(e)
}

func (d *Daemon) findPolicy(local, remote selector) *pfkey.PolicyEntry {
	ctx, cancel := context.WithTimeout(context.Background(), kernelTimeout)
	defer cancel()
	pols, err := d.kernel.Policies(ctx)
	if err != nil {
		return nil
	}
	for _, p := range pols {
		if p.Dir == pfkey.DirOutbound && p.Src.Masked() == local.Prefix.Masked() && p.Dst.Masked() == remote.Prefix.Masked() {
			return p
		}
	}
	return nil
}

func (d *Daemon) phase2Up(e *ph2) {
	q, ph := e.q, e.p1
	if e.req != nil {
		delete(d.inflight, e.req.policyID)
	}
	mode := encapMode(q.Chosen.Encap)
	reqid := uint32(0)
	if e.req != nil {
		reqid = e.req.reqid
	}
	var natt *pfkey.NATT
	if ph.natt {
		natt = &pfkey.NATT{Type: 2, SPort: ph.sock.local.Port(), DPort: ph.peer.Port()}
	}
	local, remote := ph.sa.Local.Addr(), ph.peer.Addr()
	if !q.Initiator && ph.remote.GeneratePolicy != conf.GeneratePolicyOff && e.req != nil {
		d.generatePolicy(e.req, mode, reqid)
	}
	in, out := saEntries(q, local, remote, mode, reqid, natt)
	defer in.Wipe()
	defer out.Wipe()
	ctx, cancel := context.WithTimeout(context.Background(), kernelTimeout)
	defer cancel()
	if err := d.kernel.Install(ctx, in, out); err != nil {
		d.logf("ERROR: installing IPsec-SAs with %s: %v", remote, err)
		d.stats.p2fail.Add(1)
		return
	}
	d.stats.p2up.Add(1)
	if ph.spis == nil {
		ph.spis = map[uint32]bool{}
	}
	ph.spis[q.SPIIn], ph.spis[q.SPIOut] = true, true
	d.logf("INFO: IPsec-SA established: %s/%s %s->%s spi=%d(%#x)", q.Chosen.Protocol, mode, remote, local, q.SPIIn, q.SPIIn)
	d.logf("INFO: IPsec-SA established: %s/%s %s->%s spi=%d(%#x)", q.Chosen.Protocol, mode, local, remote, q.SPIOut, q.SPIOut)
	d.events.emit(admin.EvtPhase2Up, ph.sa.Local, ph.sa.Remote, q.MsgID)
	// keep the finished exchange a while to answer retransmissions, then forget its keys
	k := ph2key{cookieKey(ph.sa.ICookie, ph.sa.RCookie), q.MsgID}
	time.AfterFunc(d.cfg.Timer.Interval*time.Duration(d.cfg.Timer.Counter+1), func() {
		d.post(func() {
			if d.ph2s[k] == e {
				e.q.Wipe()
				delete(d.ph2s, k)
			}
		})
	})
	d.sasByPolicy(e)
}

// generatePolicy installs the responder's policies from the peer's IDs
// (generate_policy on).
func (d *Daemon) generatePolicy(r *p2req, mode pfkey.Mode, reqid uint32) {
	ctx, cancel := context.WithTimeout(context.Background(), kernelTimeout)
	defer cancel()
	mk := func(src, dst selector, dir pfkey.Direction, tsrc, tdst netip.Addr) *pfkey.PolicyEntry {
		proto := pfkey.Proto(src.Proto)
		if src.Proto == 0 {
			proto = pfkey.ProtoAny
		}
		req := pfkey.IPSecRequest{Proto: pfkey.ProtoESP, Mode: mode, Level: pfkey.LevelRequire, ReqID: reqid}
		if mode == pfkey.ModeTunnel {
			req.Src, req.Dst = netip.AddrPortFrom(tsrc, 0), netip.AddrPortFrom(tdst, 0)
		}
		return &pfkey.PolicyEntry{Src: src.Prefix, Dst: dst.Prefix, SrcPort: src.Port, DstPort: dst.Port, Proto: proto, Dir: dir,
			Type: pfkey.PolicyIPsec, Requests: []pfkey.IPSecRequest{req}}
	}
	for _, p := range []*pfkey.PolicyEntry{
		mk(r.local, r.remote, pfkey.DirOutbound, r.me, r.peer),
		mk(r.remote, r.local, pfkey.DirInbound, r.peer, r.me),
	} {
		if err := d.kernel.AddPolicy(ctx, p); err != nil {
			d.logf("ERROR: generate_policy %s: %v", p, err)
		}
	}
}

// sasByPolicy remembers what to rekey when the kernel's soft EXPIRE comes.
func (d *Daemon) sasByPolicy(e *ph2) {
	if e.req == nil || !e.q.Initiator {
		return
	}
	d.rekeyMu.Lock()
	if d.rekey == nil {
		d.rekey = map[uint32]*p2req{}
	}
	d.rekey[e.q.SPIIn] = e.req
	d.rekey[e.q.SPIOut] = e.req
	d.rekeyMu.Unlock()
}

// ---- kernel events

func (d *Daemon) handleKernel(m *pfkey.Message) {
	switch m.Type {
	case pfkey.MsgAcquire:
		d.stats.acquires.Add(1)
		d.acquire(m)
	case pfkey.MsgExpire:
		if m.SA == nil {
			return
		}
		spi := m.SA.SPI
		d.rekeyMu.Lock()
		r := d.rekey[spi]
		if m.LifetimeHard != nil {
			delete(d.rekey, spi)
		}
		d.rekeyMu.Unlock()
		if m.LifetimeHard != nil {
			d.logf("INFO: IPsec-SA expired (hard): spi=%#x", spi)
			return
		}
		d.logf("INFO: IPsec-SA expired (soft): spi=%#x", spi)
		if r != nil {
			// both SAs of the pair expire: rekey once
			d.rekeyMu.Lock()
			for k, v := range d.rekey {
				if v == r {
					delete(d.rekey, k)
				}
			}
			d.rekeyMu.Unlock()
			d.logf("INFO: rekeying %v <=> %v with %s", r.local.Prefix, r.remote.Prefix, r.peer)
			rr := *r
			rr.policyID = 0
			if err := d.request(&rr); err != nil {
				d.logf("ERROR: rekey: %v", err)
			}
		}
	}
}

func (d *Daemon) acquire(m *pfkey.Message) {
	if m.Policy == nil {
		d.logf("ERROR: ACQUIRE without a policy")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), kernelTimeout)
	defer cancel()
	pol, err := d.kernel.Policy(ctx, m.Policy.ID)
	if err != nil {
		d.logf("ERROR: ACQUIRE for policy %d: %v", m.Policy.ID, err)
		return
	}
	r, err := requestFromPolicy(pol)
	if err != nil {
		d.logf("ERROR: ACQUIRE: %v", err)
		return
	}
	if rm := d.findRemote(r.peer); rm != nil && rm.Passive {
		// As ipsec-tools' racoon (isakmp_post_acquire): a passive remote
		// never initiates, and its ACQUIREs are no error. E.g. a mobile
		// node whose SA towards a new access router arrives by context
		// transfer while the kernel holds the first packets.
		d.debugf("because of passive mode, ignore the acquire message for %s", r.peer)
		return
	}
	d.debugf("ACQUIRE for %s", pol)
	if err := d.request(r); err != nil {
		d.logf("ERROR: ACQUIRE %s: %v", pol, err)
	}
}

func requestFromPolicy(pol *pfkey.PolicyEntry) (*p2req, error) {
	if len(pol.Requests) == 0 {
		return nil, fmt.Errorf("policy %s has no IPsec request", pol)
	}
	rq := pol.Requests[0]
	r := &p2req{
		local:    selector{Prefix: pol.Src, Port: pol.SrcPort, Proto: uint8(pol.Proto)},
		remote:   selector{Prefix: pol.Dst, Port: pol.DstPort, Proto: uint8(pol.Proto)},
		mode:     rq.Mode,
		reqid:    rq.ReqID,
		policyID: pol.ID,
	}
	if rq.Mode == pfkey.ModeTunnel && rq.Dst.IsValid() {
		r.me, r.peer = rq.Src.Addr(), rq.Dst.Addr()
	} else {
		r.me, r.peer = pol.Src.Addr(), pol.Dst.Addr()
		r.mode = pfkey.ModeTransport
	}
	return r, nil
}

func (mk *memKernel) loadPolicies(path string) error {
	pols, err := policiesFromSetkey(path)
	if err != nil {
		return err
	}
	mk.mu.Lock()
	defer mk.mu.Unlock()
	for i, p := range pols {
		p.ID = uint32(i + 1)
		mk.pols = append(mk.pols, p)
	}
	return nil
}
