package engine

import (
	"net/netip"
	"time"
)

// seqWindow remembers the sequence numbers an MN used within the reuse
// window, so that a replayed CTAR (or CT-Req relaying one) is refused.
type seqWindow struct {
	seen []seqSeen
}

type seqSeen struct {
	seq  uint32
	at   time.Time
	from netip.Addr
}

// Results of seqWindow.check.
const (
	seqFresh      = iota // never seen within the window: recorded
	seqRetransmit        // seen from the same relay (a CT-Req retransmission)
	seqReplay            // seen before from elsewhere, or from the MN itself
)

// check classifies seq at now and records it when fresh. from is the relay
// (the nAR for a CT-Req) or the invalid Addr for a CTAR the MN sent itself:
// only a relay may repeat a sequence number (its own retransmissions).
// Entries older than window are forgotten. At most max entries are kept
// (the oldest go first): an MN sends a handful of CTARs per handover.
func (w *seqWindow) check(seq uint32, now time.Time, window time.Duration, from netip.Addr) int {
	r := w.peek(seq, now, window, from)
	if r == seqFresh {
		w.record(seq, now, from)
	}
	return r
}

// peek classifies seq like check without recording it: a number is only
// recorded once its token verified (record), so a forger cannot burn the
// MN's next sequence numbers.
func (w *seqWindow) peek(seq uint32, now time.Time, window time.Duration, from netip.Addr) int {
	keep := w.seen[:0]
	for _, s := range w.seen {
		if now.Sub(s.at) < window {
			keep = append(keep, s)
		}
	}
	w.seen = keep
	for _, s := range w.seen {
		if s.seq == seq {
			if from.IsValid() && s.from == from {
				return seqRetransmit
			}
			return seqReplay
		}
	}
	return seqFresh
}

// record remembers seq as used at now.
func (w *seqWindow) record(seq uint32, now time.Time, from netip.Addr) {
	const max = 64
	if len(w.seen) >= max {
		w.seen = append(w.seen[:0], w.seen[1:]...)
	}
	w.seen = append(w.seen, seqSeen{seq, now, from})
}

func (w *seqWindow) empty(now time.Time, window time.Duration) bool {
	for _, s := range w.seen {
		if now.Sub(s.at) < window {
			return false
		}
	}
	return true
}

// backoff is the retransmission schedule: first, doubling, capped at max.
type backoff struct {
	first, max time.Duration
	n          int
}

func (b *backoff) next() time.Duration {
	d := b.first
	for i := 0; i < b.n && d < b.max; i++ {
		d *= 2
	}
	if d > b.max {
		d = b.max
	}
	b.n++
	return d
}

// pacer spaces requests to one peer to at most rate per second.
type pacer struct {
	next time.Time
}

// delay returns how long to wait before sending at now, and books the slot.
func (p *pacer) delay(now time.Time, rate int) time.Duration {
	if rate <= 0 {
		return 0
	}
	gap := time.Second / time.Duration(rate)
	at := now
	if p.next.After(now) {
		at = p.next
	}
	p.next = at.Add(gap)
	return at.Sub(now)
}
