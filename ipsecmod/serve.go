//go:build linux || freebsd

package ipsecmod

import (
	"context"
	"errors"
	"net/netip"

	"github.com/ikectx/ikectx/cxtp"
	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
	"github.com/ikectx/ikectx/shm"
)

var (
	_ Kernel      = (*pfkey.Conn)(nil)
	_ IKEv1Daemon = (*admin.Client)(nil)
)

// OpTransferred is cxtpd's fifth shm operation (cxtp/daemon.OpTransferred):
// after the nAR's CTDR, on the pAR; data is the nAR's status octet.
const OpTransferred shm.Op = 5

// Serve answers cxtpd's requests on seg (the context module's role) until
// ctx is done: CAPTURE, PREINSTALL, ACTIVATE (data: the MN's new CoA),
// DISCARD and TRANSFERRED, for the module's four FPTs. Requests found in one
// scan (a CTAR's batch of activations) are answered together: one wake-up
// signal to cxtpd after the last of them, not one per request.
func (m *Module) Serve(ctx context.Context, seg *shm.Segment) error {
	ev, err := seg.Events(ctx)
	if err != nil {
		return err
	}
	owed := false // replies posted without a wake-up signal yet
	wake := func() {
		if owed {
			if err := seg.Wake(); err != nil {
				m.cfg.Log.Warn("ipsecmod: shm wake", "err", err) // cxtpd's rescan still finds the results
			}
			owed = false
		}
	}
	for e := range ev {
		m.serveOne(ctx, seg, e, &owed)
		if len(ev) == 0 {
			wake()
		}
	}
	wake()
	return nil
}

func (m *Module) serveOne(ctx context.Context, seg *shm.Segment, e shm.Event, owed *bool) {
	if e.State != shm.StateRequest || e.Err != nil {
		return
	}
	rec, err := seg.Accept(e.Slot)
	if err != nil {
		return // withdrawn by cxtpd, or corrupt
	}
	st, data := m.Handle(ctx, rec)
	if err := seg.Reply(e.Slot, st, data); err != nil {
		m.cfg.Log.Error("ipsecmod: shm reply", "slot", e.Slot, "mn", rec.MN, "err", err)
	} else {
		*owed = true
	}
	clear(data) // a captured context holds keys
	clear(rec.Data)
}

// Handle performs one shm request and returns the result status and data.
func (m *Module) Handle(ctx context.Context, r shm.Record) (shm.Status, []byte) {
	k, ok := m.cfg.FPTs.Kind(cxtp.FPT(r.FPT))
	if !ok {
		return shm.StatusUnsupported, nil
	}
	if !r.MN.IsValid() {
		return shm.StatusInvalid, nil
	}
	var err error
	var out []byte
	switch r.Op {
	case shm.OpCapture:
		out, err = m.Capture(ctx, k, r.MN)
	case shm.OpPreinstall:
		err = m.PreInstall(ctx, k, r.MN, netip.Addr{}, r.Data)
	case shm.OpActivate:
		var ncoa netip.Addr
		if len(r.Data) > 0 {
			a, ok := netip.AddrFromSlice(r.Data)
			if !ok {
				return shm.StatusInvalid, nil
			}
			ncoa = a.Unmap()
		}
		err = m.Activate(ctx, k, r.MN, ncoa)
	case shm.OpDiscard:
		err = m.Discard(ctx, k, r.MN)
	case OpTransferred:
		var st uint8
		if len(r.Data) > 0 {
			st = r.Data[0]
		}
		err = m.Transferred(ctx, k, r.MN, st)
	default:
		return shm.StatusUnsupported, nil
	}
	if err != nil {
		m.cfg.Log.Warn("ipsecmod: request failed", "op", r.Op.String(), "mn", r.MN, "fpt", r.FPT, "err", err)
		return StatusOf(err), nil
	}
	return shm.StatusOK, out
}

// StatusOf maps an operation's error to the shm result status.
func StatusOf(err error) shm.Status {
	switch {
	case err == nil:
		return shm.StatusOK
	case errors.Is(err, ErrCollision):
		return shm.StatusCollision
	case errors.Is(err, ErrNoContext):
		return shm.StatusNoContext
	case errors.Is(err, ErrInvalid):
		return shm.StatusInvalid
	case errors.Is(err, ErrUnsupported):
		return shm.StatusUnsupported
	}
	return shm.StatusFailed
}
