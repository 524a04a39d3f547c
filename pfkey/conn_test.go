//go:build linux || freebsd

package pfkey

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeKernel is the other end of a datagram socketpair standing in for the
// key socket: it reads requests and answers with scripted messages.
type fakeKernel struct {
	t  *testing.T
	fd int
}

func newFake(t *testing.T) (*Conn, *fakeKernel) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}
	c, err := newConn(fds[0], Native, 4242)
	if err != nil {
		t.Fatal(err)
	}
	k := &fakeKernel{t: t, fd: fds[1]}
	t.Cleanup(func() { c.Close(); unix.Close(fds[1]) })
	return c, k
}

func (k *fakeKernel) request() *Message {
	k.t.Helper()
	buf := make([]byte, 1<<16)
	n, err := unix.Read(k.fd, buf)
	if err != nil {
		k.t.Errorf("fake kernel read: %v", err)
		return nil
	}
	m, err := Native.Unmarshal(buf[:n])
	if err != nil {
		k.t.Errorf("fake kernel: %v", err)
		return nil
	}
	return m
}

func (k *fakeKernel) send(m *Message) {
	k.t.Helper()
	b, err := Native.Marshal(m)
	if err != nil {
		k.t.Fatal(err)
	}
	if _, err := unix.Write(k.fd, b); err != nil {
		k.t.Errorf("fake kernel write: %v", err)
	}
}

func TestConnMatchesReplyBySeqAndPID(t *testing.T) {
	c, k := newFake(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := k.request()
		if req == nil {
			return
		}
		if req.PID != 4242 || req.Seq == 0 {
			t.Errorf("request seq %d pid %d", req.Seq, req.PID)
		}
		// Noise first: another process's reply with our seq, our pid
		// with another seq, an ACQUIRE, garbage, then the reply.
		k.send(&Message{Type: MsgGet, SAType: SATypeESP, Seq: req.Seq, PID: 999})
		k.send(&Message{Type: MsgGet, SAType: SATypeESP, Seq: req.Seq + 1, PID: 4242})
		k.send(&Message{Type: MsgAcquire, SAType: SATypeESP, Seq: req.Seq})
		unix.Write(k.fd, []byte{1, 2, 3})
		r := addMessage()
		r.Type, r.Seq, r.PID = MsgGet, req.Seq, req.PID
		k.send(r)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e, err := c.Get(ctx, SATypeESP, a1, a2, 0x1000)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if e.SPI != 0x1000 || string(e.Keys.Auth) != string(authK) {
		t.Errorf("got %v", e)
	}
}

func TestConnErrnoReply(t *testing.T) {
	c, k := newFake(t)
	go func() {
		req := k.request()
		if req == nil {
			return
		}
		k.send(&Message{Type: req.Type, SAType: req.SAType, Errno: uint8(unix.EEXIST), Seq: req.Seq, PID: req.PID})
	}()
	e := &SAEntry{Type: SATypeESP, SPI: 0x1000, Src: a1, Dst: a2, Enc: EncAESCBC, Keys: Keys{Enc: encK}}
	err := c.Add(context.Background(), e)
	if !errors.Is(err, unix.EEXIST) || !IsExist(err) {
		t.Fatalf("err = %v", err)
	}
	if want := "pfkey: SADB_ADD esp 2001:db8::1->2001:db8::2 spi 0x1000: file exists"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestConnTimeout(t *testing.T) {
	c, k := newFake(t)
	go k.request() // swallow the request, never answer
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Flush(ctx, SATypeESP)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("timeout not honoured")
	}
	// Cancellation without a deadline.
	go k.request()
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if err := c.SPDFlush(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
}

func TestConnDump(t *testing.T) {
	c, k := newFake(t)
	serve := func(n int) {
		req := k.request()
		if req == nil {
			return
		}
		if n == 0 {
			k.send(&Message{Type: req.Type, Errno: uint8(unix.ENOENT), Seq: req.Seq, PID: req.PID})
			return
		}
		for i := n - 1; i >= 0; i-- {
			k.send(&Message{Type: MsgAdd, Seq: uint32(i), PID: 0}) // broadcast noise
			r := addMessage()
			r.Type, r.Seq, r.PID = MsgDump, uint32(i), req.PID
			r.SA.SPI = uint32(0x100 + i)
			k.send(r)
		}
	}
	ctx := context.Background()

	go serve(3)
	var spis []uint32
	for e, err := range c.Dump(ctx, SATypeESP) {
		if err != nil {
			t.Fatal(err)
		}
		spis = append(spis, e.SPI)
	}
	if len(spis) != 3 || spis[0] != 0x102 || spis[2] != 0x100 {
		t.Errorf("dump spis %x", spis)
	}

	go serve(0)
	n := 0
	for _, err := range c.Dump(ctx, SATypeESP) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 0 {
		t.Errorf("empty dump gave %d", n)
	}

	// Break after the first part: the rest is drained, and the next
	// request gets its own reply.
	go func() {
		serve(4)
		req := k.request()
		if req != nil {
			k.send(&Message{Type: req.Type, Seq: req.Seq, PID: req.PID})
		}
	}()
	for _, err := range c.Dump(ctx, SATypeESP) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if err := c.Flush(ctx, SATypeESP); err != nil {
		t.Fatalf("flush after broken dump: %v", err)
	}
}

func TestListenerFilters(t *testing.T) {
	c, k := newFake(t)
	l := &Listener{c: c}
	k.send(&Message{Type: MsgAdd, Seq: 1})
	k.send(&Message{Type: MsgRegister, Seq: 2})
	k.send(&Message{Type: MsgExpire, SAType: SATypeESP, Seq: 3, SA: &SA{SPI: 7}, Src: HostAddress(a1), Dst: HostAddress(a2), LifetimeHard: &Lifetime{}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := l.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != MsgExpire || m.SA.SPI != 7 {
		t.Errorf("got %v", m.Type)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err := l.Next(ctx2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("idle listener: %v", err)
	}
}

// A reply of ours that does not decode fails the request at once, naming
// it; someone else's undecodable message is skipped.
func TestConnBrokenReply(t *testing.T) {
	c, k := newFake(t)
	go func() {
		req := k.request()
		if req == nil {
			return
		}
		foreign := hx(t, "02 05 00 03  03 00 00 00  00 00 00 00  01 00 00 00  00 00 01 00  00 00 00 00")
		unix.Write(k.fd, foreign)
		b, _ := Native.Marshal(&Message{Type: req.Type, SAType: req.SAType, Seq: req.Seq, PID: req.PID})
		b[4] = 3 // claims 24 bytes: extension header missing
		unix.Write(k.fd, append(b, 0, 0, 0, 0, 0, 0, 0, 0))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.Get(ctx, SATypeESP, a1, a2, 0x1000)
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "SADB_GET esp 2001:db8::1->2001:db8::2 spi 0x1000") {
		t.Errorf("err = %v", err)
	}
}
