package shm

import (
	"context"
	"errors"
	"os"
	"sync"
	"syscall"
	"testing"
)

// TestConcurrentOpen: many goroutines open the same new name at once; one
// creates it, the others wait for it and attach.
func TestConcurrentOpen(t *testing.T) {
	name := testName(t)
	var wg sync.WaitGroup
	segs := make([]*Segment, 8)
	errs := make([]error, 8)
	for i := range segs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			segs[i], errs[i] = Open(name, Role(i%2), &Options{Slots: 8, MaxData: 128})
		}()
	}
	wg.Wait()
	opened := [2]int{}
	for i, err := range errs {
		switch {
		case err == nil:
			opened[i%2]++
			if g := segs[i].Geometry(); g != (Geometry{Slots: 8, MaxData: 128}) {
				t.Errorf("geometry %+v", g)
			}
			defer segs[i].Close()
		case errors.Is(err, ErrRoleHeld):
		default:
			t.Errorf("open %d: %v", i, err)
		}
	}
	if opened != [2]int{1, 1} {
		t.Fatalf("opened per role %v, want one each", opened)
	}
}

// TestReadersNeverSeeTornSlots: writers in both roles churn through every
// state while readers inspect the table without pause; a reader must never
// report a slot corrupt (it retries when the control word moved).
func TestReadersNeverSeeTornSlots(t *testing.T) {
	name := testName(t)
	cx := mustOpen(t, name, RoleCXTP, &Options{Slots: 4, MaxData: 4096})
	cm := mustOpen(t, name, RoleContext, nil)
	const rounds = 400
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the context module
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			for id := SlotID(0); id < 4; id++ {
				req, err := cm.Accept(id)
				if err != nil {
					continue
				}
				if err := cm.Reply(id, StatusOK, payload(req.Tag, 0x5c, 4096)); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	var bad []string
	var mu sync.Mutex
	for r := 0; r < 1; r++ { // a reader
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				slots, err := cx.Slots()
				if err != nil {
					return
				}
				for _, s := range slots {
					if s.Err != nil || s.Rec != nil && !bytesEqualPayload(s) {
						mu.Lock()
						bad = append(bad, s.State.String())
						mu.Unlock()
					}
				}
			}
		}()
	}
	for tag, got := uint64(0), 0; got < rounds; {
		if _, err := cx.Post(Request{Op: OpCapture, Tag: tag, Data: payload(tag, 0x11, 4096)}); err == nil {
			tag++
		}
		for id := SlotID(0); id < 4; id++ {
			r, err := cx.Result(id)
			if err != nil {
				continue
			}
			if !bytesEqual(r.Data, payload(r.Tag, 0x5c, 4096)) {
				t.Fatalf("result %d damaged", r.Tag)
			}
			if err := cx.Release(id); err != nil {
				t.Fatal(err)
			}
			got++
		}
	}
	close(done)
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("readers saw %d torn or corrupt slots (states %v)", len(bad), bad[:min(len(bad), 10)])
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

func bytesEqualPayload(s SlotInfo) bool {
	salt := byte(0x11)
	if s.State == StateDone {
		salt = 0x5c
	}
	return bytesEqual(s.Rec.Data, payload(s.Rec.Tag, salt, 4096))
}

// TestLateSignalAfterClose: a wake-up signal that arrives after Close (the
// peer read the PID just before it was cleared) must not kill the process.
func TestLateSignalAfterClose(t *testing.T) {
	name := testName(t)
	cm, err := Open(name, RoleContext, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cm.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), RoleContext.WakeSignal()); err != nil {
		t.Fatal(err)
	}
	// Reopening still receives wake-ups.
	cm = mustOpen(t, name, RoleContext, &Options{Rescan: -1})
	cx := mustOpen(t, name, RoleCXTP, nil)
	ev, err := cm.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cx.Submit(Request{Op: OpDiscard}); err != nil {
		t.Fatal(err)
	}
	if e := next(t, ev); e.State != StateRequest {
		t.Fatalf("event %+v", e)
	}
}
