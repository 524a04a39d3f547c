package transport

import (
	"net/netip"
	"testing"
	"time"
)

func TestBackoffRFC(t *testing.T) {
	b := NewBackoff()
	want := []time.Duration{2, 4, 8, 15, 15, 15}
	for i, w := range want {
		d, ok := b.Next()
		if !ok || d != w*time.Second {
			t.Fatalf("retry %d: %v %v, want %v", i, d, ok, w*time.Second)
		}
	}
	if b.Attempts() != len(want) {
		t.Fatalf("attempts %d", b.Attempts())
	}
	b.Reset()
	if d, _ := b.Next(); d != 2*time.Second {
		t.Fatalf("after reset %v", d)
	}
}

func TestBackoffConfigured(t *testing.T) {
	b := &Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, MaxAttempts: 4}
	base := time.Unix(1000, 0)
	var got []time.Duration
	for {
		dl, ok := b.Deadline(base)
		if !ok {
			break
		}
		got = append(got, dl.Sub(base))
	}
	want := []time.Duration{10, 20, 40, 50}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("got %v", got)
		}
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock           { return &fakeClock{t: time.Unix(1_000_000, 0)} }
func mustAddr(s string) netip.Addr       { return netip.MustParseAddr(s) }
func countAllowed(l *RateLimiter, p netip.Addr, n int) (k int) {
	for range n {
		if l.Allow(p) {
			k++
		}
	}
	return k
}

func TestRateLimiterTenPerSecond(t *testing.T) {
	c := newFakeClock()
	l := NewRateLimiter(0, 0, c.now)
	a, b := mustAddr("2001:db8::1"), mustAddr("2001:db8::2")
	if k := countAllowed(l, a, 25); k != 10 {
		t.Fatalf("burst allowed %d, want 10", k)
	}
	// Another peer has its own budget.
	if k := countAllowed(l, b, 10); k != 10 {
		t.Fatalf("second peer allowed %d", k)
	}
	if d := l.Delay(a); d != time.Second {
		t.Fatalf("delay %v, want 1s", d)
	}
	c.add(999 * time.Millisecond)
	if l.Allow(a) {
		t.Fatal("allowed before the window slid")
	}
	c.add(time.Millisecond)
	// All 10 sends were at the same instant: exactly one second later
	// every slot is free again.
	if k := countAllowed(l, a, 12); k != 10 {
		t.Fatalf("after the window allowed %d, want 10", k)
	}
}

func TestRateLimiterSliding(t *testing.T) {
	c := newFakeClock()
	l := NewRateLimiter(10, time.Second, c.now)
	p := mustAddr("192.0.2.1")
	// One request every 100 ms is exactly the rate: always allowed.
	for i := range 50 {
		if !l.Allow(p) {
			t.Fatalf("request %d at the nominal rate refused", i)
		}
		c.add(100 * time.Millisecond)
	}
	// Every 50 ms: only half get through over a long run.
	k := 0
	for range 200 {
		if l.Allow(p) {
			k++
		}
		c.add(50 * time.Millisecond)
	}
	if k < 99 || k > 101 {
		t.Fatalf("allowed %d of 200 at twice the rate, want about 100", k)
	}
	// IPv4-mapped and plain IPv4 are the same peer.
	c.add(2 * time.Second)
	countAllowed(l, p, 10)
	if l.Allow(netip.AddrFrom16(p.As16())) {
		t.Fatal("mapped address has a separate budget")
	}
}

func TestRateLimiterPrune(t *testing.T) {
	c := newFakeClock()
	l := NewRateLimiter(2, time.Second, c.now)
	l.Allow(mustAddr("2001:db8::1"))
	c.add(500 * time.Millisecond)
	l.Allow(mustAddr("2001:db8::2"))
	c.add(600 * time.Millisecond)
	l.Prune()
	if l.Peers() != 1 {
		t.Fatalf("%d peers after prune, want 1", l.Peers())
	}
}
