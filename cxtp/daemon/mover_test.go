package daemon

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeMover records the calls of the moves it prepares.
type fakeMover struct {
	mu      sync.Mutex
	calls   []string
	gate    chan struct{} // Prepare waits on it when set
	prepErr error
	actErr  error
}

func (f *fakeMover) rec(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeMover) Prepare(ctx context.Context, mv MNMove) (MovePlan, error) {
	if f.gate != nil {
		<-f.gate
	}
	f.rec("prepare " + mv.NewCoA.String())
	if f.prepErr != nil {
		return nil, f.prepErr
	}
	return fakePlan{f}, nil
}

type fakePlan struct{ f *fakeMover }

func (p fakePlan) Activate(context.Context) error { p.f.rec("activate"); return p.f.actErr }
func (p fakePlan) Retire(context.Context) error   { p.f.rec("retire"); return nil }
func (p fakePlan) Wipe()                          { p.f.rec("wipe") }

var testMove = MNMove{OldCoA: netip.MustParseAddr("2001:db8:1::100"), NewCoA: netip.MustParseAddr("2001:db8:2::100"),
	OldAR: netip.MustParseAddr("2001:db8:1::1"), NewAR: netip.MustParseAddr("2001:db8:2::1")}

// TestMoveReactiveOrder: the CTAA may come before the preparation (started
// after the CTAR) ends: the activation waits for it, then the answer
// reports both, and the old entries go after.
func TestMoveReactiveOrder(t *testing.T) {
	f := &fakeMover{gate: make(chan struct{})}
	m := newMove(testMove)
	m.start(f)
	ctaa := time.Now()
	done := make(chan struct{})
	go func() { m.activateOn(ctaa); close(done) }()
	select {
	case <-done:
		t.Fatal("activated before the preparation ended")
	case <-time.After(20 * time.Millisecond):
	}
	close(f.gate)
	<-done
	rep, ok, err := ParseMoveReport("ctaa from x attempts 1\n" + m.report())
	if !ok || err != nil || !rep.CTAAAt.Equal(ctaa) || rep.ActivatedAt.Before(ctaa) || rep.ActivateMS < 0 {
		t.Fatalf("%+v %v %v (%q)", rep, ok, err, m.report())
	}
	if err := m.moveErr(); err != nil {
		t.Fatal(err)
	}
	if err := m.retire(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"prepare 2001:db8:2::100", "activate", "retire", "wipe"}; !slices.Equal(f.calls, want) {
		t.Fatal(f.calls, "want", want)
	}
}

// TestMoveFailures: a failed preparation is never activated nor retired,
// and the error names the move; a move never started is discarded
// without waiting.
func TestMoveFailures(t *testing.T) {
	f := &fakeMover{prepErr: errors.New("boom")}
	m := newMove(testMove)
	m.start(f)
	m.activateOn(time.Now())
	if err := m.moveErr(); err == nil || !strings.Contains(err.Error(), "2001:db8:1::100 -> 2001:db8:2::100: prepare: boom") {
		t.Fatal(err)
	}
	if rep, ok, _ := ParseMoveReport(m.report()); !ok || !rep.ActivatedAt.IsZero() {
		t.Fatal(rep)
	}
	m.retire()
	if want := []string{"prepare 2001:db8:2::100"}; !slices.Equal(f.calls, want) {
		t.Fatal(f.calls)
	}
	f = &fakeMover{actErr: errors.New("nope")}
	m = newMove(testMove)
	m.start(f)
	m.activateOn(time.Now())
	if err := m.moveErr(); err == nil || !strings.Contains(err.Error(), "activate: nope") {
		t.Fatal(err)
	}
	m.retire() // not retired after a failed activation: only wiped
	if want := []string{"prepare 2001:db8:2::100", "activate", "wipe"}; !slices.Equal(f.calls, want) {
		t.Fatal(f.calls)
	}
	newMove(testMove).discard() // never started: returns at once
}

func TestParseMoveReport(t *testing.T) {
	if _, ok, err := ParseMoveReport("ctaa from x\n"); ok || err != nil {
		t.Fatal(ok, err)
	}
	for _, bad := range []string{"mn-move prepare-ms", "mn-move prepare-ms x", "mn-move ctaa-at-ns 1.5"} {
		if _, ok, err := ParseMoveReport(bad); !ok || err == nil {
			t.Errorf("%q: %v %v", bad, ok, err)
		}
	}
	r, ok, err := ParseMoveReport("mn-move prepare-ms 20.125 ctaa-at-ns 1795784595477076001 activated-at-ns 1795784595477976001 activate-ms 0.9\n")
	if !ok || err != nil || r.PrepareMS != 20.125 || r.ActivateMS != 0.9 || r.CTAAAt.UnixNano() != 1795784595477076001 || r.ActivatedAt.Sub(r.CTAAAt) != 900*time.Microsecond {
		t.Fatalf("%+v %v %v", r, ok, err)
	}
}
