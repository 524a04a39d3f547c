package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestChannelProtection(t *testing.T) {
	self := netip.MustParseAddr("2001:db8:a::1")
	marked, unmarked := netip.MustParseAddr("2001:db8:a::2"), netip.MustParseAddr("2001:db8:a::3")
	c := &Config{Address: self, Port: 5091, Peers: []PeerConfig{
		{Address: marked, Transport: TransportSCTP, Port: 6000, Protected: true},
		{Address: unmarked, Transport: TransportUDP, Port: 5091},
	}}
	noPolicy := errors.New("no outbound policy selects the traffic")
	var calls int
	var got struct {
		local, peer  netip.Addr
		proto        uint8
		lport, pport uint16
	}
	answer := noPolicy
	check := func(_ context.Context, local, peer netip.Addr, proto uint8, lport, pport uint16) error {
		calls++
		got.local, got.peer, got.proto, got.lport, got.pport = local, peer, proto, lport, pport
		return answer
	}
	p := newChannelProtection(c, check, slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }

	if err := p.CheckProtected(unmarked); !errors.Is(err, errNotMarked) || !strings.Contains(err.Error(), unmarked.String()) || calls != 0 {
		t.Fatalf("unmarked peer: %v (%d checks)", err, calls)
	}
	err := p.CheckProtected(marked)
	if !errors.Is(err, noPolicy) || !strings.Contains(err.Error(), marked.String()) || p.Protected(marked) {
		t.Fatalf("marked peer without policy: %v", err)
	}
	if got.local != self || got.peer != marked || got.proto != 132 || got.lport != 5091 || got.pport != 6000 {
		t.Fatalf("checked flow %+v", got)
	}
	if calls != 1 {
		t.Fatalf("%d checks within the cache time, want 1", calls)
	}
	// A policy appears: seen once the cached answer is old.
	answer = nil
	now = now.Add(spdCacheFor)
	if err := p.CheckProtected(marked); err != nil || calls != 2 || !p.Protected(marked) {
		t.Fatalf("after the policy: %v (%d checks)", err, calls)
	}
	if err := p.CheckProtected(netip.MustParseAddr("2001:db8:a::9")); err == nil {
		t.Fatal("unknown peer accepted")
	}
	// Without a check (skip_spd_check, or not cmd/cxtpd) the flag is trusted.
	p2 := newChannelProtection(c, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !p2.Protected(marked) || p2.Protected(unmarked) {
		t.Fatal("flag not trusted without a check")
	}
}

// TestChannelProtectionRefresh: the refresher checks every marked peer in
// the background, so a transfer finds the answer cached.
func TestChannelProtectionRefresh(t *testing.T) {
	marked := netip.MustParseAddr("2001:db8:a::2")
	c := &Config{Address: netip.MustParseAddr("2001:db8:a::1"), Port: 5091, Peers: []PeerConfig{
		{Address: marked, Transport: TransportUDP, Port: 5091, Protected: true},
		{Address: netip.MustParseAddr("2001:db8:a::3"), Transport: TransportUDP, Port: 5091},
	}}
	checked := make(chan netip.Addr, 16)
	check := func(_ context.Context, _, peer netip.Addr, _ uint8, _, _ uint16) error {
		select {
		case checked <- peer:
		default:
		}
		return nil
	}
	p := newChannelProtection(c, check, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.refresh(ctx); close(done) }()
	if got := <-checked; got != marked {
		t.Fatalf("refresher checked %v, want only the marked peer %v", got, marked)
	}
	cancel()
	<-done
	n := len(checked)
	if err := p.CheckProtected(marked); err != nil || len(checked) != n {
		t.Fatalf("transfer after the refresh: %v, %d more checks", err, len(checked)-n)
	}
}
