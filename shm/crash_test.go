package shm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func readImage(t *testing.T, name string) *Image {
	t.Helper()
	b, err := ReadObject(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	im, err := ParseImage(b)
	if err != nil {
		t.Fatalf("table unreadable: %v", err)
	}
	for _, s := range im.Corrupt() {
		t.Errorf("corrupt slot: %v", s.Err)
	}
	return im
}

// TestCrashContextModule: the parent is the CXTP module and keeps the table
// full of big requests; a real child process performs them, answering with
// big results. The child is killed with SIGKILL while it works, and
// restarted: in even rounds at an arbitrary point, in odd rounds in the
// middle of writing a result (a test hook scribbles over half of the
// uncommitted copy and stops there). Every request must get exactly one
// intact result, the table must stay valid at every kill, and the slots
// left WORKING must be rolled back to their request: by the restarted
// module in even rounds, by the surviving CXTP module's scan in odd ones.
func TestCrashContextModule(t *testing.T) {
	const (
		slots  = 16
		total  = 800
		rounds = 6
		tearAt = 30
	)
	name := testName(t)
	cx := mustOpen(t, name, RoleCXTP, &Options{Slots: slots, MaxData: DefaultMaxData, Rescan: -1})
	max := cx.Geometry().MaxData
	ev, err := cx.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	nextTag := uint64(0)
	post := func() {
		for nextTag < total {
			_, err := cx.Submit(Request{Op: OpCapture, FPT: 0xfff2, Tag: nextTag, Data: payload(nextTag, 0x11, max)})
			if err != nil {
				return // full
			}
			nextTag++
		}
	}
	results := map[uint64]int{}
	handle := func(e Event) {
		if e.Err != nil {
			t.Fatal(e.Err)
		}
		r := e.Rec
		if !bytes.Equal(r.Data, payload(r.Tag, 0x5c, max)) || r.Status != StatusOK || r.Op != OpCapture || r.FPT != 0xfff2 {
			t.Fatalf("slot %d: result for tag %d is wrong (%d bytes, status %v)", e.Slot, r.Tag, len(r.Data), r.Status)
		}
		results[r.Tag]++
		if results[r.Tag] > 1 {
			t.Fatalf("tag %d answered twice", r.Tag)
		}
		if err := cx.Release(e.Slot); err != nil {
			t.Fatal(err)
		}
	}
	receive := func() { handle(next(t, ev)) }
	// Slots found WORKING after a kill, and slots rolled back by the
	// restarted children (the CXTP module's own count is in its Stats).
	foundWorking, childRecovered, midWrite, arbitrary := 0, 0, 0, 0
	for round := 0; round <= rounds; round++ {
		tear := round%2 == 1 && round < rounds
		var env []string
		if tear {
			env = append(env, fmt.Sprintf("SHM_TEST_TEAR=%d", tearAt))
		}
		c := startChild(t, "worker", name, env...)
		var pid, recovered int
		if _, err := fmt.Sscanf(c.line(t), "ready %d %d", &pid, &recovered); err != nil {
			t.Fatal(err)
		}
		childRecovered += recovered
		post()
		if round == rounds {
			for len(results) < total {
				receive()
				post()
			}
			break
		}
		recoveredBefore := cx.Stats().Recovered
		if tear {
			// Keep serving results until the child says it is tearing.
			for tearing := false; !tearing; {
				select {
				case e := <-ev:
					handle(e)
					post()
				case l := <-c.lines:
					if l != "T 0 tearing" {
						t.Fatalf("child said %q", l)
					}
					tearing = true
				case <-time.After(60 * time.Second):
					t.Fatal("child never reached its torn write")
				}
			}
		} else {
			for n := 0; n < 120; n++ {
				receive()
				post()
			}
		}
		c.kill(t) // while it works: the table is kept full
		im := readImage(t, name)
		working := 0
		for _, s := range im.Slots {
			switch s.State {
			case StateWorking:
				working++
				if s.Owner != uint32(c.pid) {
					t.Errorf("slot %d WORKING for PID %d, the dead child was %d", s.ID, s.Owner, c.pid)
				}
				fallthrough
			case StateRequest:
				if !bytes.Equal(s.Rec.Data, payload(s.Rec.Tag, 0x11, max)) {
					t.Errorf("slot %d: request %d damaged", s.ID, s.Rec.Tag)
				}
			case StateDone:
				if !bytes.Equal(s.Rec.Data, payload(s.Rec.Tag, 0x5c, max)) {
					t.Errorf("slot %d: result %d damaged", s.ID, s.Rec.Tag)
				}
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		// The CXTP module's receiver may already have rolled slots back
		// (a pending signal makes it scan): count those too.
		recoveredByCXTP := int(cx.Stats().Recovered - recoveredBefore)
		foundWorking += working + recoveredByCXTP
		if tear {
			midWrite++
			if working+recoveredByCXTP != 1 {
				t.Fatalf("killed mid-write: %d slots WORKING and %d rolled back, want 1 in all", working, recoveredByCXTP)
			}
			// The survivor notices the dead peer on its next scan.
			syscall.Kill(os.Getpid(), RoleCXTP.WakeSignal())
			waitFor(t, func() bool { return cx.Stats().Recovered == recoveredBefore+1 })
		} else if working+recoveredByCXTP > 0 {
			arbitrary++
		}
	}
	for tag := uint64(0); tag < total; tag++ {
		if results[tag] != 1 {
			t.Fatalf("tag %d answered %d times", tag, results[tag])
		}
	}
	im := readImage(t, name)
	for _, s := range im.Slots {
		if s.State != StateFree {
			t.Errorf("slot %d left %s", s.ID, s.State)
		}
	}
	if total := childRecovered + int(cx.Stats().Recovered); total != foundWorking {
		t.Errorf("%d slots rolled back (%d by restarted modules), %d were left WORKING", total, childRecovered, foundWorking)
	}
	if im.Header.Epoch[RoleContext] != rounds+1 {
		t.Errorf("context module epoch %d, want %d", im.Header.Epoch[RoleContext], rounds+1)
	}
	t.Logf("%d kills: %d mid-write (torn copy, rolled back by the CXTP module), %d of the others found a slot WORKING", rounds, midWrite, arbitrary)
}

// waitFor polls cond; the long deadline only keeps a broken test from
// hanging.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition never became true")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCrashCXTPModule: a real child CXTP module writes big requests
// without pause (posting, and cancelling when the table is full) and is
// killed with SIGKILL at arbitrary points. After each kill the table must
// be valid, every request the child reported posted (and not cancelled)
// must be there intact, and the restarted child must free exactly the
// slots its predecessor left half-written.
func TestCrashCXTPModule(t *testing.T) {
	const rounds = 6
	name := testName(t)
	opts := []string{"SHM_TEST_SLOTS=16", fmt.Sprintf("SHM_TEST_MAXDATA=%d", DefaultMaxData)}
	posted, cancelled := map[uint64]bool{}, map[uint64]bool{}
	consume := func(l string) {
		f := strings.Fields(l)
		if len(f) < 2 {
			t.Fatalf("child said %q", l)
		}
		tag, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			t.Fatalf("child said %q", l)
		}
		switch f[0] {
		case "P":
			posted[tag] = true
		case "C":
			cancelled[tag] = true
		case "T":
		default:
			t.Fatalf("child said %q", l)
		}
	}
	leftWriting := 0
	writingKills := 0
	for round := 0; round <= rounds; round++ {
		env := append(opts, fmt.Sprintf("SHM_TEST_TAG=%d", round*1_000_000))
		tear := round%2 == 1 && round < rounds
		if round == rounds {
			env = append(env, "SHM_TEST_RECOVERONLY=1")
		}
		if tear {
			env = append(env, "SHM_TEST_TEAR=200")
		}
		c := startChild(t, "poster", name, env...)
		var pid, recovered int
		if _, err := fmt.Sscanf(c.line(t), "ready %d %d", &pid, &recovered); err != nil {
			t.Fatal(err)
		}
		if recovered != leftWriting {
			t.Errorf("round %d: restarted module recovered %d slots, %d were left WRITING", round, recovered, leftWriting)
		}
		if round == rounds {
			c.cmd.Wait()
		} else {
			for n := 0; ; {
				l := c.line(t)
				consume(l)
				if l[0] == 'T' {
					break
				}
				if l[0] == 'P' {
					if n++; !tear && n == 300 {
						break
					}
				}
			}
			c.kill(t) // mid-stream: the child never stops writing
			for l := range c.lines {
				consume(l)
			}
		}
		im := readImage(t, name)
		inTable := map[uint64]bool{}
		leftWriting = 0
		for _, s := range im.Slots {
			switch s.State {
			case StateWriting:
				leftWriting++
			case StateRequest:
				inTable[s.Rec.Tag] = true
				if !bytes.Equal(s.Rec.Data, payload(s.Rec.Tag, 0xa3, DefaultMaxData)) {
					t.Errorf("slot %d: request %d damaged", s.ID, s.Rec.Tag)
				}
			case StateFree:
			default:
				t.Errorf("slot %d in state %s", s.ID, s.State)
			}
		}
		if leftWriting > 1 {
			t.Errorf("%d slots WRITING: a single writer can leave one", leftWriting)
		}
		if leftWriting > 0 {
			writingKills++
		}
		if tear && leftWriting != 1 {
			t.Errorf("round %d: killed while tearing a copy, %d slots WRITING", round, leftWriting)
		}
		for tag := range posted {
			if !cancelled[tag] && !inTable[tag] {
				t.Errorf("round %d: committed request %d lost", round, tag)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		if round == rounds && leftWriting != 0 {
			t.Fatalf("after recovery %d slots still WRITING", leftWriting)
		}
	}
	t.Logf("%d kills, %d of them mid-write; %d requests posted, %d cancelled", rounds, writingKills, len(posted), len(cancelled))
}

// TestCoalescedSignals: the CXTP module posts many requests and sends one
// signal; the context module (a real process, rescan disabled) performs
// all of them after that single wake-up, and its many answers, whose
// signals the kernel coalesces, all reach the CXTP module (rescan disabled
// too).
func TestCoalescedSignals(t *testing.T) {
	const n = 200
	name := testName(t)
	cx := mustOpen(t, name, RoleCXTP, &Options{Slots: 256, MaxData: 512, Rescan: -1})
	ev, err := cx.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "worker", name, "SHM_TEST_NORESCAN=1", fmt.Sprintf("SHM_TEST_COUNT=%d", n))
	if l := c.line(t); !strings.HasPrefix(l, "ready") {
		t.Fatalf("child said %q", l)
	}
	for tag := uint64(0); tag < n; tag++ {
		if _, err := cx.Post(Request{Op: OpCapture, Tag: tag, Data: payload(tag, 0x11, 512)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cx.Wake(); err != nil {
		t.Fatal(err)
	}
	got := map[uint64]bool{}
	for len(got) < n {
		e := next(t, ev)
		if e.Err != nil || !bytes.Equal(e.Rec.Data, payload(e.Rec.Tag, 0x5c, 512)) || got[e.Rec.Tag] {
			t.Fatalf("event %+v", e)
		}
		got[e.Rec.Tag] = true
		if err := cx.Release(e.Slot); err != nil {
			t.Fatal(err)
		}
	}
	var sig, scans, events int
	if _, err := fmt.Sscanf(c.line(t), "stats %d %d %d", &sig, &scans, &events); err != nil {
		t.Fatal(err)
	}
	// The child's initial scan had finished before the posts (it says
	// ready after it), and nobody else sends it SIGUSR1.
	if sig != 1 || events != n {
		t.Fatalf("context module: %d signals, %d events; want 1 and %d", sig, events, n)
	}
	st := cx.Stats()
	if st.Rescans != 0 || st.Events != n {
		t.Fatalf("CXTP module stats %+v", st)
	}
	t.Logf("context module: 1 signal, %d scans, %d requests; CXTP module: %d signals for %d results, %d scans", scans, events, st.Signals, n, st.Scans)
}
