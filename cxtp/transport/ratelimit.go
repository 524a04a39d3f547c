package transport

import (
	"net/netip"
	"sync"
	"time"

	"github.com/ikectx/ikectx/cxtp"
)

// RateLimiter enforces CT_REQUEST_RATE: at most Limit requests to one peer
// in any sliding Window (10 per second by default). It is pure logic with
// an injectable clock and safe for concurrent use.
type RateLimiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	peers map[netip.Addr]*sendRing
}

type sendRing struct {
	times []time.Time // circular, the last `limit` sends
	next  int
	n     int
}

// NewRateLimiter returns a limiter allowing limit sends per window per peer.
// limit <= 0 and window <= 0 select CT_REQUEST_RATE per second; now nil
// selects time.Now.
func NewRateLimiter(limit int, window time.Duration, now func() time.Time) *RateLimiter {
	if limit <= 0 {
		limit = cxtp.CTRequestRate
	}
	if window <= 0 {
		window = time.Second
	}
	if now == nil {
		now = time.Now
	}
	return &RateLimiter{limit: limit, window: window, now: now, peers: make(map[netip.Addr]*sendRing)}
}

// Allow reports whether a request may be sent to peer now and, if so,
// records it.
func (l *RateLimiter) Allow(peer netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	r := l.ring(peer)
	if r.n == l.limit && now.Sub(r.times[r.next]) < l.window {
		return false
	}
	r.times[r.next] = now
	r.next = (r.next + 1) % l.limit
	if r.n < l.limit {
		r.n++
	}
	return true
}

// Delay returns how long until a request to peer would be allowed (0 if
// now), without recording anything.
func (l *RateLimiter) Delay(peer netip.Addr) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.peers[peer.Unmap()]
	if !ok || r.n < l.limit {
		return 0
	}
	d := r.times[r.next].Add(l.window).Sub(l.now())
	if d < 0 {
		return 0
	}
	return d
}

// Prune forgets peers with no request within the window; call it now and
// then to bound memory.
func (l *RateLimiter) Prune() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for p, r := range l.peers {
		last := r.times[(r.next+l.limit-1)%l.limit]
		if now.Sub(last) >= l.window {
			delete(l.peers, p)
		}
	}
}

// Peers is the number of peers tracked.
func (l *RateLimiter) Peers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.peers)
}

func (l *RateLimiter) ring(peer netip.Addr) *sendRing {
	peer = peer.Unmap()
	r, ok := l.peers[peer]
	if !ok {
		r = &sendRing{times: make([]time.Time, l.limit)}
		l.peers[peer] = r
	}
	return r
}
