package shm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"
)

// testName returns a segment name unique to this test run and removes the
// object when the test ends.
func testName(t testing.TB) string {
	n := fmt.Sprintf("/ikectx-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	t.Cleanup(func() { Unlink(n, nil) })
	return n
}

func mustOpen(t testing.TB, name string, r Role, o *Options) *Segment {
	t.Helper()
	s, err := Open(name, r, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// next waits for one event; the deadline only keeps a broken test from
// hanging, it asserts nothing about timing.
func next(t testing.TB, ch <-chan Event) Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("event channel closed")
		}
		return ev
	case <-time.After(30 * time.Second):
		t.Fatal("no event")
	}
	return Event{}
}

// TestFigure3Flow runs the paper's flows in one process, each module with
// its own Segment: CAPTURE on the pAR, PREINSTALL and ACTIVATE on the nAR.
func TestFigure3Flow(t *testing.T) {
	name := testName(t)
	cx := mustOpen(t, name, RoleCXTP, &Options{Slots: 4})
	cm := mustOpen(t, name, RoleContext, nil)
	if cx.Geometry() != (Geometry{Slots: 4, MaxData: DefaultMaxData}) || cm.Geometry() != cx.Geometry() {
		t.Fatalf("geometry %+v / %+v", cx.Geometry(), cm.Geometry())
	}
	if cx.PeerPID() != os.Getpid() || cm.PeerPID() != os.Getpid() {
		t.Fatalf("peer PIDs %d %d", cx.PeerPID(), cm.PeerPID())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cxEv, err := cx.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cx.Events(ctx); err == nil {
		t.Fatal("second receiver accepted")
	}
	cmEv, err := cm.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mn := netip.MustParseAddr("2001:db8:1::10")
	context := bytes.Repeat([]byte("SA"), 300)
	for i, op := range []Op{OpCapture, OpPreinstall, OpActivate, OpDiscard} {
		var data []byte
		if op == OpPreinstall {
			data = context
		}
		id, err := cx.Submit(Request{Op: op, FPT: 0xff01, MN: mn, Tag: uint64(i), Data: data})
		if err != nil {
			t.Fatal(err)
		}
		ev := next(t, cmEv)
		if ev.Err != nil || ev.Slot != id || ev.State != StateRequest || ev.Rec.Op != op || ev.Rec.Tag != uint64(i) || !bytes.Equal(ev.Rec.Data, data) {
			t.Fatalf("context module got %+v (rec %+v)", ev, ev.Rec)
		}
		req, err := cm.Accept(ev.Slot)
		if err != nil || !recordEqual(req, *ev.Rec) {
			t.Fatalf("accept: %+v %v", req, err)
		}
		if si, _ := cm.Slot(id); si.State != StateWorking || si.Rec == nil || si.Err != nil {
			t.Fatalf("after accept: %+v", si)
		}
		if err := cx.Release(id); !errors.Is(err, ErrState) {
			t.Fatalf("release while WORKING: %v", err)
		}
		var result []byte
		if op == OpCapture {
			result = context
		}
		if err := cm.Complete(id, Status(i), result); err != nil {
			t.Fatal(err)
		}
		ev = next(t, cxEv)
		if ev.Err != nil || ev.Slot != id || ev.State != StateDone {
			t.Fatalf("CXTP module got %+v", ev)
		}
		res, err := cx.Result(id)
		if err != nil {
			t.Fatal(err)
		}
		want := Record{Seq: res.Seq, Op: op, FPT: 0xff01, MN: mn, Status: Status(i), Tag: uint64(i), Data: result}
		if !recordEqual(res, want) || !recordEqual(*ev.Rec, res) {
			t.Fatalf("result %+v, want %+v", res, want)
		}
		if err := cx.Release(id); err != nil {
			t.Fatal(err)
		}
		if si, _ := cx.Slot(id); si.State != StateFree {
			t.Fatalf("after release: %+v", si)
		}
	}
	h, err := cx.Header()
	if err != nil {
		t.Fatal(err)
	}
	if h.Bell != [2]uint64{4, 4} || h.Epoch != [2]uint32{1, 1} {
		t.Fatalf("header %+v", h)
	}
}

func TestRulesAndErrors(t *testing.T) {
	name := testName(t)
	cx := mustOpen(t, name, RoleCXTP, &Options{Slots: 2, MaxData: 8})
	cm := mustOpen(t, name, RoleContext, nil)
	if _, err := Open(name, RoleCXTP, nil); !errors.Is(err, ErrRoleHeld) {
		t.Fatalf("second CXTP module: %v", err)
	}
	if _, err := Open(name, RoleContext, &Options{Slots: 3}); !errors.Is(err, ErrGeometry) && !errors.Is(err, ErrRoleHeld) {
		t.Fatalf("geometry mismatch: %v", err)
	}
	if _, err := Open("/a/b", RoleCXTP, nil); err == nil {
		t.Fatal("name with a slash accepted")
	}
	if _, err := Open(name, Role(7), nil); err == nil {
		t.Fatal("bad role accepted")
	}
	if _, err := cm.Post(Request{Op: OpCapture}); !errors.Is(err, ErrWrongRole) {
		t.Fatalf("post by the context module: %v", err)
	}
	if _, err := cx.Post(Request{Op: 0}); err == nil {
		t.Fatal("operation 0 accepted")
	}
	if _, err := cx.Post(Request{Op: 1, Data: make([]byte, 9)}); err == nil {
		t.Fatal("oversized data accepted")
	}
	a, err := cx.Post(Request{Op: OpCapture, Tag: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cx.Post(Request{Op: OpCapture, Tag: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := cx.Post(Request{Op: OpCapture, Tag: 3}); !errors.Is(err, ErrFull) {
		t.Fatalf("third post into 2 slots: %v", err)
	}
	if _, err := cx.Accept(a); !errors.Is(err, ErrWrongRole) {
		t.Fatalf("accept by the CXTP module: %v", err)
	}
	if err := cm.Reply(a, StatusOK, nil); !errors.Is(err, ErrState) {
		t.Fatalf("reply before accept: %v", err)
	}
	if _, err := cx.Result(a); !errors.Is(err, ErrState) {
		t.Fatalf("result of a REQUEST: %v", err)
	}
	if _, err := cm.Accept(5); err == nil {
		t.Fatal("slot out of range accepted")
	}
	// Cancel an unanswered request; the slot is usable again.
	if err := cx.Release(a); err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Accept(a); !errors.Is(err, ErrState) {
		t.Fatalf("accept of a cancelled request: %v", err)
	}
	if _, err := cx.Post(Request{Op: OpCapture, Tag: 4}); err != nil {
		t.Fatal(err)
	}
	if err := cm.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cm.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
	if _, err := cm.Accept(0); !errors.Is(err, ErrClosed) {
		t.Fatalf("accept after close: %v", err)
	}
	if cx.PeerPID() != 0 {
		t.Fatalf("closed module still registered: %d", cx.PeerPID())
	}
	// The role is free again; requests posted meanwhile are still there.
	cm2 := mustOpen(t, name, RoleContext, nil)
	n := 0
	slots, _ := cm2.Slots()
	for _, s := range slots {
		if s.State == StateRequest && s.Err == nil {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d requests after the context module restarted, want 2", n)
	}
}

// TestCorruptSlotInSegment flips a data byte of a committed request in the
// live mapping: the receiver reports the slot once as corrupt, Accept
// refuses to trust it, and the CXTP module can still clear it.
func TestCorruptSlotInSegment(t *testing.T) {
	name := testName(t)
	cx := mustOpen(t, name, RoleCXTP, &Options{Slots: 2, MaxData: 64})
	cm := mustOpen(t, name, RoleContext, &Options{Rescan: time.Millisecond})
	id, err := cx.Post(Request{Op: OpPreinstall, Data: []byte("context")})
	if err != nil {
		t.Fatal(err)
	}
	c, _, _ := cx.loadCtl(id)
	cx.record(id, c.copy)[rData] ^= 0xff
	ch, err := cm.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ev := next(t, ch)
	if !errors.Is(ev.Err, ErrCorrupt) || ev.Rec != nil || ev.Slot != id {
		t.Fatalf("event %+v", ev)
	}
	t.Log(ev.Err)
	cxEv, err := cx.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Accept answers a corrupt request itself, and wakes the CXTP module.
	if _, err := cm.Accept(id); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("accept: %v", err)
	}
	if ev := next(t, cxEv); ev.Slot != id || ev.State != StateDone || ev.Err != nil || ev.Rec.Status != StatusCorrupt {
		t.Fatalf("CXTP module got %+v", ev)
	}
	res, err := cx.Result(id)
	if err != nil || res.Status != StatusCorrupt || res.Op != OpPreinstall {
		t.Fatalf("result %+v %v", res, err)
	}
	// A control word nobody can interpret is released too.
	cx.ctlAt(id).Store(0xff)
	if si, _ := cx.Slot(id); si.Err == nil {
		t.Fatal("bad control word not reported")
	}
	if err := cx.Release(id); err != nil {
		t.Fatal(err)
	}
	if si, _ := cx.Slot(id); si.State != StateFree || si.Err != nil {
		t.Fatalf("after release: %+v", si)
	}
}
