package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/ikectx/ikectx/cxtp"
	"github.com/ikectx/ikectx/cxtp/engine"
	"github.com/ikectx/ikectx/shm"
)

// Broker is cxtpd's end of one shared-memory segment (paper Figure 3): it
// posts requests for the context module, signals it, and hands each result
// back to the engine call waiting for it (matched by the slot's tag).
type Broker struct {
	seg  *shm.Segment
	log  *slog.Logger
	tag  atomic.Uint64
	mu   sync.Mutex
	wait map[uint64]chan shm.Record
	// Late counts results that arrived after their caller gave up;
	// Corrupt counts slots that failed their checks.
	Late, Corrupt atomic.Uint64
	done          chan struct{}
}

// OpenBroker opens (creating if needed) the segment as the CXTP module and
// starts receiving results.
func OpenBroker(ctx context.Context, name string, opts *shm.Options, log *slog.Logger) (*Broker, error) {
	seg, err := shm.Open(name, shm.RoleCXTP, opts)
	if err != nil {
		return nil, err
	}
	ev, err := seg.Events(ctx)
	if err != nil {
		seg.Close()
		return nil, err
	}
	b := &Broker{seg: seg, log: log, wait: map[uint64]chan shm.Record{}, done: make(chan struct{})}
	go b.run(ev)
	return b, nil
}

// Close detaches from the segment (the name stays for the module).
func (b *Broker) Close() error {
	err := b.seg.Close()
	<-b.done
	return err
}

// Segment returns the underlying segment.
func (b *Broker) Segment() *shm.Segment { return b.seg }

func (b *Broker) run(ev <-chan shm.Event) {
	defer close(b.done)
	for e := range ev {
		if e.Err != nil {
			b.Corrupt.Add(1)
			b.log.Error("shm: corrupt slot released", "segment", b.seg.Name(), "slot", e.Slot, "err", e.Err)
			_ = b.seg.Release(e.Slot)
			continue
		}
		if e.State != shm.StateDone || e.Rec == nil {
			continue
		}
		rec := *e.Rec
		rec.Data = append([]byte(nil), rec.Data...)
		if err := b.seg.Release(e.Slot); err != nil {
			b.log.Warn("shm: release", "slot", e.Slot, "err", err)
		}
		b.mu.Lock()
		ch := b.wait[rec.Tag]
		delete(b.wait, rec.Tag)
		b.mu.Unlock()
		if ch == nil {
			b.Late.Add(1)
			continue
		}
		ch <- rec
	}
}

// Call posts one request, wakes the module and waits for its result or ctx.
func (b *Broker) Call(ctx context.Context, op shm.Op, fpt cxtp.FPT, mn netip.Addr, data []byte) (shm.Record, error) {
	tag := b.tag.Add(1)
	ch := make(chan shm.Record, 1)
	b.mu.Lock()
	b.wait[tag] = ch
	b.mu.Unlock()
	id, err := b.seg.Submit(shm.Request{Op: op, FPT: uint16(fpt), MN: mn, Tag: tag, Data: data})
	if err != nil {
		b.mu.Lock()
		delete(b.wait, tag)
		b.mu.Unlock()
		return shm.Record{}, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.wait, tag)
		b.mu.Unlock()
		// Withdraw the request if the module has not taken it yet; a result
		// that still comes is released and counted as late.
		_ = b.seg.Release(id)
		return shm.Record{}, fmt.Errorf("shm %s: %v for FPT %d: module did not answer in time (pid %d): %w",
			b.seg.Name(), op, fpt, b.seg.PeerPID(), ctx.Err())
	}
}

// CallBatch posts one request per FPT (same operation, MN and data),
// wakes the module once and waits for every result or ctx: the module's
// scan on that one signal finds all of them. The result has one record and
// one error per FPT, in order.
func (b *Broker) CallBatch(ctx context.Context, op shm.Op, fpts []cxtp.FPT, mn netip.Addr, data []byte) ([]shm.Record, []error) {
	recs := make([]shm.Record, len(fpts))
	errs := make([]error, len(fpts))
	tags := make([]uint64, len(fpts))
	ids := make([]shm.SlotID, len(fpts))
	chs := make([]chan shm.Record, len(fpts))
	posted := 0
	for i, f := range fpts {
		tags[i] = b.tag.Add(1)
		chs[i] = make(chan shm.Record, 1)
		b.mu.Lock()
		b.wait[tags[i]] = chs[i]
		b.mu.Unlock()
		id, err := b.seg.Post(shm.Request{Op: op, FPT: uint16(f), MN: mn, Tag: tags[i], Data: data})
		if err != nil {
			b.mu.Lock()
			delete(b.wait, tags[i])
			b.mu.Unlock()
			errs[i] = err
			chs[i] = nil
			continue
		}
		ids[i] = id
		posted++
	}
	if posted > 0 {
		if err := b.seg.Wake(); err != nil {
			b.log.Warn("shm: wake", "err", err) // the module's rescan still finds the requests
		}
	}
	for i, ch := range chs {
		if ch == nil {
			continue
		}
		select {
		case r := <-ch:
			recs[i] = r
		case <-ctx.Done():
			b.mu.Lock()
			delete(b.wait, tags[i])
			b.mu.Unlock()
			_ = b.seg.Release(ids[i])
			errs[i] = fmt.Errorf("shm %s: %v for FPT %d: module did not answer in time (pid %d): %w",
				b.seg.Name(), op, fpts[i], b.seg.PeerPID(), ctx.Err())
		}
	}
	return recs, errs
}

// OpTransferred is this project's fifth shm operation (shm passes unknown
// operations through): on the pAR, after the nAR's CTDR, it tells the
// module that the MN's context of this FPT reached the nAR; data is one
// octet, the nAR's RFC 4067 status for it (0 = success). The module decides
// what the pAR keeps. Its result status is only logged.
const OpTransferred shm.Op = 5

// ModuleHandler is an engine.Handler that forwards to a context module
// through a Broker: CAPTURE on the pAR, PREINSTALL / ACTIVATE (data: the
// MN's new care-of address, 16 or 4 octets) / DISCARD on the nAR.
type ModuleHandler struct {
	B    *Broker
	FPT  cxtp.FPT
	Name string
	// AfterAck activates this FPT after the CTAA (engine.AfterAck): for
	// contexts that do not carry the MN's traffic (an IKE SA).
	AfterAck bool
	// Batch, when set, is shared by the handlers of one module: a CTAR's
	// activations of its FPTs go to the module in one round
	// (engine.Batcher).
	Batch *ModuleBatch
}

// ModuleBatch activates several FPTs of one context module in one round
// through its segment (Broker.CallBatch).
type ModuleBatch struct {
	B    *Broker
	Name string
}

// ActivateBatch implements engine.BatchActivator.
func (m *ModuleBatch) ActivateBatch(ctx context.Context, mn engine.MN, fpts []cxtp.FPT) []error {
	var data []byte
	if mn.New.IsValid() {
		data = mn.New.AsSlice()
	}
	recs, errs := m.B.CallBatch(ctx, shm.OpActivate, fpts, mn.Prev, data)
	for i := range fpts {
		if errs[i] != nil {
			errs[i] = fmt.Errorf("module %s: %w", m.Name, errs[i])
		} else if recs[i].Status != shm.StatusOK {
			errs[i] = fmt.Errorf("module %s: %v for MN %s FPT %d: %v", m.Name, shm.OpActivate, mn.Prev, fpts[i], recs[i].Status)
		}
	}
	return errs
}

// ActivateAfterAck implements engine.AfterAck.
func (h *ModuleHandler) ActivateAfterAck() bool { return h.AfterAck }

// ActivationBatch implements engine.Batcher.
func (h *ModuleHandler) ActivationBatch() engine.BatchActivator {
	if h.Batch == nil {
		return nil
	}
	return h.Batch
}

func (h *ModuleHandler) call(ctx context.Context, op shm.Op, mn netip.Addr, data []byte) (shm.Record, error) {
	r, err := h.B.Call(ctx, op, h.FPT, mn, data)
	if err != nil {
		return r, fmt.Errorf("module %s: %w", h.Name, err)
	}
	if r.Status != shm.StatusOK {
		return r, fmt.Errorf("module %s: %v for MN %s FPT %d: %v", h.Name, op, mn, h.FPT, r.Status)
	}
	return r, nil
}

// Capture asks the module for the MN's context.
func (h *ModuleHandler) Capture(ctx context.Context, mn engine.MN) ([]byte, error) {
	r, err := h.call(ctx, shm.OpCapture, mn.Prev, nil)
	if err != nil {
		return nil, err
	}
	return r.Data, nil
}

// PreInstall hands a received context to the module.
func (h *ModuleHandler) PreInstall(ctx context.Context, mn engine.MN, data []byte) error {
	_, err := h.call(ctx, shm.OpPreinstall, mn.Prev, data)
	return err
}

// Activate switches the context on; the data is the MN's new address.
func (h *ModuleHandler) Activate(ctx context.Context, mn engine.MN) error {
	var data []byte
	if mn.New.IsValid() {
		data = mn.New.AsSlice()
	}
	_, err := h.call(ctx, shm.OpActivate, mn.Prev, data)
	return err
}

// Discard removes a pre-installed context.
func (h *ModuleHandler) Discard(ctx context.Context, mn engine.MN) {
	if _, err := h.call(ctx, shm.OpDiscard, mn.Prev, nil); err != nil && !errors.Is(err, context.Canceled) {
		h.B.log.Warn("cxtp: discard", "module", h.Name, "mn", mn.Prev, "fpt", uint16(h.FPT), "err", err)
	}
}

// Transferred implements engine.Releaser through OpTransferred.
func (h *ModuleHandler) Transferred(ctx context.Context, mn engine.MN, st cxtp.Status) {
	if _, err := h.call(ctx, OpTransferred, mn.Prev, []byte{byte(st)}); err != nil {
		h.B.log.Info("cxtp: transferred notice", "module", h.Name, "mn", mn.Prev, "fpt", uint16(h.FPT), "err", err)
	}
}
