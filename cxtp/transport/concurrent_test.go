package transport

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestUDPConcurrentReaders: several goroutines may block in ReadFrom on
// one conn; every datagram goes to exactly one of them (run with -race).
func TestUDPConcurrentReaders(t *testing.T) {
	c, err := ListenUDP(netip.MustParseAddrPort("127.0.0.1:45191"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ListenUDP(netip.MustParseAddrPort("127.0.0.1:45192"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 50
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	got := map[byte]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				p, err := c.ReadFrom(ctx)
				if err != nil {
					return
				}
				mu.Lock()
				got[p.Data[0]]++
				done := len(got) == n
				mu.Unlock()
				if done {
					cancel()
				}
			}
		}()
	}
	for i := range n {
		if err := s.WriteTo([]byte{byte(i), 1, 2, 3}, c.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if len(got) != n {
		t.Fatalf("%d distinct datagrams of %d", len(got), n)
	}
	for k, v := range got {
		if v != 1 {
			t.Fatalf("datagram %d delivered %d times", k, v)
		}
	}
}

// TestUDPWildcardDualStack: a conn bound to the IPv6 wildcard talks to an
// IPv4 peer; addresses come out unmapped and go in plain.
func TestUDPWildcardDualStack(t *testing.T) {
	w, err := ListenUDP(netip.AddrPortFrom(netip.Addr{}, 45196))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	v4, err := ListenUDP(netip.MustParseAddrPort("127.0.0.1:45197"))
	if err != nil {
		t.Fatal(err)
	}
	defer v4.Close()
	if err := v4.WriteTo([]byte("ping"), netip.MustParseAddrPort("127.0.0.1:45196")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := w.ReadFrom(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.From != v4.LocalAddr() {
		t.Fatalf("from %v, want %v", p.From, v4.LocalAddr())
	}
	if err := w.WriteTo([]byte("pong"), p.From); err != nil {
		t.Fatal(err)
	}
	if p, err := v4.ReadFrom(ctx); err != nil || string(p.Data) != "pong" {
		t.Fatalf("%q %v", p.Data, err)
	}
}
