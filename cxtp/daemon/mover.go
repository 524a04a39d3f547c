package daemon

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MNMover moves the MN's own SAD/SPD from its old CoA and AR to the new
// ones (the paper's automatic update, section 4.1; ipsecmod.PrepareMN).
// With `move_ipsec = true` in [mobile], the MN role runs the move itself
// so that the process that receives the CTAA switches the MN's SAs at
// once: prepared on `handover NAR NCOA` (predictive) or while the CTAR is
// on its way (`attach` without a prepared move), activated in the CTAA's
// receive path, the old entries retired after the answer.
type MNMover interface {
	Prepare(ctx context.Context, mv MNMove) (MovePlan, error)
}

// MoverOpener is an MNMover with resources to open ahead (a PF_KEY
// socket): the MN role opens it at start, so that a reactive move does
// not pay for it between the CTAR and the MN's new outbound policy.
type MoverOpener interface {
	Open() error
}

// MNMove names the two attachments of a handover.
type MNMove struct {
	OldCoA, NewCoA netip.Addr
	OldAR, NewAR   netip.Addr
}

// MovePlan is one prepared move.
type MovePlan interface {
	// Activate opens the new path (the nAR's context is active).
	Activate(ctx context.Context) error
	// Retire removes the old CoA's entries (after Activate).
	Retire(ctx context.Context) error
	// Wipe forgets the plan's keys; it cannot be activated afterwards.
	Wipe()
}

// Mover is the MN role's move implementation, set by the command that
// links one in (cmd/cxtpd: ipsecmod over PF_KEY); nil makes
// `move_ipsec = true` an error at start.
var Mover MNMover

// moveTimeout bounds a move's preparation and its activation.
const moveTimeout = 10 * time.Second

// move is the MN's move for one handover and what it measured.
type move struct {
	mv MNMove

	mu       sync.Mutex
	started  bool
	ready    chan struct{} // closed when the preparation ended
	plan     MovePlan
	err      error
	prepared time.Duration
	ctaaAt   time.Time // the CTAA's arrival (the activation's start)
	active   time.Time // the activation's end
	activate time.Duration
	actErr   error
}

func newMove(mv MNMove) *move { return &move{mv: mv, ready: make(chan struct{})} }

// start prepares the move in the background; m.ready closes when done.
func (m *move) start(mover MNMover) {
	m.mu.Lock()
	m.started = true
	m.mu.Unlock()
	go func() {
		defer close(m.ready)
		ctx, cancel := context.WithTimeout(context.Background(), moveTimeout)
		defer cancel()
		t0 := time.Now()
		plan, err := mover.Prepare(ctx, m.mv)
		m.mu.Lock()
		m.plan, m.err, m.prepared = plan, err, time.Since(t0)
		m.mu.Unlock()
	}()
}

// activateOn runs in the CTAA's receive path: it waits for the
// preparation (reactive: it may still run) and activates.
func (m *move) activateOn(ctaa time.Time) {
	<-m.ready
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ctaaAt = ctaa
	if m.err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), moveTimeout)
	defer cancel()
	m.actErr = m.plan.Activate(ctx)
	m.active = time.Now()
	m.activate = m.active.Sub(ctaa)
}

// retire removes the old entries and wipes the plan (in the background,
// after the answer).
func (m *move) retire() error {
	<-m.ready
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.plan == nil {
		return nil
	}
	defer m.plan.Wipe()
	if m.err != nil || m.actErr != nil || m.active.IsZero() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), moveTimeout)
	defer cancel()
	return m.plan.Retire(ctx)
}

// discard wipes a plan that will not be activated.
func (m *move) discard() {
	m.mu.Lock()
	started := m.started
	m.mu.Unlock()
	if !started {
		return
	}
	go func() {
		<-m.ready
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.plan != nil {
			m.plan.Wipe()
		}
	}()
}

// report is the move's line in the control answer, e.g.
// "mn-move prepare-ms 20.1 ctaa-at-ns 1795... activated-at-ns 1795...
// activate-ms 0.6" (times in Unix ns, for the testbed).
func (m *move) report() string {
	<-m.ready
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "mn-move prepare-ms %.3f", float64(m.prepared.Microseconds())/1000)
	if !m.ctaaAt.IsZero() {
		fmt.Fprintf(&b, " ctaa-at-ns %d", m.ctaaAt.UnixNano())
	}
	if !m.active.IsZero() {
		fmt.Fprintf(&b, " activated-at-ns %d activate-ms %.3f", m.active.UnixNano(), float64(m.activate.Microseconds())/1000)
	}
	b.WriteString("\n")
	return b.String()
}

// moveErr is the move's failure, if any.
func (m *move) moveErr() error {
	<-m.ready
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return fmt.Errorf("MN move %v -> %v: prepare: %w", m.mv.OldCoA, m.mv.NewCoA, m.err)
	}
	if m.actErr != nil {
		return fmt.Errorf("MN move %v -> %v: activate: %w", m.mv.OldCoA, m.mv.NewCoA, m.actErr)
	}
	return nil
}

// MoveReport is what an attach answer says about the MN's move.
type MoveReport struct {
	PrepareMS, ActivateMS float64
	CTAAAt, ActivatedAt   time.Time // zero when absent
}

// ParseMoveReport reads the "mn-move ..." line of a control answer; ok is
// false when there is none.
func ParseMoveReport(out string) (r MoveReport, ok bool, err error) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "mn-move" {
			continue
		}
		if len(f)%2 != 1 {
			return r, true, fmt.Errorf("mn-move line %q: odd field count", line)
		}
		for i := 1; i+1 < len(f); i += 2 {
			var v float64
			var ns int64
			var perr error
			if strings.HasSuffix(f[i], "-ns") {
				ns, perr = strconv.ParseInt(f[i+1], 10, 64)
			} else {
				v, perr = strconv.ParseFloat(f[i+1], 64)
			}
			if perr != nil {
				return r, true, fmt.Errorf("mn-move line %q: %s: %w", line, f[i], perr)
			}
			switch f[i] {
			case "prepare-ms":
				r.PrepareMS = v
			case "activate-ms":
				r.ActivateMS = v
			case "ctaa-at-ns":
				r.CTAAAt = time.Unix(0, ns)
			case "activated-at-ns":
				r.ActivatedAt = time.Unix(0, ns)
			}
		}
		return r, true, nil
	}
	return r, false, nil
}
