package ipsecmod

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
)

// Config configures a Module.
type Config struct {
	// Address is this router's tunnel endpoint towards the MNs (its
	// access-link address): what the pAR puts in the context header and
	// what replaces the pAR's address on the nAR.
	Address netip.Addr
	FPTs    FPTs
	Rule    LookupRule
	// Lifetime bounds a pre-installed context that is never activated nor
	// discarded (cxtpd normally discards it at its context_lifetime): the
	// module removes it itself after Lifetime (default 60 s).
	Lifetime time.Duration
	// Predict, when valid, is the prefix of the nAR's access link: the MN's
	// new CoA is predicted as this prefix with the interface identifier of
	// its previous CoA (SLAAC), so that SAs can be installed before the
	// CTAR. A wrong prediction costs a re-install at activation.
	Predict netip.Prefix
	// PolicyPriority, when not 0, is the priority of every policy installed
	// on the nAR; 0 computes one that beats the nAR's discard policies
	// covering the MN (see PreInstall).
	PolicyPriority uint32
	// DeleteOnTransfer makes the pAR delete the MN's SAs and policies
	// after the nAR's CTDR reported success. The default keeps them until
	// their lifetimes (fast return; and no DELETE from the IKE daemon to
	// the MN, which now uses the same SAs with the nAR).
	DeleteOnTransfer bool
	// CallTimeout bounds each kernel or daemon call (default 2 s).
	CallTimeout time.Duration

	Kernel Kernel
	IKEv1  IKEv1Daemon // nil: no racoon; the IKEv1 FPT answers unsupported
	IKEv2  IKEv2Daemon // nil: the IKEv2 FPT answers unsupported
	Log    *slog.Logger
	Now    func() time.Time
}

// Module is the IPsec-CXTP module's logic (paper section 4.2), independent
// of the transport to cxtpd: Capture on the pAR; PreInstall, Activate and
// Discard on the nAR; RewriteMN on the MN.
type Module struct {
	cfg Config

	mu      sync.Mutex
	entries map[netip.Addr]*entry
	stats   Stats
	recent  []Collision
	done    []EntryStatus // last contexts fully activated
}

// Stats are the module's counters.
type Stats struct {
	Captured, PreInstalled, Activated, Discarded, Expired, Failed uint64
	Collisions, Fallbacks, Released                               uint64
}

type entry struct {
	mn     netip.Addr
	ctx    *Context // decoded context; keys wiped after activation
	have   [numKinds]bool
	active [numKinds]bool
	target netip.Addr           // MN address the SAs/policies are built for
	sas    []*pfkey.SAEntry     // SAs installed (keys wiped)
	pols   []*pfkey.PolicyEntry // rewritten policies (installed once active)
	polFor netip.Addr           // nCoA the policies were built for
	colls  []Collision
	// Read ahead when the nCoA was not known at pre-install, so that
	// activation needs no SAD or SPD dump: the SAs found colliding on
	// what was already known (SPI; SPI and the nAR as destination), and
	// the nAR's discard policies.
	prechecked bool
	preColl    map[int]Collision
	discards   []*pfkey.PolicyEntry
	haveDisc   bool
	created    time.Time
	timer      *time.Timer
	// ikev2SPIs are the inbound SPIs of the IKEv2 children handed to the
	// IKE daemon (it repairs their collisions with UPDATE_SPI).
	ikev2SPIs map[uint32]bool
}

// New returns a module; cfg.Kernel is required.
func New(cfg Config) (*Module, error) {
	if cfg.Kernel == nil {
		return nil, errors.New("ipsecmod: no kernel backend")
	}
	if cfg.FPTs == (FPTs{}) {
		cfg.FPTs = DefaultFPTs()
	}
	if err := cfg.FPTs.Validate(); err != nil {
		return nil, err
	}
	if cfg.Rule == 0 {
		cfg.Rule = DefaultRule
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = 60 * time.Second
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Module{cfg: cfg, entries: map[netip.Addr]*entry{}}, nil
}

// Config returns the module's configuration.
func (m *Module) Config() Config { return m.cfg }

func (m *Module) dialect() *pfkey.Dialect {
	if d := m.cfg.Kernel.Dialect(); d != nil {
		return d
	}
	return pfkey.Native
}

// Capture reads the MN's context of one kind on the pAR and encodes it.
// The result holds keys: the caller wipes it after sending.
func (m *Module) Capture(ctx context.Context, k Kind, mn netip.Addr) ([]byte, error) {
	c, err := m.capture(ctx, k, mn)
	if err != nil {
		m.count(&m.stats.Failed)
		return nil, err
	}
	defer c.Wipe()
	b, err := c.Marshal(k)
	if err != nil {
		m.count(&m.stats.Failed)
		return nil, err
	}
	m.count(&m.stats.Captured)
	m.cfg.Log.Info("ipsecmod: captured", "mn", mn, "kind", k.String(), "records", c.count(k), "octets", len(b))
	return b, nil
}

// CaptureAll reads every kind the module can (SAs and policies always;
// IKE SAs when a daemon is configured) into one context.
func (m *Module) CaptureAll(ctx context.Context, mn netip.Addr) (*Context, error) {
	all := &Context{}
	for k := KindSA; k < numKinds; k++ {
		c, err := m.capture(ctx, k, mn)
		if errors.Is(err, ErrNoContext) || errors.Is(err, ErrUnsupported) {
			continue
		}
		if err != nil {
			all.Wipe()
			return nil, err
		}
		all.Header = c.Header
		all.merge(c)
	}
	if !all.MN.IsValid() {
		return nil, fmt.Errorf("ipsecmod: capture MN %v: %w", mn, ErrNoContext)
	}
	return all, nil
}

func (m *Module) capture(ctx context.Context, k Kind, mn netip.Addr) (*Context, error) {
	if !mn.IsValid() {
		return nil, fmt.Errorf("ipsecmod: capture: no MN address: %w", ErrInvalid)
	}
	now := m.cfg.Now()
	c := &Context{Header: Header{MN: mn, AR: m.cfg.Address, Captured: now.Truncate(time.Second), Dialect: m.dialect()}}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.CallTimeout)
	defer cancel()
	switch k {
	case KindSA:
		sas, err := m.cfg.Kernel.SAsFor(cctx, mn)
		if err != nil {
			return nil, fmt.Errorf("ipsecmod: capture SAs of MN %v: %w", mn, err)
		}
		d := m.dialect()
		for _, e := range sas {
			c.SAs = append(c.SAs, saFrom(e, d, now))
			if !c.AR.IsValid() {
				c.AR = otherEnd(e, mn)
			}
		}
	case KindSP:
		ps, err := m.cfg.Kernel.PoliciesFor(cctx, mn)
		if err != nil {
			return nil, fmt.Errorf("ipsecmod: capture policies of MN %v: %w", mn, err)
		}
		for _, p := range ps {
			if p.Type == pfkey.PolicyIPsec || p.Type == pfkey.PolicyNone || p.Type == pfkey.PolicyDiscard {
				c.Policies = append(c.Policies, p)
			}
		}
	case KindIKEv1:
		if m.cfg.IKEv1 == nil {
			return nil, fmt.Errorf("ipsecmod: capture IKEv1 SA of MN %v: no racoon admin socket configured: %w", mn, ErrUnsupported)
		}
		sel := admin.Selector{Remote: netip.AddrPortFrom(mn, 0)}
		if m.cfg.Address.IsValid() {
			sel.Local = netip.AddrPortFrom(m.cfg.Address, 0)
		}
		pc, err := m.cfg.IKEv1.ExportPhase1(cctx, sel)
		if isNotExist(err) {
			return nil, fmt.Errorf("ipsecmod: capture IKEv1 SA of MN %v: racoon has no phase 1: %w", mn, ErrNoContext)
		}
		if err != nil {
			return nil, fmt.Errorf("ipsecmod: capture IKEv1 SA of MN %v: %w", mn, err)
		}
		c.IKEv1 = append(c.IKEv1, pc)
	case KindIKEv2:
		if m.cfg.IKEv2 == nil {
			return nil, fmt.Errorf("ipsecmod: capture IKEv2 SA of MN %v: no IKEv2 daemon configured: %w", mn, ErrUnsupported)
		}
		sas, err := m.cfg.IKEv2.ExportIKEv2(cctx, mn)
		if isNotExist(err) {
			return nil, fmt.Errorf("ipsecmod: capture IKEv2 SA of MN %v: %w: %w", mn, ErrNoContext, err)
		}
		if err != nil {
			return nil, fmt.Errorf("ipsecmod: capture IKEv2 SA of MN %v: %w", mn, err)
		}
		c.IKEv2 = sas
	default:
		return nil, fmt.Errorf("ipsecmod: capture: unknown kind %d: %w", int(k), ErrInvalid)
	}
	if c.count(k) == 0 {
		return nil, fmt.Errorf("ipsecmod: capture %v of MN %v: %w", k, mn, ErrNoContext)
	}
	return c, nil
}

func isNotExist(err error) bool {
	return err != nil && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH))
}

func otherEnd(e *pfkey.SAEntry, mn netip.Addr) netip.Addr {
	if sameAddr(e.Src, mn) {
		return e.Dst
	}
	return e.Src
}

// predict returns the nCoA to build for: the known one, or the predicted.
func (m *Module) predict(mn netip.Addr) netip.Addr {
	p := m.cfg.Predict
	if !p.IsValid() || p.Addr().Is4() != mn.Is4() || mn.Is4() || p.Bits() > 64 {
		return netip.Addr{}
	}
	a, b := p.Masked().Addr().As16(), mn.As16()
	copy(a[8:], b[8:])
	return netip.AddrFrom16(a)
}

// rewriter maps the MN's previous CoA to ncoa and the pAR's address to
// this router's.
func (m *Module) rewriter(h Header, ncoa netip.Addr) func(netip.Addr) netip.Addr {
	return addrMap(h.MN, ncoa, h.AR, m.cfg.Address)
}

func addrMap(oldMN, newMN, oldAR, newAR netip.Addr) func(netip.Addr) netip.Addr {
	return func(a netip.Addr) netip.Addr {
		switch {
		case newMN.IsValid() && sameAddr(a, oldMN):
			return newMN
		case newAR.IsValid() && oldAR.IsValid() && sameAddr(a, oldAR):
			return newAR
		}
		return a
	}
}

// rewritePolicy returns p with its host selectors and tunnel endpoints
// rewritten by rw.
func rewritePolicy(p *pfkey.PolicyEntry, rw func(netip.Addr) netip.Addr) *pfkey.PolicyEntry {
	q := p.Clone()
	q.ID = 0
	q.Current = pfkey.Lifetime{}
	if q.Src.IsSingleIP() {
		q.Src = netip.PrefixFrom(rw(q.Src.Addr()), q.Src.Bits())
	}
	if q.Dst.IsSingleIP() {
		q.Dst = netip.PrefixFrom(rw(q.Dst.Addr()), q.Dst.Bits())
	}
	for i := range q.Requests {
		r := &q.Requests[i]
		if r.Src.IsValid() {
			r.Src = netip.AddrPortFrom(rw(r.Src.Addr()), r.Src.Port())
		}
		if r.Dst.IsValid() {
			r.Dst = netip.AddrPortFrom(rw(r.Dst.Addr()), r.Dst.Port())
		}
	}
	return q
}

func (m *Module) count(p *uint64) {
	m.mu.Lock()
	*p++
	m.mu.Unlock()
}

// PreInstall takes one kind of a received context on the nAR (ncoa: the
// MN's new CoA when already known, as in reactive mode). What happens
// ahead of the CTAR:
//
//   - SAs: installed now, addresses rewritten, when the nCoA is known or
//     predicted (Config.Predict); SPI collisions are checked first. An SA
//     alone forwards nothing: without the MN's policies the nAR's discard
//     policy drops the MN's traffic, decapsulated or not.
//   - Policies: rewritten and given a priority that beats the nAR's
//     discard policies covering the MN (looked up now), but NOT installed:
//     installing them is what activation switches on.
//   - IKE SAs: kept in memory; imported into the IKE daemon at activation.
func (m *Module) PreInstall(ctx context.Context, k Kind, mn, ncoa netip.Addr, data []byte) error {
	err := m.preInstall(ctx, k, mn, ncoa, data)
	if err != nil {
		m.count(&m.stats.Failed)
		return err
	}
	m.count(&m.stats.PreInstalled)
	return nil
}

func (m *Module) preInstall(ctx context.Context, k Kind, mn, ncoa netip.Addr, data []byte) error {
	c, got, err := Unmarshal(data)
	if err != nil {
		return fmt.Errorf("ipsecmod: pre-install %v for MN %v: %w: %w", k, mn, ErrInvalid, err)
	}
	if c.count(got) > 0 && got != k {
		c.Wipe()
		return fmt.Errorf("ipsecmod: pre-install %v for MN %v: the context carries %v records: %w", k, mn, got, ErrInvalid)
	}
	if mn.IsValid() && !sameAddr(c.MN, mn) {
		c.Wipe()
		return fmt.Errorf("ipsecmod: pre-install %v for MN %v: the context is MN %v's: %w", k, mn, c.MN, ErrInvalid)
	}
	mn = c.MN
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[mn]
	if e == nil {
		e = &entry{mn: mn, ctx: &Context{Header: c.Header}, created: m.cfg.Now()}
		m.entries[mn] = e
		e.timer = time.AfterFunc(m.cfg.Lifetime, func() { m.expire(mn, e) })
	}
	if e.have[k] {
		// A repeated transfer replaces what came before.
		m.discardKind(ctx, e, k)
	}
	e.ctx.AR = c.AR
	records := c.count(k)
	e.ctx.merge(c)
	e.have[k], e.active[k] = true, false
	target := ncoa
	if !target.IsValid() {
		target = m.predict(mn)
	}
	if target.IsValid() {
		e.target = target
	}
	switch k {
	case KindSA:
		if e.target.IsValid() {
			if err := m.installSAs(ctx, e, e.target, true); err != nil {
				return err
			}
		} else if err := m.precheck(ctx, e); err != nil {
			return err
		}
	case KindSP:
		if e.target.IsValid() {
			if err := m.buildPolicies(ctx, e, e.target); err != nil {
				return err
			}
		} else if err := m.readDiscards(ctx, e); err != nil {
			return err
		}
	}
	m.cfg.Log.Info("ipsecmod: pre-installed", "mn", mn, "kind", k.String(), "ncoa", e.target,
		"sas_installed", len(e.sas), "records", records)
	return nil
}

// precheck reads the nAR's SAD while the nCoA is unknown and notes the
// SAs that collide on what is known already: under RuleSPI every SA, under
// RuleSPIDst those towards this router (the MN's outbound SAs, whose
// destination becomes the nAR), under RuleSPIDstSrc none (the nCoA is in
// every triplet). Activation then installs without reading the SAD; a
// collision that appears in between is still caught by the kernel's
// EEXIST under its own rule.
func (m *Module) precheck(ctx context.Context, e *entry) error {
	e.prechecked, e.preColl = false, nil
	if len(e.ctx.SAs) == 0 {
		e.prechecked = true
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.CallTimeout)
	defer cancel()
	rd, err := m.readSAD(cctx)
	if err != nil {
		return fmt.Errorf("ipsecmod: MN %v: read the SAD for collisions: %w", e.mn, err)
	}
	defer rd.close()
	rw := m.rewriter(e.ctx.Header, netip.Addr{})
	d := m.dialect()
	e.preColl = map[int]Collision{}
	for i, s := range e.ctx.SAs {
		ne, err := installEntry(s, d, rw)
		if err != nil {
			return fmt.Errorf("ipsecmod: MN %v: %w", e.mn, err)
		}
		ne.Wipe()
		known := m.cfg.Rule == RuleSPI || m.cfg.Rule == RuleSPIDst && !sameAddr(ne.Dst, e.mn)
		if !known {
			continue
		}
		h, err := rd.collision(cctx, ne)
		if err != nil {
			return fmt.Errorf("ipsecmod: MN %v: read the SAD for collisions: %w", e.mn, err)
		}
		if h != nil {
			e.preColl[i] = Collision{MN: e.mn, SA: ne.String(), With: h.String(), Rule: m.cfg.Rule, SPI: ne.SPI, Inbound: m.inbound(ne)}
		}
	}
	e.prechecked = true
	return nil
}

// readDiscards keeps the nAR's discard policies for the priority of the
// MN's policies at activation.
func (m *Module) readDiscards(ctx context.Context, e *entry) error {
	if m.cfg.PolicyPriority != 0 || len(e.ctx.Policies) == 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.CallTimeout)
	defer cancel()
	have, err := m.cfg.Kernel.Policies(cctx)
	if err != nil {
		return fmt.Errorf("ipsecmod: MN %v: read the SPD: %w", e.mn, err)
	}
	e.discards = nil
	for _, p := range have {
		if p.Type == pfkey.PolicyDiscard {
			e.discards = append(e.discards, p)
		}
	}
	e.haveDisc = true
	return nil
}

// installSAs installs the entry's SAs for the MN at ncoa (removing any
// installed for another address first), skipping those that collide:
// against a fresh read of the SAD when dump is set, else against the
// pre-check.
func (m *Module) installSAs(ctx context.Context, e *entry, ncoa netip.Addr, dump bool) error {
	m.removeSAs(ctx, e)
	cctx, cancel := context.WithTimeout(ctx, m.cfg.CallTimeout)
	defer cancel()
	var rd *sadReader
	if dump && len(e.ctx.SAs) > 0 {
		var err error
		if rd, err = m.readSAD(cctx); err != nil {
			return fmt.Errorf("ipsecmod: MN %v: read the SAD for collisions: %w", e.mn, err)
		}
		defer rd.close()
	}
	rw := m.rewriter(e.ctx.Header, ncoa)
	d := m.dialect()
	e.colls = nil
	for i, s := range e.ctx.SAs {
		ne, err := installEntry(s, d, rw)
		if err != nil {
			return fmt.Errorf("ipsecmod: MN %v: %w", e.mn, err)
		}
		if c, ok := e.preColl[i]; ok && !dump {
			c.SA = ne.String()
			m.collision(e, c)
			ne.Wipe()
			continue
		}
		h, err := rd.collision(cctx, ne)
		if err != nil {
			ne.Wipe()
			m.removeSAs(ctx, e)
			return fmt.Errorf("ipsecmod: MN %v: read the SAD for collisions: %w", e.mn, err)
		}
		if h != nil {
			m.collision(e, Collision{MN: e.mn, SA: ne.String(), With: h.String(), Rule: m.cfg.Rule, SPI: ne.SPI, Inbound: m.inbound(ne)})
			ne.Wipe()
			continue
		}
		err = m.cfg.Kernel.Add(cctx, ne)
		ne.Wipe()
		if isExist(err) {
			m.collision(e, Collision{MN: e.mn, SA: ne.String(), Rule: m.cfg.Rule, SPI: ne.SPI, Inbound: m.inbound(ne)})
			continue
		}
		if err != nil {
			m.removeSAs(ctx, e)
			return fmt.Errorf("ipsecmod: MN %v: install SA %v: %w", e.mn, ne, err)
		}
		e.sas = append(e.sas, ne)
	}
	e.target = ncoa
	return nil
}

// inbound reports whether an SA to install on this router is one of its
// inbound SAs (destination this router, source not).
func (m *Module) inbound(e *pfkey.SAEntry) bool {
	return m.cfg.Address.IsValid() && sameAddr(e.Dst, m.cfg.Address)
}

func findCollision(r LookupRule, have []*pfkey.SAEntry, cand *pfkey.SAEntry) *pfkey.SAEntry {
	for _, h := range have {
		if r.Collides(h, cand) {
			return h
		}
	}
	return nil
}

func (m *Module) collision(e *entry, c Collision) {
	e.colls = append(e.colls, c)
	m.stats.Collisions++
	m.recent = append(m.recent, c)
	if len(m.recent) > 32 {
		m.recent = m.recent[len(m.recent)-32:]
	}
	m.cfg.Log.Warn("ipsecmod: SPI collision", "mn", c.MN, "sa", c.SA, "with", c.With, "rule", c.Rule.String())
}

// removeSAs deletes the SAs this module installed for the entry.
func (m *Module) removeSAs(ctx context.Context, e *entry) {
	if len(e.sas) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.CallTimeout)
	defer cancel()
	for _, s := range e.sas {
		if err := m.cfg.Kernel.Delete(cctx, s.Type, s.Src, s.Dst, s.SPI); err != nil && !isNotExistK(err) {
			m.cfg.Log.Warn("ipsecmod: remove SA", "mn", e.mn, "sa", s.String(), "err", err)
		}
	}
	e.sas = nil
}

// buildPolicies rewrites the policies for ncoa and sets their priority.
func (m *Module) buildPolicies(ctx context.Context, e *entry, ncoa netip.Addr) error {
	rw := m.rewriter(e.ctx.Header, ncoa)
	var pols []*pfkey.PolicyEntry
	for _, p := range e.ctx.Policies {
		pols = append(pols, rewritePolicy(p, rw))
	}
	pols = adaptDirections(pols, e.ctx.Dialect, m.dialect())
	if m.cfg.PolicyPriority != 0 {
		for _, p := range pols {
			p.Priority = m.cfg.PolicyPriority
		}
	} else if len(pols) > 0 {
		have := e.discards
		if !e.haveDisc {
			cctx, cancel := context.WithTimeout(ctx, m.cfg.CallTimeout)
			var err error
			have, err = m.cfg.Kernel.Policies(cctx)
			cancel()
			if err != nil {
				return fmt.Errorf("ipsecmod: MN %v: read the SPD: %w", e.mn, err)
			}
		}
		for _, p := range pols {
			beatDiscard(p, have)
		}
	}
	e.pols, e.polFor = pols, ncoa
	return nil
}

// beatDiscard lowers p's priority value (lower wins, on Linux and
// FreeBSD; between equal priorities the older policy wins) below that of
// every discard policy of the same direction whose selector covers p's.
func beatDiscard(p *pfkey.PolicyEntry, have []*pfkey.PolicyEntry) {
	for _, q := range have {
		if q.Type != pfkey.PolicyDiscard || q.Dir != p.Dir {
			continue
		}
		if !covers(q.Src, p.Src) || !covers(q.Dst, p.Dst) {
			continue
		}
		if q.Proto != pfkey.ProtoAny && q.Proto != 0 && q.Proto != p.Proto {
			continue
		}
		if p.Priority >= q.Priority && q.Priority > 0 {
			p.Priority = q.Priority - 1
		}
	}
}

func covers(outer, inner netip.Prefix) bool {
	return outer.Addr().Is4() == inner.Addr().Is4() && outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// Activate switches the MN's context of one kind on (the CTAR arrived;
// ncoa is the MN's new CoA, or invalid to use the predicted one):
//
//   - SAs: nothing to do when they were installed for this nCoA; otherwise
//     (no or wrong prediction) they are installed now.
//   - Policies: installed (SADB_X_SPDADD, one message per policy): from
//     this moment the nAR forwards the MN's traffic through the tunnel.
//   - IKEv1 SAs: imported into racoon with the new addresses, so that the
//     MN can rekey with a quick mode only.
//
// A collision makes the SA kind fail with ErrCollision after asking racoon
// for a full exchange with the MN (IKEv1 has no in-band SPI repair).
func (m *Module) Activate(ctx context.Context, k Kind, mn, ncoa netip.Addr) error {
	err := m.activate(ctx, k, mn, ncoa)
	if err != nil && !errors.Is(err, ErrCollision) {
		m.count(&m.stats.Failed)
		return err
	}
	m.count(&m.stats.Activated)
	return err
}

func (m *Module) activate(ctx context.Context, k Kind, mn, ncoa netip.Addr) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[mn]
	if e == nil || !e.have[k] {
		return fmt.Errorf("ipsecmod: activate %v for MN %v: nothing pre-installed: %w", k, mn, ErrNoContext)
	}
	if e.active[k] {
		return nil // repeated CTAR
	}
	if !ncoa.IsValid() {
		ncoa = e.target
	}
	if !ncoa.IsValid() {
		return fmt.Errorf("ipsecmod: activate %v for MN %v: new care-of address unknown: %w", k, mn, ErrInvalid)
	}
	var err error
	switch k {
	case KindSA:
		err = m.ensureSAs(ctx, e, ncoa)
		if err == nil && len(e.colls) > 0 && (e.have[KindIKEv2] || len(e.ikev2SPIs) > 0) && m.cfg.IKEv2 != nil && m.ikev2Repairs(e) {
			// IKEv2 repairs in band: the IKEv2 kind's activation sends
			// UPDATE_SPI for these SPIs (Algorithm 1); iked installs the
			// children under their new SPIs.
			m.cfg.Log.Warn("ipsecmod: SPI collision left to IKEv2 UPDATE_SPI", "mn", mn, "sas", len(e.colls))
		} else if err == nil && len(e.colls) > 0 {
			m.fallback(ctx, e, ncoa)
			err = fmt.Errorf("ipsecmod: activate SAs for MN %v: %d SA(s) not installed, first %v: %w", mn, len(e.colls), e.colls[0], ErrCollision)
		}
	case KindSP:
		if e.polFor != ncoa || e.pols == nil {
			err = m.buildPolicies(ctx, e, ncoa)
		}
		if err == nil {
			err = m.installPolicies(ctx, e)
		}
	case KindIKEv1:
		err = m.importIKEv1(ctx, e, ncoa)
	case KindIKEv2:
		if e.have[KindSA] && !e.active[KindSA] {
			// The SA kind's activation may come after this one: install
			// its SAs now so that the collisions UPDATE_SPI repairs are
			// known (the SA kind's activation then finds them in place).
			err = m.ensureSAs(ctx, e, ncoa)
		}
		if err == nil {
			err = m.importIKEv2(ctx, e, ncoa)
		}
	}
	if err != nil && !errors.Is(err, ErrCollision) {
		return err
	}
	e.active[k] = true
	m.wipeKind(e, k)
	m.cfg.Log.Info("ipsecmod: activated", "mn", mn, "kind", k.String(), "ncoa", ncoa)
	if e.allActive() {
		// Live: the kernel and the IKE daemon own the state now. Keep a
		// summary for the status output and forget the entry.
		m.done = append(m.done, m.entryStatus(e))
		if len(m.done) > 16 {
			m.done = m.done[len(m.done)-16:]
		}
		m.dropIfDone(e)
	}
	return err
}

// ensureSAs installs the entry's SAs for ncoa unless they are already
// (or were found colliding) for it.
func (m *Module) ensureSAs(ctx context.Context, e *entry, ncoa netip.Addr) error {
	if len(e.sas) == 0 && len(e.colls) == 0 || e.target != ncoa {
		// Fresh read of the SAD only when nothing was checked ahead.
		return m.installSAs(ctx, e, ncoa, !e.prechecked || len(e.sas) > 0)
	}
	return nil
}

func (e *entry) allActive() bool {
	for k := KindSA; k < numKinds; k++ {
		if e.have[k] && !e.active[k] {
			return false
		}
	}
	return true
}

// wipeKind drops the keys of one kind once it is live (the kernel or the
// IKE daemon holds them now).
func (m *Module) wipeKind(e *entry, k Kind) {
	switch k {
	case KindSA:
		if e.have[KindIKEv2] && !e.active[KindIKEv2] {
			// The IKEv2 import still needs the children's keys (iked
			// installs a child whose SPI UPDATE_SPI changes): wiped with
			// the IKEv2 kind.
			return
		}
		for _, s := range e.ctx.SAs {
			s.Wipe()
		}
		e.ctx.SAs = nil
	case KindIKEv1:
		for _, p := range e.ctx.IKEv1 {
			p.Wipe()
		}
		e.ctx.IKEv1 = nil
	case KindIKEv2:
		for _, s := range e.ctx.IKEv2 {
			s.Wipe()
		}
		e.ctx.IKEv2 = nil
		if !e.have[KindSA] || e.active[KindSA] {
			m.wipeKind(e, KindSA)
		}
	}
}

func (m *Module) installPolicies(ctx context.Context, e *entry) error {
	cctx, cancel := context.WithTimeout(ctx, m.cfg.CallTimeout)
	defer cancel()
	for i, p := range e.pols {
		err := m.cfg.Kernel.SPDAdd(cctx, p)
		if isExist(err) {
			err = m.cfg.Kernel.SPDUpdate(cctx, p)
		}
		if err != nil {
			for _, q := range e.pols[:i] {
				_ = m.cfg.Kernel.SPDDelete(cctx, q)
			}
			return fmt.Errorf("ipsecmod: activate policies for MN %v: install %v: %w", e.mn, p, err)
		}
	}
	return nil
}

func (m *Module) importIKEv1(ctx context.Context, e *entry, ncoa netip.Addr) error {
	if m.cfg.IKEv1 == nil {
		return fmt.Errorf("ipsecmod: activate IKEv1 SA for MN %v: no racoon admin socket configured: %w", e.mn, ErrUnsupported)
	}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.CallTimeout)
	defer cancel()
	for _, pc := range e.ctx.IKEv1 {
		local := netip.AddrPortFrom(m.localAddr(e, pc.Local.Addr()), pc.Local.Port())
		remote := netip.AddrPortFrom(ncoa, pc.Remote.Port())
		err := m.cfg.IKEv1.ImportPhase1(cctx, pc, local, remote)
		if errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.EEXIST) {
			m.collision(e, Collision{MN: e.mn, SA: "isakmp " + pc.Index.String(), Rule: m.cfg.Rule})
			m.fallback(ctx, e, ncoa)
			return fmt.Errorf("ipsecmod: activate IKEv1 SA %v for MN %v: cookies in use in racoon: %w", pc.Index, e.mn, ErrCollision)
		}
		if err != nil {
			return fmt.Errorf("ipsecmod: activate IKEv1 SA %v for MN %v: import into racoon: %w", pc.Index, e.mn, err)
		}
	}
	return nil
}

func (m *Module) localAddr(e *entry, old netip.Addr) netip.Addr {
	if m.cfg.Address.IsValid() {
		return m.cfg.Address
	}
	return old
}

func (m *Module) importIKEv2(ctx context.Context, e *entry, ncoa netip.Addr) error {
	if m.cfg.IKEv2 == nil {
		return fmt.Errorf("ipsecmod: activate IKEv2 SA for MN %v: no IKEv2 daemon configured: %w", e.mn, ErrUnsupported)
	}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.CallTimeout)
	defer cancel()
	for _, sa := range e.ctx.IKEv2 {
		local := netip.AddrPortFrom(m.localAddr(e, sa.Local.Addr()), sa.Local.Port())
		remote := netip.AddrPortFrom(ncoa, sa.Remote.Port())
		if e.ikev2SPIs == nil {
			e.ikev2SPIs = map[uint32]bool{}
		}
		for _, ch := range sa.Children {
			e.ikev2SPIs[ch.SPIIn] = true
		}
		var coll []uint32
		for _, c := range e.colls {
			for _, ch := range sa.Children {
				if c.Inbound && c.SPI == ch.SPIIn {
					coll = append(coll, c.SPI)
				}
			}
		}
		keys := map[uint32]pfkey.Keys{}
		for _, r := range e.ctx.SAs {
			if r.Entry != nil && r.Entry.Type == pfkey.SATypeESP {
				keys[r.Entry.SPI] = r.Entry.Keys
			}
		}
		if err := m.cfg.IKEv2.ImportIKEv2(cctx, &IKEv2Import{SA: sa, Local: local, Remote: remote, ESPColliding: coll, Keys: keys}); err != nil {
			return fmt.Errorf("ipsecmod: activate %v for MN %v: %w", sa, e.mn, err)
		}
		if len(coll) > 0 {
			m.cfg.Log.Warn("ipsecmod: IKEv2 UPDATE_SPI started for colliding SPIs", "mn", e.mn, "spis", len(coll))
		}
	}
	return nil
}

// ikev2Repairs reports whether every collision of the entry is an inbound
// SA of a transferred IKEv2 child, hence repairable by UPDATE_SPI.
func (m *Module) ikev2Repairs(e *entry) bool {
	for _, c := range e.colls {
		ok := c.Inbound && e.ikev2SPIs[c.SPI]
		for _, sa := range e.ctx.IKEv2 {
			for _, ch := range sa.Children {
				if c.Inbound && c.SPI == ch.SPIIn {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return len(e.colls) > 0
}

// fallback asks racoon for a full exchange with the MN: a quick mode for
// the MN's outbound policy (racoon runs a phase 1 first when it has none),
// or a phase 1 when there is no such policy.
func (m *Module) fallback(ctx context.Context, e *entry, ncoa netip.Addr) {
	if m.cfg.IKEv1 == nil {
		m.cfg.Log.Error("ipsecmod: SPI collision and no racoon to renegotiate", "mn", e.mn)
		return
	}
	er := &admin.EstablishRequest{Proto: admin.ProtoISAKMP,
		Indexes: admin.Indexes{Src: netip.AddrPortFrom(m.cfg.Address, 0), Dst: netip.AddrPortFrom(ncoa, 0)}}
	for _, p := range e.pols {
		if p.Dir == pfkey.DirOutbound && p.Type == pfkey.PolicyIPsec {
			er = &admin.EstablishRequest{Proto: admin.ProtoESP, Indexes: admin.Indexes{
				PrefS: uint8(p.Src.Bits()), PrefD: uint8(p.Dst.Bits()), ULProto: uint8(p.Proto),
				Src: netip.AddrPortFrom(p.Src.Addr(), p.SrcPort), Dst: netip.AddrPortFrom(p.Dst.Addr(), p.DstPort)}}
			break
		}
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.CallTimeout)
	defer cancel()
	m.stats.Fallbacks++
	if err := m.cfg.IKEv1.EstablishSA(cctx, er); err != nil {
		m.cfg.Log.Error("ipsecmod: full IKEv1 exchange after SPI collision not started", "mn", e.mn, "err", err)
		return
	}
	m.cfg.Log.Warn("ipsecmod: SPI collision: asked racoon for a full IKEv1 exchange", "mn", e.mn, "ncoa", ncoa, "proto", er.Proto.String())
}

// Discard removes what is pre-installed of one kind for the MN (CTC, or
// the context's lifetime ran out). Live (activated) kinds stay.
func (m *Module) Discard(ctx context.Context, k Kind, mn netip.Addr) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[mn]
	if e == nil || !e.have[k] {
		return nil
	}
	if !e.active[k] {
		m.discardKind(ctx, e, k)
		m.stats.Discarded++
		m.cfg.Log.Info("ipsecmod: discarded", "mn", mn, "kind", k.String())
	}
	m.dropIfDone(e)
	return nil
}

func (m *Module) discardKind(ctx context.Context, e *entry, k Kind) {
	switch k {
	case KindSA:
		m.removeSAs(ctx, e)
		e.colls = nil
	case KindSP:
		e.pols = nil
	}
	m.wipeKind(e, k)
	if k == KindSP {
		e.ctx.Policies = nil
	}
	e.have[k] = false
}

func (m *Module) dropIfDone(e *entry) {
	for k := KindSA; k < numKinds; k++ {
		if e.have[k] && !e.active[k] {
			return
		}
	}
	if e.timer != nil {
		e.timer.Stop()
	}
	e.ctx.Wipe()
	if m.entries[e.mn] == e {
		delete(m.entries, e.mn)
	}
}

func (m *Module) expire(mn netip.Addr, e *entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries[mn] != e {
		return
	}
	n := 0
	for k := KindSA; k < numKinds; k++ {
		if e.have[k] && !e.active[k] {
			m.discardKind(context.Background(), e, k)
			n++
		}
	}
	if n > 0 {
		m.stats.Expired++
		m.cfg.Log.Info("ipsecmod: pre-installed context expired", "mn", mn, "after", m.cfg.Lifetime)
	}
	m.dropIfDone(e)
}

// Transferred is the pAR's notice after the nAR's CTDR (status 0:
// success). With DeleteOnTransfer the MN's SAs (kind SA) and policies
// (kind SP) are deleted; otherwise they are kept until their lifetimes.
// IKE SAs are always left to the IKE daemon: deleting them would send the
// MN a DELETE for the SA it now shares with the nAR.
func (m *Module) Transferred(ctx context.Context, k Kind, mn netip.Addr, status uint8) error {
	if status != 0 || !m.cfg.DeleteOnTransfer {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.CallTimeout)
	defer cancel()
	switch k {
	case KindSA:
		sas, err := m.cfg.Kernel.SAsFor(cctx, mn)
		if err != nil {
			return fmt.Errorf("ipsecmod: release SAs of MN %v: %w", mn, err)
		}
		for _, s := range sas {
			s.Wipe()
			if err := m.cfg.Kernel.Delete(cctx, s.Type, s.Src, s.Dst, s.SPI); err != nil && !isNotExistK(err) {
				return fmt.Errorf("ipsecmod: release SA %v of MN %v: %w", s, mn, err)
			}
		}
	case KindSP:
		ps, err := m.cfg.Kernel.PoliciesFor(cctx, mn)
		if err != nil {
			return fmt.Errorf("ipsecmod: release policies of MN %v: %w", mn, err)
		}
		for _, p := range ps {
			if err := m.cfg.Kernel.SPDDelete(cctx, p); err != nil && !isNotExistK(err) {
				return fmt.Errorf("ipsecmod: release policy %v of MN %v: %w", p, mn, err)
			}
		}
	default:
		return nil
	}
	m.count(&m.stats.Released)
	m.cfg.Log.Info("ipsecmod: released after transfer", "mn", mn, "kind", k.String())
	return nil
}

// Status is a snapshot for the status command (no keys).
type Status struct {
	Stats      Stats
	Entries    []EntryStatus // contexts pre-installed, not all live yet
	Activated  []EntryStatus // the last contexts that went live
	Collisions []string
	IKEv2      []string // the IKE daemon's last moves after a transfer (MOBIKE, UPDATE_SPI)
}

// EntryStatus describes one MN's context on this router.
type EntryStatus struct {
	MN, PAR, NCoA netip.Addr
	Kinds         []string // "ipsec-sa:pre", "ipsec-sp:active", ...
	SAs           []string // installed SAs
	Policies      []string // policies (installed when ipsec-sp is active)
	Collisions    []string
	Age           time.Duration
}

// Status returns the module's state.
func (m *Module) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := Status{Stats: m.stats}
	for _, c := range m.recent {
		st.Collisions = append(st.Collisions, c.String())
	}
	for _, e := range m.entries {
		st.Entries = append(st.Entries, m.entryStatus(e))
	}
	sort.Slice(st.Entries, func(i, j int) bool { return st.Entries[i].MN.Less(st.Entries[j].MN) })
	st.Activated = append(st.Activated, m.done...)
	if o, ok := m.cfg.IKEv2.(interface{ Outcomes() []IKEv2Outcome }); ok {
		for _, x := range o.Outcomes() {
			st.IKEv2 = append(st.IKEv2, x.String())
		}
	}
	return st
}

func (m *Module) entryStatus(e *entry) EntryStatus {
	es := EntryStatus{MN: e.mn, PAR: e.ctx.AR, NCoA: e.target, Age: m.cfg.Now().Sub(e.created).Truncate(time.Millisecond)}
	for k := KindSA; k < numKinds; k++ {
		if e.have[k] {
			s := "pre"
			if e.active[k] {
				s = "active"
			}
			es.Kinds = append(es.Kinds, k.String()+":"+s)
		}
	}
	for _, s := range e.sas {
		es.SAs = append(es.SAs, s.String())
	}
	for _, p := range e.pols {
		es.Policies = append(es.Policies, p.String())
	}
	for _, c := range e.colls {
		es.Collisions = append(es.Collisions, c.String())
	}
	return es
}

// adaptDirections fits the policies of a system of dialect from to one of
// dialect to: Linux checks forwarded packets against forward policies,
// FreeBSD against inbound ones (it has no forward direction). From FreeBSD
// to Linux each inbound IPsec policy gets a forward twin; from Linux to
// FreeBSD forward policies are dropped.
func adaptDirections(pols []*pfkey.PolicyEntry, from, to *pfkey.Dialect) []*pfkey.PolicyEntry {
	if from == nil || to == nil || from == to {
		return pols
	}
	var out []*pfkey.PolicyEntry
	switch {
	case to == pfkey.FreeBSD:
		for _, p := range pols {
			if p.Dir != pfkey.DirForward {
				out = append(out, p)
			}
		}
	case to == pfkey.Linux:
		out = pols
		for _, p := range pols {
			if p.Dir != pfkey.DirInbound || p.Type != pfkey.PolicyIPsec {
				continue
			}
			f := p.Clone()
			f.Dir = pfkey.DirForward
			dup := false
			for _, q := range pols {
				if sameSelector(q, f) {
					dup = true
				}
			}
			if !dup {
				out = append(out, f)
			}
		}
	default:
		return pols
	}
	return out
}
