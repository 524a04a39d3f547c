package shm

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkRoundTrip: one request through the whole slot protocol in one
// process: Post (write, checksum, publish), Accept (claim, read, verify),
// Reply (write the result, publish), Result (read, verify), Release.
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{64, 1024, 8192} {
		b.Run(fmt.Sprintf("data=%d", size), func(b *testing.B) {
			name := testName(b)
			cx := mustOpen(b, name, RoleCXTP, &Options{Slots: 4, MaxData: DefaultMaxData})
			cm := mustOpen(b, name, RoleContext, nil)
			req := make([]byte, size)
			res := make([]byte, size)
			b.SetBytes(int64(2 * size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id, err := cx.Post(Request{Op: OpCapture, Tag: uint64(i), Data: req})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := cm.Accept(id); err != nil {
					b.Fatal(err)
				}
				if err := cm.Reply(id, StatusOK, res); err != nil {
					b.Fatal(err)
				}
				if _, err := cx.Result(id); err != nil {
					b.Fatal(err)
				}
				if err := cx.Release(id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignalWakeup: the CXTP module (this process) submits a request
// and waits for the result from a context module in another process that
// answers at once. Both sides have the periodic rescan disabled, so each
// round trip is two signal-to-wakeup latencies; wakeup-ns is half a round
// trip.
func BenchmarkSignalWakeup(b *testing.B) {
	name := testName(b)
	cx := mustOpen(b, name, RoleCXTP, &Options{Slots: 4, MaxData: 256, Rescan: -1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev, err := cx.Events(ctx)
	if err != nil {
		b.Fatal(err)
	}
	c := startChild(b, "echo", name, "SHM_TEST_NORESCAN=1")
	if l := c.line(b); !strings.HasPrefix(l, "ready") {
		b.Fatalf("child said %q", l)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := cx.Submit(Request{Op: OpActivate, Tag: uint64(i)}); err != nil {
			b.Fatal(err)
		}
		e := next(b, ev)
		if e.Err != nil {
			b.Fatal(e.Err)
		}
		if err := cx.Release(e.Slot); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(2*b.N), "wakeup-ns")
}
