package engine

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/ikectx/ikectx/cxtp"
)

// MNNet sends a CXTP message from the MN to an access router (ICMPv6).
type MNNet interface {
	Send(ar netip.Addr, b []byte) error
}

// MNConfig configures the mobile-node engine.
type MNConfig struct {
	Key   []byte // token key shared with the (previous) AR
	Net   MNNet
	Clock Clock
	// FirstRetry is the first CTAR retransmission interval
	// (CT_MAX_TRANSFER_TIME, 200 ms); it doubles up to RetryMax (15 s).
	FirstRetry time.Duration
	RetryMax   time.Duration
	// GiveUp ends a request that got no CTAA (45 s: longer than the AR's
	// 30 s context lifetime, so its failure report arrives first).
	GiveUp time.Duration
	// SeqWindow is the sequence-number reuse window (7 s).
	SeqWindow time.Duration
	Log       *slog.Logger
}

// Result is the outcome of one CTAR exchange.
type Result struct {
	AR       netip.Addr
	Failures []cxtp.FPTStatus // per-FPT failures from the CTAA
	Attempts int              // CTARs sent
	// Elapsed is the time from the first CTAR to the CTAA (or to giving
	// up), on the engine's clock: the MN's view of the paper's beta.
	Elapsed time.Duration
	Err     error // ErrNoAnswer, or nil when a CTAA came
}

// ErrNoAnswer means no CTAA arrived before the give-up time.
var ErrNoAnswer = errors.New("no CTAA before giving up")

// MNEngine is the mobile node's side: it sends CTARs, retransmits them with
// back-off (a fresh sequence number and token each time) until the CTAA, and
// reports per-FPT failures.
type MNEngine struct {
	cfg     MNConfig
	metrics Metrics

	mu      sync.Mutex
	seq     uint32
	used    seqWindow
	pending map[mnReqKey]*mnReq
}

type mnReqKey struct{ ar, prev netip.Addr }

type mnReq struct {
	key     mnReqKey
	otherAR netip.Addr // the AR named in the CTAR's AR field
	fpts    []cxtp.FPT
	started time.Time
	retry   backoff
	tries   int
	timer   Timer
	done    func(Result)
}

// NewMN builds an MN engine.
func NewMN(cfg MNConfig) (*MNEngine, error) {
	if len(cfg.Key) == 0 || cfg.Net == nil {
		return nil, errors.New("engine: MN needs a token key and a network")
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.FirstRetry <= 0 {
		cfg.FirstRetry = cxtp.CTMaxTransferTime
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = cxtp.CTRetryMax
	}
	if cfg.GiveUp <= 0 {
		cfg.GiveUp = 45 * time.Second
	}
	if cfg.SeqWindow <= 0 {
		cfg.SeqWindow = cxtp.SeqReuseWindow
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return &MNEngine{cfg: cfg, seq: binary.BigEndian.Uint32(b[:]), pending: map[mnReqKey]*mnReq{}}, nil
}

// Metrics returns the counters.
func (m *MNEngine) Metrics() Snapshot { return m.metrics.Snapshot() }

// Handover asks the current AR (par) for a predictive transfer of the
// context of address cur to nar: a CTAR sent to the pAR naming the nAR.
func (m *MNEngine) Handover(par, nar, cur netip.Addr, fpts []cxtp.FPT, done func(Result)) error {
	return m.start(par, nar, cur, fpts, done)
}

// Attach sends the CTAR to the new AR after attachment: prev is the MN's
// previous care-of address, par its previous AR.
func (m *MNEngine) Attach(nar, par, prev netip.Addr, fpts []cxtp.FPT, done func(Result)) error {
	return m.start(nar, par, prev, fpts, done)
}

func (m *MNEngine) start(to, other, prev netip.Addr, fpts []cxtp.FPT, done func(Result)) error {
	if !to.IsValid() || !other.IsValid() || !prev.IsValid() || to.Is4() != prev.Is4() || other.Is4() != prev.Is4() {
		return fmt.Errorf("cxtp: CTAR to %s: addresses %s, %s invalid or of mixed families", to, other, prev)
	}
	m.mu.Lock()
	k := mnReqKey{to, prev}
	old := m.pending[k]
	if old != nil {
		old.timer.Stop()
		delete(m.pending, k)
	}
	r := &mnReq{key: k, otherAR: other, fpts: fpts, started: m.cfg.Clock.Now(), done: done,
		retry: backoff{first: m.cfg.FirstRetry, max: m.cfg.RetryMax}}
	m.pending[k] = r
	m.send(r)
	m.mu.Unlock()
	if old != nil && old.done != nil {
		old.done(Result{AR: to, Attempts: old.tries, Err: errors.New("superseded by a new request")})
	}
	return nil
}

// nextSeq returns a sequence number not used within the reuse window.
func (m *MNEngine) nextSeq() uint32 {
	now := m.cfg.Clock.Now()
	for {
		m.seq++
		if m.used.check(m.seq, now, m.cfg.SeqWindow, netip.Addr{}) == seqFresh {
			return m.seq
		}
	}
}

func (m *MNEngine) send(r *mnReq) {
	seq := m.nextSeq()
	msg := &cxtp.CTAR{PrevCoA: r.key.prev, PrevAR: r.otherAR, Seq: seq,
		Token: cxtp.Token(m.cfg.Key, r.key.prev, seq, requestedCDBs(r.fpts)), FPTs: r.fpts}
	b, err := cxtp.Marshal(msg)
	r.tries++
	if err == nil {
		m.metrics.msg(true, cxtp.TypeCTAR)
		err = m.cfg.Net.Send(r.key.ar, b)
	}
	if err != nil {
		m.cfg.Log.Warn("cxtp: CTAR send failed", "ar", r.key.ar, "err", err)
	} else {
		m.cfg.Log.Debug("cxtp: CTAR sent", "ar", r.key.ar, "seq", seq, "attempt", r.tries)
	}
	d := r.retry.next()
	if left := r.started.Add(m.cfg.GiveUp).Sub(m.cfg.Clock.Now()); left < d {
		d = max(left, 0)
	}
	r.timer = m.cfg.Clock.AfterFunc(d, func() { m.retransmit(r) })
}

func (m *MNEngine) retransmit(r *mnReq) {
	m.mu.Lock()
	if m.pending[r.key] != r {
		m.mu.Unlock()
		return
	}
	if m.cfg.Clock.Now().Sub(r.started) >= m.cfg.GiveUp {
		delete(m.pending, r.key)
		m.metrics.reject(ReasonTransferFailed)
		m.mu.Unlock()
		if r.done != nil {
			r.done(Result{AR: r.key.ar, Attempts: r.tries, Elapsed: m.cfg.Clock.Now().Sub(r.started), Err: ErrNoAnswer})
		}
		return
	}
	m.send(r)
	m.mu.Unlock()
}

// HandleAR processes a message from an AR (a CTAA).
func (m *MNEngine) HandleAR(from netip.Addr, b []byte) {
	from = from.Unmap()
	msg, err := cxtp.Parse(b)
	if err != nil {
		reason := classify(b, err)
		m.metrics.reject(reason)
		m.cfg.Log.Warn("cxtp: rejected", "reason", reason, "from", from, "err", err)
		return
	}
	m.metrics.msg(false, msg.Type())
	ctaa, ok := msg.(*cxtp.CTAA)
	if !ok {
		m.metrics.reject(ReasonWrongChannel)
		return
	}
	m.mu.Lock()
	r := m.pending[mnReqKey{from, ctaa.PrevCoA}]
	if r == nil {
		m.mu.Unlock()
		m.metrics.reject(ReasonUnexpected)
		return
	}
	r.timer.Stop()
	delete(m.pending, r.key)
	m.mu.Unlock()
	elapsed := m.cfg.Clock.Now().Sub(r.started)
	if r.done != nil {
		// first: the caller may open the MN's path on it
		r.done(Result{AR: from, Failures: ctaa.Failures, Attempts: r.tries, Elapsed: elapsed})
	}
	m.cfg.Log.Info("cxtp: CTAA", "ar", from, "prev", ctaa.PrevCoA, "failed", len(ctaa.Failures), "attempts", r.tries, "elapsed", elapsed)
}
