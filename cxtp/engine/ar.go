package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/ikectx/ikectx/cxtp"
)

// Net is how an engine sends: to a peer AR over the AR-AR channel (SCTP or
// UDP) and to an MN over the access link (ICMPv6).
type Net interface {
	SendAR(peer netip.Addr, b []byte) error
	SendMN(to netip.Addr, b []byte) error
}

// Protection answers "is the channel to this AR protected?" (IPsec between
// the ARs). The daemon fills it from the config; a pfkey SPD check can
// replace it.
type Protection interface {
	Protected(peer netip.Addr) bool
}

// ProtectionChecker is a Protection that can say why a channel is not
// protected (e.g. no IPsec policy covers it); the engine puts that reason,
// with the peer, in the error it reports.
type ProtectionChecker interface {
	Protection
	// CheckProtected returns nil when the channel to peer is protected.
	CheckProtected(peer netip.Addr) error
}

// ProtectedSet is a Protection from a fixed set of peers.
type ProtectedSet map[netip.Addr]bool

// Protected reports whether peer is in the set.
func (s ProtectedSet) Protected(peer netip.Addr) bool { return s[peer] }

// Peer is a configured peer access router.
type Peer struct {
	// Addr is its AR-AR address (messages come from and go to it).
	Addr netip.Addr
	// AccessAddrs are its addresses on its access links, as MNs name it.
	AccessAddrs []netip.Addr
}

// ARConfig configures an AR engine. Zero durations take RFC 4067's values.
type ARConfig struct {
	Self       netip.Addr // AR-AR address
	Access     netip.Addr // access-link address (default Self)
	Peers      []Peer
	Keys       map[netip.Addr][]byte // token key per MN (previous CoA), for the pAR role
	Registry   *Registry
	Net        Net
	Clock      Clock      // default SystemClock
	Protection Protection // default: nothing protected
	// AllowPlaintext lets key material cross unprotected channels (tests).
	AllowPlaintext bool

	Lifetime        time.Duration // unactivated context lifetime (30 s)
	MaxTransferTime time.Duration // CT_MAX_TRANSFER_TIME (200 ms)
	RequestRetry    time.Duration // CT_REQUEST_RETRY (2 s)
	RetryMax        time.Duration // CT_RETRY_MAX (15 s)
	RequestRate     int           // CT_REQUEST_RATE per peer (10/s)
	SeqWindow       time.Duration // sequence-number reuse window (7 s)
	MaxEntries      int           // MN entries held at once (4096)
	// Unauthenticated entries (created by a CTAR before any token check,
	// see ar_admit.go): at most MaxPending in all (MaxEntries/4) and
	// MaxPendingPerSource (16) per CTAR source, sources grouped by
	// SourcePrefix bits for IPv6 (128: each address) and SourcePrefix4
	// for IPv4 (32).
	MaxPending          int
	MaxPendingPerSource int
	SourcePrefix        int
	SourcePrefix4       int
	// HandlerTimeout bounds PreInstall, Activate and Discard (1 s);
	// Capture is bounded by MaxTransferTime.
	HandlerTimeout time.Duration
	// AfterAckDelay postpones the activations after the CTAA (AfterAck
	// handlers) and the CTDR that follows them (0: right after the CTAA).
	AfterAckDelay time.Duration

	Log *slog.Logger // default: discard
}

// AR is the access-router engine.
type AR struct {
	cfg     ARConfig
	metrics Metrics

	mu     sync.Mutex
	peers  map[netip.Addr]netip.Addr // AR-AR or access address -> AR-AR address
	in     map[netip.Addr]*inEntry   // nAR side, by MN previous CoA
	out    map[netip.Addr]*outEntry  // pAR side, by MN previous CoA
	pacers map[netip.Addr]*pacer
	closed bool

	unauthN   int                  // unauthenticated entries in `in`
	perSource map[netip.Prefix]int // unauthenticated entries per source group
}

// ErrUnprotected is returned when key material would cross an unprotected
// channel.
var ErrUnprotected = errors.New("channel to the peer is not protected (set protected = true once IPsec protects it, or allow_plaintext for tests)")

// UnprotectedError is the refusal to send key material to Peer: its
// channel is not protected, for the reason Why (from a
// ProtectionChecker). It matches ErrUnprotected with errors.Is.
type UnprotectedError struct {
	Peer netip.Addr
	Why  error
}

func (e *UnprotectedError) Error() string {
	return fmt.Sprintf("channel to peer %s is not protected: %v", e.Peer, e.Why)
}

func (e *UnprotectedError) Unwrap() []error { return []error{ErrUnprotected, e.Why} }

// unprotected returns nil when key material may go to peer, else why not.
func (a *AR) unprotected(peer netip.Addr) error {
	if a.cfg.AllowPlaintext {
		return nil
	}
	if c, ok := a.cfg.Protection.(ProtectionChecker); ok {
		if err := c.CheckProtected(peer); err != nil {
			return &UnprotectedError{Peer: peer, Why: err}
		}
		return nil
	}
	if !a.cfg.Protection.Protected(peer) {
		return ErrUnprotected
	}
	return nil
}

// NewAR builds an AR engine.
func NewAR(cfg ARConfig) (*AR, error) {
	if !cfg.Self.IsValid() {
		return nil, errors.New("engine: AR needs its own address")
	}
	if !cfg.Access.IsValid() {
		cfg.Access = cfg.Self
	}
	if cfg.Registry == nil || cfg.Net == nil {
		return nil, errors.New("engine: AR needs a registry and a network")
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Protection == nil {
		cfg.Protection = ProtectedSet{}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Lifetime, 30*time.Second)
	def(&cfg.MaxTransferTime, cxtp.CTMaxTransferTime)
	def(&cfg.RequestRetry, cxtp.CTRequestRetry)
	def(&cfg.RetryMax, cxtp.CTRetryMax)
	def(&cfg.SeqWindow, cxtp.SeqReuseWindow)
	def(&cfg.HandlerTimeout, time.Second)
	if cfg.RequestRate <= 0 {
		cfg.RequestRate = cxtp.CTRequestRate
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 4096
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = max(cfg.MaxEntries/4, 1)
	}
	if cfg.MaxPendingPerSource <= 0 {
		cfg.MaxPendingPerSource = 16
	}
	if cfg.SourcePrefix <= 0 || cfg.SourcePrefix > 128 {
		cfg.SourcePrefix = 128
	}
	if cfg.SourcePrefix4 <= 0 || cfg.SourcePrefix4 > 32 {
		cfg.SourcePrefix4 = 32
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	a := &AR{cfg: cfg, peers: map[netip.Addr]netip.Addr{}, in: map[netip.Addr]*inEntry{},
		out: map[netip.Addr]*outEntry{}, pacers: map[netip.Addr]*pacer{}, perSource: map[netip.Prefix]int{}}
	for _, p := range cfg.Peers {
		a.peers[p.Addr] = p.Addr
		for _, x := range p.AccessAddrs {
			a.peers[x] = p.Addr
		}
	}
	return a, nil
}

// Metrics returns a snapshot of the counters.
func (a *AR) Metrics() Snapshot {
	s := a.metrics.Snapshot()
	a.mu.Lock()
	s.Live = len(a.in) + len(a.out)
	a.mu.Unlock()
	return s
}

// Close stops every timer and discards every context not yet activated.
func (a *AR) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for _, e := range a.in {
		if e.state == inStored || e.state == inRequested {
			a.discardAll(e)
		}
		e.stopTimers()
		wipe(e.key)
	}
	for _, o := range a.out {
		o.stop()
	}
	a.in = map[netip.Addr]*inEntry{}
	a.out = map[netip.Addr]*outEntry{}
	a.unauthN, a.perSource = 0, map[netip.Prefix]int{}
}

// tombstone is how long an entry is remembered after it ends.
func (a *AR) tombstone() time.Duration { return max(a.cfg.Lifetime, a.cfg.SeqWindow) }

// HandleAR processes one message received on the AR-AR channel.
func (a *AR) HandleAR(from netip.Addr, b []byte) {
	from = from.Unmap()
	if len(b) > cxtp.MaxMessageLen {
		a.drop(ReasonOversized, "from", from, "len", len(b))
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	peer, ok := a.peers[from]
	if !ok || peer != from {
		a.drop(ReasonUnknownPeer, "from", from)
		return
	}
	m, ok := a.parse(from, b)
	if !ok {
		return
	}
	switch m := m.(type) {
	case *cxtp.PCTD:
		a.onPCTD(peer, m)
	case *cxtp.CTD:
		a.onCTD(peer, m)
	case *cxtp.CTReq:
		a.onCTReq(peer, m)
	case *cxtp.CTDR:
		a.onCTDR(peer, m)
	case *cxtp.CTC:
		a.onCTC(peer, m)
	default:
		a.drop(ReasonWrongChannel, "from", from, "type", m.Type())
	}
}

// HandleMN processes one message received from an MN on the access link
// (the transport has checked the hop limit).
func (a *AR) HandleMN(from netip.Addr, b []byte) {
	from = from.Unmap()
	if len(b) > cxtp.MaxMessageLen {
		a.drop(ReasonOversized, "from", from, "len", len(b))
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	m, ok := a.parse(from, b)
	if !ok {
		return
	}
	ctar, isCTAR := m.(*cxtp.CTAR)
	if !isCTAR {
		a.drop(ReasonWrongChannel, "from", from, "type", m.Type())
		return
	}
	if ctar.PrevCoA == from {
		// The MN is still attached here and names the nAR: a predictive
		// handover trigger (RFC 4067 section 2.1, MN-initiated).
		a.onTriggerCTAR(from, ctar)
		return
	}
	a.onCTAR(from, ctar)
}

// classify names why a message did not decode: shorter than its header or
// its Length field (truncated), longer than its Length field or than any
// CXTP message (oversized), or anything else (malformed).
func classify(b []byte, err error) string {
	if len(b) > cxtp.MaxMessageLen || errors.Is(err, cxtp.ErrTooLong) {
		return ReasonOversized
	}
	if len(b) < cxtp.HeaderLen || errors.Is(err, cxtp.ErrTruncated) {
		return ReasonTruncated
	}
	switch declared := int(b[2])<<8 | int(b[3]); {
	case declared > len(b):
		return ReasonTruncated
	case declared < len(b):
		return ReasonOversized
	}
	return ReasonMalformed
}

func (a *AR) parse(from netip.Addr, b []byte) (cxtp.Message, bool) {
	m, err := cxtp.Parse(b)
	if err != nil {
		reason := classify(b, err)
		a.drop(reason, "from", from, "err", err)
		return nil, false
	}
	a.metrics.msg(false, m.Type())
	if a.cfg.Log.Enabled(context.Background(), slog.LevelDebug) {
		a.cfg.Log.Debug("cxtp: received", "from", from, "msg", m.String())
	}
	return m, true
}

func (a *AR) drop(reason string, args ...any) {
	a.metrics.reject(reason)
	a.cfg.Log.Warn("cxtp: rejected", append([]any{"reason", reason}, args...)...)
}

func (a *AR) sendAR(peer netip.Addr, m cxtp.Message) {
	b, err := cxtp.Marshal(m)
	if err != nil {
		a.cfg.Log.Error("cxtp: encode", "type", m.Type(), "mn", m.PrevAddr(), "err", err)
		return
	}
	a.metrics.msg(true, m.Type())
	if err := a.cfg.Net.SendAR(peer, b); err != nil {
		a.cfg.Log.Error("cxtp: send", "peer", peer, "type", m.Type(), "mn", m.PrevAddr(), "err", err)
	}
}

func (a *AR) sendMN(to netip.Addr, m cxtp.Message) []byte {
	b, err := cxtp.Marshal(m)
	if err != nil {
		a.cfg.Log.Error("cxtp: encode", "type", m.Type(), "mn", m.PrevAddr(), "err", err)
		return nil
	}
	a.sendMNRaw(to, m.Type(), b)
	return b
}

func (a *AR) sendMNRaw(to netip.Addr, t cxtp.MsgType, b []byte) {
	a.metrics.msg(true, t)
	if err := a.cfg.Net.SendMN(to, b); err != nil {
		a.cfg.Log.Error("cxtp: send", "mn", to, "type", t, "err", err)
	}
}

// callCtx bounds one handler call by d on the engine's clock.
func (a *AR) callCtx(d time.Duration) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	t := a.cfg.Clock.AfterFunc(d, cancel)
	return ctx, func() { t.Stop(); cancel() }
}

// requestedCDBs is the CDB list a CTAR's token covers: one header-only CDB
// per requested FPT (cxtp.Token hashes each as the 4-octet block the CTAR
// carries, RFC 4067 sections 2.4 and 2.5.1).
func requestedCDBs(fpts []cxtp.FPT) []cxtp.CDB {
	if len(fpts) == 0 {
		return nil
	}
	out := make([]cxtp.CDB, len(fpts))
	for i, f := range fpts {
		out[i] = cxtp.CDB{FPT: f}
	}
	return out
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

func fmtErr(where string, mn netip.Addr, err error) error {
	return fmt.Errorf("cxtp: %s for MN %s: %w", where, mn, err)
}
