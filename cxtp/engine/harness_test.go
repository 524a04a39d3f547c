package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ikectx/ikectx/cxtp"
)

var (
	aMN   = netip.MustParseAddr("2001:db8:1::100") // MN on the pAR link
	aMN2  = netip.MustParseAddr("2001:db8:2::100") // MN on the nAR link
	aPAR  = netip.MustParseAddr("2001:db8:a::1")
	aNAR  = netip.MustParseAddr("2001:db8:a::2")
	aPARx = netip.MustParseAddr("2001:db8:1::1") // pAR access address
	aNARx = netip.MustParseAddr("2001:db8:2::1") // nAR access address
	aEvil = netip.MustParseAddr("2001:db8:a::66")
	key   = []byte("0123456789abcdefXYZW")
)

const fptA, fptB cxtp.FPT = 0x80ff, 0x8001

// packet is one message in flight.
type packet struct {
	from, to netip.Addr
	toMN     bool // on the access link (ICMPv6)
	at       time.Time
	b        []byte
}

func (p packet) msg(t *testing.T) cxtp.Message {
	t.Helper()
	m, err := cxtp.Parse(p.b)
	if err != nil {
		t.Fatalf("sent undecodable message: %v", err)
	}
	return m
}

// world wires a pAR, an nAR and an MN through a queue the test drains.
type world struct {
	t        *testing.T
	clk      *ManualClock
	mu       sync.Mutex
	queue    []packet
	log      []packet // everything ever sent
	par, nar *AR
	mn       *MNEngine
	hp, hn   *fakeHandler // pAR's and nAR's handler of fptA
	logBuf   *bytes.Buffer
}

type arNet struct {
	w    *world
	self netip.Addr // AR-AR
	acc  netip.Addr // access
}

func (n arNet) SendAR(peer netip.Addr, b []byte) error {
	n.w.push(packet{from: n.self, to: peer, b: append([]byte(nil), b...)})
	return nil
}
func (n arNet) SendMN(to netip.Addr, b []byte) error {
	n.w.push(packet{from: n.acc, to: to, toMN: true, b: append([]byte(nil), b...)})
	return nil
}

type mnNet struct{ w *world }

func (n mnNet) Send(ar netip.Addr, b []byte) error {
	from := aMN2
	if ar == aPARx {
		from = aMN
	}
	n.w.push(packet{from: from, to: ar, toMN: true, b: append([]byte(nil), b...)})
	return nil
}

func (w *world) push(p packet) {
	w.mu.Lock()
	p.at = w.clk.Now()
	w.queue = append(w.queue, p)
	w.log = append(w.log, p)
	w.mu.Unlock()
}

// deliver runs the queue until empty; drop filters packets out.
func (w *world) deliver(drop func(packet) bool) {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.mu.Unlock()
			return
		}
		p := w.queue[0]
		w.queue = w.queue[1:]
		w.mu.Unlock()
		if drop != nil && drop(p) {
			continue
		}
		switch p.to {
		case aPAR:
			w.par.HandleAR(p.from, p.b)
		case aNAR:
			w.nar.HandleAR(p.from, p.b)
		case aPARx:
			w.par.HandleMN(p.from, p.b)
		case aNARx:
			w.nar.HandleMN(p.from, p.b)
		case aMN, aMN2:
			w.mn.HandleAR(p.from, p.b)
		}
	}
}

// sent returns the messages of one type ever sent, in order.
func (w *world) sent(t cxtp.MsgType) []packet {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []packet
	for _, p := range w.log {
		if h, err := cxtp.DecodeHeader(p.b); err == nil && h.Type == t {
			out = append(out, p)
		}
	}
	return out
}

type fakeHandler struct {
	mu          sync.Mutex
	contexts    map[netip.Addr][]byte // pAR: what Capture returns
	pre         map[netip.Addr][]byte // nAR: pre-installed
	active      map[netip.Addr]netip.Addr
	discarded   []netip.Addr
	calls       []string
	failCap     bool
	failAct     bool
	transferred map[netip.Addr]cxtp.Status
}

func (h *fakeHandler) Transferred(ctx context.Context, mn MN, st cxtp.Status) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.transferred == nil {
		h.transferred = map[netip.Addr]cxtp.Status{}
	}
	h.transferred[mn.Prev] = st
}

func newFake() *fakeHandler {
	return &fakeHandler{contexts: map[netip.Addr][]byte{}, pre: map[netip.Addr][]byte{}, active: map[netip.Addr]netip.Addr{}}
}

func (h *fakeHandler) Capture(ctx context.Context, mn MN) ([]byte, error) {
	h.mu.Lock()
	h.calls = append(h.calls, "capture")
	d, ok := h.contexts[mn.Prev]
	fail := h.failCap
	h.mu.Unlock()
	if fail || !ok {
		return nil, errors.New("no context")
	}
	return d, nil
}
func (h *fakeHandler) PreInstall(ctx context.Context, mn MN, data []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, "preinstall")
	h.pre[mn.Prev] = append([]byte(nil), data...)
	return nil
}
func (h *fakeHandler) Activate(ctx context.Context, mn MN) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, "activate")
	if h.failAct {
		return errors.New("refused")
	}
	if _, ok := h.pre[mn.Prev]; !ok {
		return fmt.Errorf("activate without pre-install")
	}
	h.active[mn.Prev] = mn.New
	return nil
}
func (h *fakeHandler) Discard(ctx context.Context, mn MN) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, "discard")
	delete(h.pre, mn.Prev)
	h.discarded = append(h.discarded, mn.Prev)
}

func (h *fakeHandler) activeCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.active)
}

type worldOpt func(*ARConfig, *ARConfig)

func newWorld(t *testing.T, opts ...worldOpt) *world {
	t.Helper()
	w := &world{t: t, clk: NewManualClock(), hp: newFake(), hn: newFake(), logBuf: &bytes.Buffer{}}
	w.hp.contexts[aMN] = bytes.Repeat([]byte{0xC7}, 600)
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: w.logBuf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	regP, regN := NewRegistry(), NewRegistry()
	if err := regP.Register(Registration{FPT: fptA, Handler: w.hp}); err != nil {
		t.Fatal(err)
	}
	if err := regN.Register(Registration{FPT: fptA, Handler: w.hn}); err != nil {
		t.Fatal(err)
	}
	cp := ARConfig{Self: aPAR, Access: aPARx, Peers: []Peer{{Addr: aNAR, AccessAddrs: []netip.Addr{aNARx}}},
		Keys: map[netip.Addr][]byte{aMN: key}, Registry: regP, Net: arNet{w, aPAR, aPARx}, Clock: w.clk,
		Protection: ProtectedSet{aNAR: true}, Log: log.With("ar", "par")}
	cn := ARConfig{Self: aNAR, Access: aNARx, Peers: []Peer{{Addr: aPAR, AccessAddrs: []netip.Addr{aPARx}}},
		Registry: regN, Net: arNet{w, aNAR, aNARx}, Clock: w.clk,
		Protection: ProtectedSet{aPAR: true}, Log: log.With("ar", "nar")}
	for _, o := range opts {
		o(&cp, &cn)
	}
	var err error
	if w.par, err = NewAR(cp); err != nil {
		t.Fatal(err)
	}
	if w.nar, err = NewAR(cn); err != nil {
		t.Fatal(err)
	}
	if w.mn, err = NewMN(MNConfig{Key: key, Net: mnNet{w}, Clock: w.clk, Log: log.With("node", "mn")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.par.Close()
		w.nar.Close()
		if bytes.Contains(w.logBuf.Bytes(), key) || bytes.Contains(w.logBuf.Bytes(), []byte(fmt.Sprintf("%x", key))) {
			t.Errorf("key bytes appear in the log")
		}
	})
	return w
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// result collects an MN callback.
type result struct {
	mu  sync.Mutex
	got []Result
}

func (r *result) cb(x Result) { r.mu.Lock(); r.got = append(r.got, x); r.mu.Unlock() }
func (r *result) one(t *testing.T) Result {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) != 1 {
		t.Fatalf("want one MN result, got %d: %+v", len(r.got), r.got)
	}
	return r.got[0]
}

// ctar builds a CTAR as the MN would, with a chosen seq and key.
func ctar(seq uint32, k []byte, par netip.Addr) []byte {
	m := &cxtp.CTAR{PrevCoA: aMN, PrevAR: par, Seq: seq, Token: cxtp.Token(k, aMN, seq, nil)}
	b, _ := cxtp.Marshal(m)
	return b
}

func netip4() netip.Addr { return netip.MustParseAddr("192.0.2.1") }
