package shm

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Event reports a slot that needs this module's attention: a REQUEST for
// the context module (call Accept), a DONE result for the CXTP module (Rec
// is the result; call Release when done with it), or a slot that failed its
// checks (Err wraps ErrCorrupt, Rec is nil): a corrupt REQUEST is reported
// to the context module (Accept answers it with StatusCorrupt), a corrupt
// DONE to the CXTP module, and a slot whose control word is invalid to both
// (the CXTP module may Release it). Each state change of a slot is reported
// once per receiver. A restarted CXTP module also receives the results of
// its predecessor's requests (their Tag tells them apart); it should
// Release those it does not know.
type Event struct {
	Slot  SlotID
	State State
	Gen   uint32
	Rec   *Record // the committed record; nil if Err is set
	Err   error
}

// Events starts the receiver: it scans the whole table now, on every
// wake-up signal and every Rescan period, recovers the slots of a dead
// peer, and sends the events it finds. The channel is closed when ctx is
// done or the segment is closed. Only one receiver may run per Segment.
func (s *Segment) Events(ctx context.Context) (<-chan Event, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if !s.events.CompareAndSwap(false, true) {
		return nil, errors.New("shm " + s.name + ": events: a receiver is already running")
	}
	out := make(chan Event, 64)
	s.wg.Add(1)
	go s.receive(ctx, out)
	return out, nil
}

func (s *Segment) receive(ctx context.Context, out chan<- Event) {
	defer s.wg.Done()
	defer close(out)
	var tick <-chan time.Time
	if s.opts.Rescan > 0 {
		t := time.NewTicker(s.opts.Rescan)
		defer t.Stop()
		tick = t.C
	}
	seen := make(map[SlotID]uint64)
	for {
		for _, ev := range s.scan(seen) {
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			case <-s.done:
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-s.sig:
			s.stats.signals.Add(1)
		case <-tick:
			s.stats.rescans.Add(1)
		}
	}
}

// scan recovers a dead peer's slots and collects the events not reported
// yet. seen holds, per slot, the control word last reported.
func (s *Segment) scan(seen map[SlotID]uint64) []Event {
	if err := s.lock(); err != nil {
		return nil
	}
	defer s.mu.RUnlock()
	s.stats.recovered.Add(uint64(s.recoverLocked(false)))
	want := StateDone
	if s.role == RoleContext {
		want = StateRequest
	}
	var evs []Event
	for i := 0; i < s.geo.Slots; i++ {
		id := SlotID(i)
		w := s.ctlAt(id).Load()
		if last, ok := seen[id]; ok && last == w {
			continue
		}
		c, cerr := decodeCtl(w)
		if cerr == nil && c.state != want {
			delete(seen, id)
			continue
		}
		si := s.inspect(id)
		w2 := s.ctlAt(id).Load()
		if w2 != w {
			continue // changed meanwhile: the next scan sees it
		}
		seen[id] = w
		ev := Event{Slot: id, State: si.State, Gen: si.Gen, Rec: si.Rec}
		s.stats.events.Add(1)
		if si.Err != nil {
			s.stats.corrupt.Add(1)
			ev.Err = fmt.Errorf("shm %s: %w: %v", s.name, ErrCorrupt, si.Err)
			ev.Rec = nil
		}
		evs = append(evs, ev)
	}
	s.stats.scans.Add(1)
	return evs
}

// Stats are counters of one Segment's receiver, for status reports.
type Stats struct {
	Scans     uint64 // table scans completed
	Signals   uint64 // wake-up signals received
	Rescans   uint64 // scans started by the rescan tick
	Events    uint64 // events reported
	Corrupt   uint64 // of which for corrupt slots
	Recovered uint64 // slots rolled back after a dead module
}

type statCounters struct {
	scans, signals, rescans, events, corrupt, recovered atomic.Uint64
}

// Stats returns the receiver's counters.
func (s *Segment) Stats() Stats {
	c := &s.stats
	return Stats{Scans: c.scans.Load(), Signals: c.signals.Load(), Rescans: c.rescans.Load(),
		Events: c.events.Load(), Corrupt: c.corrupt.Load(), Recovered: c.recovered.Load()}
}
