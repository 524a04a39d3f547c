//go:build linux || freebsd

package pfkey

import (
	"context"
	"iter"
)

// Listener receives the kernel's unsolicited messages: ACQUIRE (traffic
// hit a policy with no SA), EXPIRE (soft or hard lifetime reached) and
// X_SPDEXPIRE. It owns its socket, registered for the SA types it was
// opened with.
type Listener struct {
	c *Conn
	// All makes Next return every message the socket receives, not only
	// ACQUIRE, EXPIRE, X_SPDEXPIRE, X_SPDACQUIRE and X_NAT_T_NEW_MAPPING.
	All bool
	// Supported holds the kernel's REGISTER replies, one per SA type.
	Supported []*Message
}

// Listen opens a socket and registers it for the given SA types (ESP and
// AH if none are given).
func Listen(ctx context.Context, types ...SAType) (*Listener, error) {
	if len(types) == 0 {
		types = []SAType{SATypeESP, SATypeAH}
	}
	c, err := Open()
	if err != nil {
		return nil, err
	}
	l := &Listener{c: c}
	for _, t := range types {
		r, err := c.Register(ctx, t)
		if err != nil {
			c.Close()
			return nil, err
		}
		l.Supported = append(l.Supported, r)
	}
	return l, nil
}

// Conn returns the listener's socket (for Promisc, for example).
func (l *Listener) Conn() *Conn { return l.c }

// Close closes the socket.
func (l *Listener) Close() error { return l.c.Close() }

func isEvent(t MsgType) bool {
	switch t {
	case MsgAcquire, MsgExpire, MsgXSPDExpire, MsgXSPDAcquire, MsgXNATTNewMapping:
		return true
	}
	return false
}

// Next waits for the next event (or any message, with All) until ctx
// ends. Without a deadline in ctx it waits indefinitely.
func (l *Listener) Next(ctx context.Context) (*Message, error) {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	stop := c.watchForever(ctx)
	defer stop()
	for {
		m, err := c.receive(ctx)
		if err != nil {
			if skippable(err, nil, false) && !l.All {
				continue
			}
			return nil, err
		}
		if l.All || (isEvent(m.Type) && m.Errno == 0) {
			return m, nil
		}
		m.Wipe()
	}
}

// Messages iterates over events until ctx ends or an error occurs.
func (l *Listener) Messages(ctx context.Context) iter.Seq2[*Message, error] {
	return func(yield func(*Message, error) bool) {
		for {
			m, err := l.Next(ctx)
			if !yield(m, err) || err != nil {
				return
			}
		}
	}
}
