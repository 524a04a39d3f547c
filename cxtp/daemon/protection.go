package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// ChannelCheck verifies that IPsec actually protects the AR-AR traffic of
// one peer: outbound packets from local:localPort to peer:peerPort with IP
// protocol proto (132 SCTP, 17 UDP) must leave only under ESP. It returns
// nil when they do, else why not.
type ChannelCheck func(ctx context.Context, local, peer netip.Addr, proto uint8, localPort, peerPort uint16) error

// CheckChannel, when set, is consulted before key material goes to a peer
// marked protected = true, so the flag is checked against the kernel
// instead of being taken on trust. cmd/cxtpd sets it to a PF_KEY SPD check
// (package cxtp never imports pfkey); [security] skip_spd_check turns it
// off. Nil means the flag is trusted.
var CheckChannel ChannelCheck

// errNotMarked is why a peer without protected = true is unprotected.
var errNotMarked = errors.New("not marked protected = true in the configuration")

// spdCacheFor is how long one check's answer is reused: the engine asks
// on every transfer, with its lock held. refresh re-checks every marked
// peer each spdRefreshEvery, so a transfer finds a fresh answer and never
// waits for an SPD dump (a reactive transfer is on the MN's critical
// path). A policy removed is seen within spdRefreshEvery.
const (
	spdCacheFor     = 10 * time.Second
	spdRefreshEvery = 5 * time.Second
)

// channelProtection is the engine's Protection (a ProtectionChecker): a
// peer is protected when its config says so and, if a check is set, the
// kernel's policies agree.
type channelProtection struct {
	peers     map[netip.Addr]PeerConfig
	local     netip.Addr
	localPort uint16
	check     ChannelCheck
	now       func() time.Time
	log       *slog.Logger

	mu    sync.Mutex
	cache map[netip.Addr]spdAnswer
}

type spdAnswer struct {
	at  time.Time
	err error
}

func newChannelProtection(c *Config, check ChannelCheck, log *slog.Logger) *channelProtection {
	p := &channelProtection{peers: map[netip.Addr]PeerConfig{}, local: c.Address, localPort: uint16(c.Port),
		check: check, now: time.Now, log: log, cache: map[netip.Addr]spdAnswer{}}
	for _, pc := range c.Peers {
		p.peers[pc.Address] = pc
	}
	return p
}

// refresh checks every marked peer now and then every spdRefreshEvery
// until ctx is done.
func (p *channelProtection) refresh(ctx context.Context) {
	if p.check == nil {
		return
	}
	t := time.NewTicker(spdRefreshEvery)
	defer t.Stop()
	for {
		for peer, pc := range p.peers {
			if pc.Protected {
				p.checkNow(peer, pc)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Protected implements engine.Protection.
func (p *channelProtection) Protected(peer netip.Addr) bool { return p.CheckProtected(peer) == nil }

// CheckProtected implements engine.ProtectionChecker: the error names the
// peer and says what is missing.
func (p *channelProtection) CheckProtected(peer netip.Addr) error {
	pc, ok := p.peers[peer]
	if !ok {
		return fmt.Errorf("peer %s: not a configured peer", peer)
	}
	if !pc.Protected {
		return fmt.Errorf("peer %s: %w", peer, errNotMarked)
	}
	if p.check == nil {
		return nil
	}
	p.mu.Lock()
	now := p.now()
	if a, ok := p.cache[peer]; ok && now.Sub(a.at) < spdCacheFor && !now.Before(a.at) {
		p.mu.Unlock()
		return a.err
	}
	p.mu.Unlock()
	return p.checkNow(peer, pc)
}

// checkNow runs the check for one marked peer and caches the answer.
func (p *channelProtection) checkNow(peer netip.Addr, pc PeerConfig) error {
	now := p.now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := p.check(ctx, p.local, peer, transportProto(pc.Transport), p.localPort, uint16(pc.Port))
	if err != nil {
		err = fmt.Errorf("peer %s is marked protected = true but its %s traffic is not covered by IPsec: %w", peer, pc.Transport, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, seen := p.cache[peer]; !seen || (old.err == nil) != (err == nil) {
		if err != nil {
			p.log.Error("cxtp: AR-AR channel not protected: no key material will be sent", "peer", peer, "err", err)
		} else {
			p.log.Info("cxtp: AR-AR channel protected by IPsec", "peer", peer, "transport", pc.Transport)
		}
	}
	p.cache[peer] = spdAnswer{at: now, err: err}
	return err
}

// transportProto is the IP protocol number of an AR-AR transport.
func transportProto(t Transport) uint8 {
	if t == TransportUDP {
		return 17
	}
	return 132
}
