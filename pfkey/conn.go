//go:build linux || freebsd

package pfkey

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// seqCounter gives every request of the process a distinct sequence
// number, so that Conns of one process (same pid) never take each other's
// replies.
var seqCounter atomic.Uint32

// NextSeq returns a fresh sequence number.
func NextSeq() uint32 {
	for {
		if s := seqCounter.Add(1); s != 0 {
			return s
		}
	}
}

// DefaultTimeout bounds requests whose context has no deadline.
const DefaultTimeout = 10 * time.Second

// Conn is a PF_KEYv2 socket. Its request methods are safe for concurrent
// use; they run one at a time.
type Conn struct {
	d   *Dialect
	f   *os.File
	rc  syscall.RawConn
	pid uint32

	mu  sync.Mutex // serializes requests and the receive buffer
	buf []byte
	out []byte
}

// Open opens a key socket of the running system.
func Open() (*Conn, error) {
	fd, err := socket()
	if err != nil {
		return nil, fmt.Errorf("pfkey: socket(PF_KEY, SOCK_RAW, PF_KEY_V2): %w", err)
	}
	// Dumps of large tables arrive faster than they are read on FreeBSD;
	// a large receive buffer avoids ENOBUFS. Best effort.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	return newConn(fd, Native, uint32(os.Getpid()))
}

// newConn wraps a non-blocking datagram socket that speaks dialect d.
func newConn(fd int, d *Dialect, pid uint32) (*Conn, error) {
	f := os.NewFile(uintptr(fd), "pfkey")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("pfkey: %w", err)
	}
	return &Conn{d: d, f: f, rc: rc, pid: pid, buf: make([]byte, MaxMessageLen)}, nil
}

// Close closes the socket.
func (c *Conn) Close() error { return c.f.Close() }

// Dialect returns the dialect the Conn speaks.
func (c *Conn) Dialect() *Dialect { return c.d }

// PID returns the sadb_msg_pid the Conn puts in its requests.
func (c *Conn) PID() uint32 { return c.pid }

// Send writes m, filling Seq and PID when they are zero. It does not wait
// for a reply. The encoded bytes (which may hold keys) are wiped after the
// write.
func (c *Conn) Send(m *Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.send(m)
}

func (c *Conn) send(m *Message) error {
	if m.Seq == 0 {
		m.Seq = NextSeq()
	}
	if m.PID == 0 {
		m.PID = c.pid
	}
	b, err := c.d.Append(c.out[:0], m)
	c.out = b[:0]
	defer clear(b)
	if err != nil {
		return err
	}
	var n int
	var werr error
	err = c.rc.Write(func(fd uintptr) bool {
		n, werr = unix.Write(int(fd), b)
		return werr != unix.EAGAIN
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return &Error{Type: m.Type, SAType: m.SAType, What: Describe(m), Errno: errno}
		}
		return fmt.Errorf("pfkey: write %v: %w", m.Type, err)
	}
	if n != len(b) {
		return fmt.Errorf("pfkey: write %v: short write %d of %d bytes", m.Type, n, len(b))
	}
	return nil
}

// Receive returns the next message the socket receives, whatever it is
// (replies, broadcasts, ACQUIRE, EXPIRE ...).
func (c *Conn) Receive(ctx context.Context) (*Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	stop := c.watch(ctx)
	defer stop()
	return c.receive(ctx)
}

// watch makes reads fail when ctx is done, and applies its deadline.
func (c *Conn) watch(ctx context.Context) func() {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(DefaultTimeout)
	}
	c.f.SetReadDeadline(dl)
	return c.failReadsWhenDone(ctx)
}

// watchForever is for listeners: wait as long as ctx lives.
func (c *Conn) watchForever(ctx context.Context) func() {
	dl, _ := ctx.Deadline()
	c.f.SetReadDeadline(dl)
	return c.failReadsWhenDone(ctx)
}

// failReadsWhenDone moves the read deadline into the past when ctx is done.
// The returned stop waits for a callback that has already started, so a
// late one can never overwrite the deadline of the next request.
func (c *Conn) failReadsWhenDone(ctx context.Context) func() {
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.f.SetReadDeadline(time.Unix(1, 0))
		close(fired)
	})
	return func() {
		if !stop() {
			<-fired
		}
	}
}

func (c *Conn) receive(ctx context.Context) (*Message, error) {
	var n int
	var rerr error
	err := c.rc.Read(func(fd uintptr) bool {
		n, rerr = unix.Read(int(fd), c.buf)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("pfkey: receive: %w", ctx.Err())
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("pfkey: receive: %w", context.DeadlineExceeded)
		}
		return nil, fmt.Errorf("pfkey: receive: %w", err)
	}
	return c.decode(c.buf[:n])
}

// tryReceive returns a message already queued on the socket without
// waiting for one, and without touching the read deadline: (nil, nil)
// when none is queued. The kernel queues its reply to a request while
// handling the write (Linux af_key, FreeBSD key_sendup_mbuf), so a request
// usually finds its reply this way and needs no timer.
func (c *Conn) tryReceive() (*Message, error) {
	var n int
	var rerr error
	if err := c.rc.Control(func(fd uintptr) { n, rerr = unix.Read(int(fd), c.buf) }); err != nil {
		return nil, fmt.Errorf("pfkey: receive: %w", err)
	}
	if rerr == unix.EAGAIN {
		return nil, nil
	}
	if rerr != nil {
		return nil, fmt.Errorf("pfkey: receive: %w", rerr)
	}
	return c.decode(c.buf[:n])
}

// decode unmarshals a received message (b is wiped afterwards).
func (c *Conn) decode(b []byte) (*Message, error) {
	defer clear(b)
	m, err := c.d.Unmarshal(b)
	if err != nil {
		u := &undecodable{err: err}
		if len(b) >= msgHeaderLen {
			u.typ = MsgType(b[1])
			u.seq = c.d.ByteOrder.Uint32(b[8:])
			u.pid = c.d.ByteOrder.Uint32(b[12:])
		}
		return nil, u
	}
	return m, nil
}

// undecodable is a received message the codec rejected, with what could be
// read of its header, so that a request can tell its own broken reply from
// someone else's.
type undecodable struct {
	typ      MsgType
	seq, pid uint32
	err      error
}

func (u *undecodable) Error() string { return u.err.Error() }
func (u *undecodable) Unwrap() error { return u.err }

// skippable reports whether a receive error is a foreign message that
// cannot be decoded (to be skipped) rather than a failure of the request
// req (matched by type and pid, and by seq unless multi).
func skippable(err error, req *Message, multi bool) bool {
	var u *undecodable
	if !errors.As(err, &u) {
		return false
	}
	if req == nil {
		return true
	}
	return u.typ != req.Type || u.pid != req.PID || (!multi && u.seq != req.Seq)
}

func isReply(req, m *Message) bool {
	return m.Type == req.Type && m.Seq == req.Seq && m.PID == req.PID
}

// Do sends req and returns the kernel's reply, matched by type, sequence
// number and pid. A reply with sadb_msg_errno set gives an *Error.
func (c *Conn) Do(ctx context.Context, req *Message) (*Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.send(req); err != nil {
		return nil, err
	}
	// Queued messages are read without a timer; the deadline and ctx are
	// armed only when the socket has to be waited on.
	var stop func()
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		var m *Message
		var err error
		if stop == nil {
			if m, err = c.tryReceive(); m == nil && err == nil {
				stop = c.watch(ctx)
				continue
			}
		} else {
			m, err = c.receive(ctx)
		}
		if err != nil {
			if skippable(err, req, false) {
				continue
			}
			return nil, fmt.Errorf("%v %s: %w", req.Type, Describe(req), err)
		}
		if !isReply(req, m) {
			m.Wipe()
			continue
		}
		if err := replyError(req, m); err != nil {
			m.Wipe()
			return nil, err
		}
		return m, nil
	}
}

// DoMulti sends a DUMP or X_SPDDUMP request and yields the parts of the
// reply in order. Parts are recognized by type and pid; the kernel numbers
// them down to 0, the last. An empty table (the kernel answers ENOENT)
// yields nothing. Breaking out of the loop drains the rest of the dump.
func (c *Conn) DoMulti(ctx context.Context, req *Message) iter.Seq2[*Message, error] {
	return func(yield func(*Message, error) bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		stop := c.watch(ctx)
		defer stop()
		if err := c.send(req); err != nil {
			yield(nil, err)
			return
		}
		draining := false
		for {
			m, err := c.receive(ctx)
			if err != nil {
				if skippable(err, req, true) {
					continue
				}
				if !draining {
					yield(nil, fmt.Errorf("%v: %w", req.Type, err))
				}
				return
			}
			if m.Type != req.Type || m.PID != req.PID {
				m.Wipe()
				continue
			}
			if m.Errno != 0 {
				// An error ends the dump; it carries the request's seq.
				if m.Errno == uint8(unix.ENOENT) || draining {
					return
				}
				yield(nil, replyError(req, m))
				return
			}
			last := m.Seq == 0
			if draining {
				m.Wipe()
			} else if !yield(m, nil) {
				draining = true
			}
			if last {
				return
			}
		}
	}
}
