package stress

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"syscall"

	"github.com/ikectx/ikectx/ikev2"
	"github.com/ikectx/ikectx/ipsecmod"
	"github.com/ikectx/ikectx/pfkey"
)

// SAD is an in-memory security association and policy database that
// obeys one SAD lookup rule (paper section 3.2.3): two SAs the rule
// cannot tell apart are never both in it (Add answers EEXIST, as a kernel
// does under its own rule), and GETSPI picks an SPI free under the rule,
// from a configurable range. It serves ipsecmod (the ipsecmod.Kernel
// methods) and, through IKE, an ikev2.Manager (ikev2.Kernel), the way one
// kernel serves both ipsec-cxtpd and iked.
type SAD struct {
	// Rule is the lookup rule in force (Lookup). Kernel, when set, is the
	// looser one the kernel itself enforces on Add and GETSPI: a Linux nAR
	// (SPI and destination) configured with sad_lookup = spi, whose GETSPI
	// can hand out an SPI that collides under the configured rule.
	Rule   ipsecmod.LookupRule
	Kernel ipsecmod.LookupRule
	// Min and Max bound GETSPI (SADB_GETSPI's SPI range); 0, 0 is
	// [0x100, 0xffffffff].
	Min, Max uint32

	mu    sync.Mutex
	rnd   *rand.Rand
	sas   []*pfkey.SAEntry
	pols  []*pfkey.PolicyEntry
	reqid uint32
	ike   *sadIKE
}

// NewSAD returns an empty SAD under rule whose random choices come from
// seed.
func NewSAD(rule ipsecmod.LookupRule, seed uint64) *SAD {
	return &SAD{Rule: rule, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), reqid: 0x100}
}

func errno(e syscall.Errno, format string, args ...any) error {
	return fmt.Errorf("stress SAD: "+format+": %w", append(args, e)...)
}

// collides reports whether a is indistinguishable from b under the
// rule: the SA a lookup for b could find instead of b.
func (s *SAD) collides(a, b *pfkey.SAEntry) bool {
	if s.Kernel != 0 {
		return s.Kernel.Collides(a, b)
	}
	return s.Rule.Collides(a, b)
}

// find returns the index of the SA with exactly this tuple, or -1.
func (s *SAD) find(src, dst netip.Addr, spi uint32) int {
	for i, e := range s.sas {
		if e.SPI == spi && e.Src == src && e.Dst == dst {
			return i
		}
	}
	return -1
}

// Lookup is the SAD's inbound lookup under its rule for an ESP packet
// with this SPI from src to dst: every SA the rule matches (more than one
// means the rule cannot tell them apart, which the SAD never allows).
func (s *SAD) Lookup(spi uint32, src, dst netip.Addr) []*pfkey.SAEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	probe := &pfkey.SAEntry{Type: pfkey.SATypeESP, SPI: spi, Src: src, Dst: dst}
	return pfkey.Clones(s.sas, func(e *pfkey.SAEntry) bool { return e.State != pfkey.SAStateLarval && s.Rule.Collides(e, probe) })
}

// Len returns the number of SAs (larval ones included) and policies.
func (s *SAD) Len() (sas, policies int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sas), len(s.pols)
}

// --- ipsecmod.Kernel ---

// Dialect is the native PF_KEY dialect (the records ipsecmod builds).
func (s *SAD) Dialect() *pfkey.Dialect { return pfkey.Native }

// SAs returns copies of every SA (keys included) of type st (Unspec: all).
func (s *SAD) SAs(_ context.Context, st pfkey.SAType) ([]*pfkey.SAEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return pfkey.Clones(s.sas, pfkey.OfType(st)), nil
}

// SAsFor returns copies of the SAs from or to addr.
func (s *SAD) SAsFor(_ context.Context, addr netip.Addr) ([]*pfkey.SAEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return pfkey.Clones(s.sas, func(e *pfkey.SAEntry) bool { return e.State != pfkey.SAStateLarval && e.Involves(addr) }), nil
}

// Policies returns copies of every policy.
func (s *SAD) Policies(context.Context) ([]*pfkey.PolicyEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return pfkey.Clones(s.pols, nil), nil
}

// PoliciesFor returns copies of the policies naming addr as a host.
func (s *SAD) PoliciesFor(_ context.Context, addr netip.Addr) ([]*pfkey.PolicyEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return pfkey.Clones(s.pols, func(p *pfkey.PolicyEntry) bool { return p.InvolvesHost(addr) }), nil
}

// Add installs a copy of e; EEXIST when an SA already there collides with
// it under the rule.
func (s *SAD) Add(_ context.Context, e *pfkey.SAEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.add(e)
}

func (s *SAD) add(e *pfkey.SAEntry) error {
	for _, h := range s.sas {
		if s.collides(h, e) || h.SPI == e.SPI && h.Src == e.Src && h.Dst == e.Dst {
			return errno(syscall.EEXIST, "add %v->%v spi 0x%08x (rule %v)", e.Src, e.Dst, e.SPI, s.Rule)
		}
	}
	c := e.Clone()
	if c.State == pfkey.SAStateLarval {
		c.State = pfkey.SAStateMature
	}
	s.sas = append(s.sas, c)
	return nil
}

// Delete removes the SA with exactly this source, destination and SPI.
func (s *SAD) Delete(_ context.Context, st pfkey.SAType, src, dst netip.Addr, spi uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(src, dst, spi)
	if i < 0 {
		return errno(syscall.ESRCH, "delete %v->%v spi 0x%08x", src, dst, spi)
	}
	s.sas[i].Wipe()
	s.sas = append(s.sas[:i], s.sas[i+1:]...)
	return nil
}

func samePolicy(a, b *pfkey.PolicyEntry) bool {
	return a.Src == b.Src && a.Dst == b.Dst && a.SrcPort == b.SrcPort && a.DstPort == b.DstPort && a.Proto == b.Proto && a.Dir == b.Dir
}

func (s *SAD) findPolicy(p *pfkey.PolicyEntry) int {
	for i, h := range s.pols {
		if samePolicy(h, p) {
			return i
		}
	}
	return -1
}

// SPDAdd adds a policy; EEXIST for the same selector and direction.
func (s *SAD) SPDAdd(_ context.Context, p *pfkey.PolicyEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.findPolicy(p) >= 0 {
		return errno(syscall.EEXIST, "spdadd %v", p)
	}
	s.pols = append(s.pols, p.Clone())
	return nil
}

// SPDUpdate replaces the policy of the same selector and direction.
func (s *SAD) SPDUpdate(_ context.Context, p *pfkey.PolicyEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.findPolicy(p)
	if i < 0 {
		return errno(syscall.ENOENT, "spdupdate %v", p)
	}
	s.pols[i] = p.Clone()
	return nil
}

// SPDDelete removes the policy of the same selector and direction.
func (s *SAD) SPDDelete(_ context.Context, p *pfkey.PolicyEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.findPolicy(p)
	if i < 0 {
		return errno(syscall.ENOENT, "spddelete %v", p)
	}
	s.pols = append(s.pols[:i], s.pols[i+1:]...)
	return nil
}

var _ ipsecmod.Kernel = (*SAD)(nil)

// --- GETSPI ---

// GetSPI reserves an SPI in [Min, Max] free under the rule for an SA
// from src to dst (a larval SA, as SADB_GETSPI leaves): random tries
// first, then a scan; an error when the range is full.
func (s *SAD) GetSPI(src, dst netip.Addr) (uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lo, hi := s.Min, s.Max
	if lo == 0 && hi == 0 {
		lo, hi = 0x100, 0xffffffff
	}
	if lo < 0x100 {
		lo = 0x100
	}
	if hi < lo {
		return 0, errno(syscall.EINVAL, "getspi range [0x%x, 0x%x]", lo, hi)
	}
	free := func(spi uint32) bool {
		probe := &pfkey.SAEntry{Type: pfkey.SATypeESP, SPI: spi, Src: src, Dst: dst}
		for _, h := range s.sas {
			if s.collides(h, probe) || h.SPI == spi && h.Src == src && h.Dst == dst {
				return false
			}
		}
		return true
	}
	n := uint64(hi-lo) + 1
	pick := func(spi uint32) uint32 {
		s.sas = append(s.sas, &pfkey.SAEntry{Type: pfkey.SATypeESP, SPI: spi, Src: src, Dst: dst, State: pfkey.SAStateLarval})
		return spi
	}
	for range 64 {
		if spi := lo + uint32(s.rnd.Uint64N(n)); free(spi) {
			return pick(spi), nil
		}
	}
	start := s.rnd.Uint64N(n)
	for i := uint64(0); i < n && i < 1<<20; i++ {
		if spi := lo + uint32((start+i)%n); free(spi) {
			return pick(spi), nil
		}
	}
	return 0, errno(syscall.EAGAIN, "getspi %v->%v: no free SPI in [0x%x, 0x%x] under rule %v", src, dst, lo, hi, s.Rule)
}

// --- ikev2.Kernel ---

// IKE returns the view of the SAD an ikev2.Manager installs its children
// through: GETSPI, the inbound SA completed and the outbound added, the
// tunnel policies (out, in) added or updated; deletion of a child's SAs
// spares an SA that is not the child's (same tuple but other keys, or
// another source under a looser rule: what a context transfer whose SPI
// collided leaves in place).
func (s *SAD) IKE() ikev2.Kernel {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ike == nil {
		s.ike = &sadIKE{s: s, policies: map[string]*policySet{}}
	}
	return s.ike
}

type sadIKE struct {
	s        *SAD
	policies map[string]*policySet
}

type policySet struct {
	refs    int
	entries []*pfkey.PolicyEntry
}

func (k *sadIKE) AllocSPI(local, remote netip.Addr) (uint32, error) {
	return k.s.GetSPI(remote, local)
}

func childEntries(sa *ikev2.IKESA, c *ikev2.ChildSA) (in, out *pfkey.SAEntry) {
	mode := pfkey.ModeTunnel
	if c.Transport {
		mode = pfkey.ModeTransport
	}
	l, r := sa.Local.Addr(), sa.Remote.Addr()
	mk := func(spi uint32, src, dst netip.Addr, ek, ak []byte) *pfkey.SAEntry {
		return &pfkey.SAEntry{Type: pfkey.SATypeESP, SPI: spi, Src: src, Dst: dst, Mode: mode, ReqID: c.ReqID, Replay: 32,
			State: pfkey.SAStateMature, Auth: pfkey.AuthSHA1HMAC, Enc: pfkey.EncAESCBC,
			Keys: pfkey.Keys{Enc: append([]byte(nil), ek...), Auth: append([]byte(nil), ak...)}}
	}
	return mk(c.SPIIn, r, l, c.EncIn, c.IntegIn), mk(c.SPIOut, l, r, c.EncOut, c.IntegOut)
}

func polKey(sa *ikev2.IKESA, c *ikev2.ChildSA) string {
	return fmt.Sprintf("%s|%v|%v|%v", sa.Conf.Name, sa.Remote.Addr(), c.LocalTS, c.RemoteTS)
}

func (k *sadIKE) Install(sa *ikev2.IKESA, c *ikev2.ChildSA) error {
	s := k.s
	s.mu.Lock()
	defer s.mu.Unlock()
	key := polKey(sa, c)
	if c.ReqID == 0 {
		if ps := k.policies[key]; ps != nil && len(ps.entries) > 0 {
			c.ReqID = ps.entries[0].Requests[0].ReqID
		} else {
			s.reqid++
			c.ReqID = s.reqid
		}
	}
	in, out := childEntries(sa, c)
	defer in.Wipe()
	defer out.Wipe()
	if i := s.find(in.Src, in.Dst, in.SPI); i >= 0 && s.sas[i].State == pfkey.SAStateLarval {
		s.sas[i] = in.Clone() // SADB_UPDATE of the larval SA
	} else if err := s.add(in); err != nil {
		return fmt.Errorf("inbound SA: %w", err)
	}
	if err := s.add(out); err != nil {
		return fmt.Errorf("outbound SA: %w", err)
	}
	ps := k.policies[key]
	if ps == nil {
		ps = &policySet{}
		mode := pfkey.ModeTunnel
		if c.Transport {
			mode = pfkey.ModeTransport
		}
		l, r := sa.Local.Addr(), sa.Remote.Addr()
		for _, lt := range c.LocalTS {
			for _, rt := range c.RemoteTS {
				ps.entries = append(ps.entries, pfkey.ESPPolicies(lt.Prefix(), rt.Prefix(), l, r, mode, c.ReqID, false)...)
			}
		}
		for _, p := range ps.entries {
			if i := s.findPolicy(p); i >= 0 {
				s.pols[i] = p.Clone()
			} else {
				s.pols = append(s.pols, p.Clone())
			}
		}
		k.policies[key] = ps
	}
	ps.refs++
	return nil
}

// owned reports whether the SA at index i is the child's: same tuple and,
// unless it is larval, the child's keys.
func owned(e *pfkey.SAEntry, want *pfkey.SAEntry) bool {
	if e.State == pfkey.SAStateLarval {
		return true
	}
	return bytes.Equal(e.Keys.Enc, want.Keys.Enc) && bytes.Equal(e.Keys.Auth, want.Keys.Auth)
}

func (k *sadIKE) Delete(sa *ikev2.IKESA, c *ikev2.ChildSA) error {
	s := k.s
	s.mu.Lock()
	defer s.mu.Unlock()
	in, out := childEntries(sa, c)
	defer in.Wipe()
	defer out.Wipe()
	for _, e := range []*pfkey.SAEntry{in, out} {
		if e.SPI == 0 {
			continue
		}
		if i := s.find(e.Src, e.Dst, e.SPI); i >= 0 && owned(s.sas[i], e) {
			s.sas[i].Wipe()
			s.sas = append(s.sas[:i], s.sas[i+1:]...)
		}
	}
	key := polKey(sa, c)
	if ps := k.policies[key]; ps != nil && c.SPIOut != 0 {
		ps.refs--
		if ps.refs <= 0 {
			for _, p := range ps.entries {
				if i := s.findPolicy(p); i >= 0 {
					s.pols = append(s.pols[:i], s.pols[i+1:]...)
				}
			}
			delete(k.policies, key)
		}
	}
	return nil
}

func (k *sadIKE) Move(sa *ikev2.IKESA, c *ikev2.ChildSA, oldLocal, oldRemote netip.Addr) error {
	return ikev2.Reinstall(k, sa, c, oldLocal, oldRemote)
}

func (k *sadIKE) InUse(spi uint32, local netip.Addr) bool {
	s := k.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.sas {
		if e.SPI == spi && (s.Rule == ipsecmod.RuleSPI || e.Dst == local) {
			return true
		}
	}
	return false
}

var _ ikev2.Kernel = (*sadIKE)(nil)

func netipP(s string) netip.Prefix { return netip.MustParsePrefix(s) }
