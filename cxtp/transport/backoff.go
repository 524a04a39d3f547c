package transport

import (
	"time"

	"github.com/ikectx/ikectx/cxtp"
)

// Backoff is the CXTP retransmission schedule (RFC 4067 section 3.1):
// the first retry after CT_REQUEST_RETRY (2 s), each following interval
// doubled, never more than CT_RETRY_MAX (15 s). It is pure logic: the
// caller owns the timers. The zero value uses the RFC's constants.
type Backoff struct {
	// Initial is the first interval (default cxtp.CTRequestRetry).
	Initial time.Duration
	// Max caps the interval (default cxtp.CTRetryMax).
	Max time.Duration
	// MaxAttempts, if positive, is the number of retransmissions after
	// which Next reports done.
	MaxAttempts int

	attempts int
	cur      time.Duration
}

// NewBackoff returns a schedule with the RFC's constants.
func NewBackoff() *Backoff { return &Backoff{} }

// Next returns the wait before the next retransmission, or ok=false when
// MaxAttempts retransmissions have been handed out.
func (b *Backoff) Next() (d time.Duration, ok bool) {
	if b.MaxAttempts > 0 && b.attempts >= b.MaxAttempts {
		return 0, false
	}
	initial, max := b.Initial, b.Max
	if initial <= 0 {
		initial = cxtp.CTRequestRetry
	}
	if max <= 0 {
		max = cxtp.CTRetryMax
	}
	if max < initial {
		max = initial
	}
	if b.attempts == 0 {
		b.cur = initial
	} else if b.cur < max {
		b.cur *= 2
	}
	if b.cur > max {
		b.cur = max
	}
	b.attempts++
	return b.cur, true
}

// Attempts is the number of intervals handed out since the last Reset.
func (b *Backoff) Attempts() int { return b.attempts }

// Reset starts the schedule again (an answer arrived).
func (b *Backoff) Reset() { b.attempts, b.cur = 0, 0 }

// Deadline tells when a retransmission is due given the time of the last
// transmission: it advances the schedule and returns last + Next().
func (b *Backoff) Deadline(last time.Time) (time.Time, bool) {
	d, ok := b.Next()
	if !ok {
		return time.Time{}, false
	}
	return last.Add(d), true
}
