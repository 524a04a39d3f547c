package ipsecmod

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikectx/ikectx/cxtp"
	"github.com/ikectx/ikectx/ipsecmod/ikev2ctx"
	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
)

// Kind is one of the four contexts the module moves, each under its own FPT.
type Kind int

// The kinds, in the order the engine handles their FPTs by default.
const (
	KindSA Kind = iota
	KindSP
	KindIKEv1
	KindIKEv2
	numKinds
)

var kindNames = [...]string{"ipsec-sa", "ipsec-sp", "ikev1", "ikev2"}

func (k Kind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

func (k Kind) recType() uint8 {
	return [...]uint8{RecSA, RecSP, RecIKEv1, RecIKEv2}[k]
}

// FPTs are the Feature Profile Types of the four contexts. None is
// registered with IANA; the defaults are cxtp's unassigned-range values.
type FPTs struct {
	SA, SP, IKEv1, IKEv2 cxtp.FPT
}

// DefaultFPTs returns 0x8001 (SAs), 0x8002 (policies), 0x8003 (IKEv1),
// 0x8004 (IKEv2).
func DefaultFPTs() FPTs {
	return FPTs{SA: cxtp.FPTIPsecSA, SP: cxtp.FPTIPsecSP, IKEv1: cxtp.FPTIKEv1SA, IKEv2: cxtp.FPTIKEv2SA}
}

// Of returns the FPT of a kind.
func (f FPTs) Of(k Kind) cxtp.FPT {
	return [...]cxtp.FPT{f.SA, f.SP, f.IKEv1, f.IKEv2}[k]
}

// Kind returns the kind an FPT carries.
func (f FPTs) Kind(fpt cxtp.FPT) (Kind, bool) {
	for k := KindSA; k < numKinds; k++ {
		if f.Of(k) == fpt && fpt != 0 {
			return k, true
		}
	}
	return 0, false
}

// Validate checks the FPTs are distinct and not 0 (all) or 1 (MLD, the
// only registered one).
func (f FPTs) Validate() error {
	seen := map[cxtp.FPT]Kind{}
	for k := KindSA; k < numKinds; k++ {
		v := f.Of(k)
		if v == cxtp.FPTAll || v == cxtp.FPTMulticastMLD {
			return fmt.Errorf("ipsecmod: FPT %d for %v is reserved", v, k)
		}
		if o, dup := seen[v]; dup {
			return fmt.Errorf("ipsecmod: FPT %d used for both %v and %v", v, o, k)
		}
		seen[v] = k
	}
	return nil
}

// Context is an MN's IPsec/IKE context: SAD and SPD entries and the IKE
// SAs. It owns every key byte it holds; Wipe zeroes them.
type Context struct {
	Header
	SAs      []*SA
	Policies []*pfkey.PolicyEntry
	IKEv1    []*admin.Phase1Context
	IKEv2    []*ikev2ctx.SA
}

// Wipe zeroes all keys of the context.
func (c *Context) Wipe() {
	if c == nil {
		return
	}
	for _, s := range c.SAs {
		s.Wipe()
	}
	for _, p := range c.IKEv1 {
		p.Wipe()
	}
	for _, s := range c.IKEv2 {
		s.Wipe()
	}
}

// String summarises the context without keys.
func (c *Context) String() string {
	return fmt.Sprintf("context of MN %v at %v: %d SAs, %d policies, %d IKEv1 SAs, %d IKEv2 SAs",
		c.MN, c.AR, len(c.SAs), len(c.Policies), len(c.IKEv1), len(c.IKEv2))
}

func (c *Context) count(k Kind) int {
	return [...]int{len(c.SAs), len(c.Policies), len(c.IKEv1), len(c.IKEv2)}[k]
}

func (c *Context) appendRecord(b []byte, k Kind, i int) ([]byte, error) {
	switch k {
	case KindSA:
		return AppendSA(b, c.SAs[i])
	case KindSP:
		return AppendPolicy(b, c.Policies[i])
	case KindIKEv1:
		return AppendIKEv1(b, c.IKEv1[i])
	default:
		return AppendIKEv2(b, c.IKEv2[i])
	}
}

// Marshal encodes the part of c of kind k: the header record then one
// record per entry. The result holds keys: wipe it after use.
func (c *Context) Marshal(k Kind) ([]byte, error) {
	if k < 0 || k >= numKinds {
		return nil, fmt.Errorf("ipsecmod: marshal: unknown kind %d", int(k))
	}
	h := c.Header
	h.Count = c.count(k)
	if h.Count > 0xffff {
		return nil, fmt.Errorf("ipsecmod: %v: %d %v records, at most 65535", c, h.Count, k)
	}
	b := appendHeader(nil, h)
	for i := 0; i < h.Count; i++ {
		var err error
		if b, err = c.appendRecord(b, k, i); err != nil {
			clear(b)
			return nil, fmt.Errorf("ipsecmod: MN %v: %v record %d: %w", c.MN, k, i, err)
		}
	}
	return b, nil
}

// Unmarshal decodes a context written by Marshal (of any kind, possibly
// with up to 7 zero octets of padding after each record) and returns the
// context and the kind of its records.
func Unmarshal(b []byte) (*Context, Kind, error) {
	recs, err := splitRecords(b)
	if err != nil {
		return nil, 0, err
	}
	if len(recs) == 0 || recs[0].Type != RecHeader {
		return nil, 0, fmt.Errorf("ipsecmod: context does not start with a header record")
	}
	h, err := parseHeader(recs[0].B)
	if err != nil {
		return nil, 0, err
	}
	if h.Count != len(recs)-1 {
		return nil, 0, fmt.Errorf("ipsecmod: context of MN %v: header counts %d records, found %d", h.MN, h.Count, len(recs)-1)
	}
	c := &Context{Header: h}
	kind := Kind(-1)
	for i, r := range recs[1:] {
		k, ok := kindOfRec(r.Type)
		if !ok {
			c.Wipe()
			return nil, 0, fmt.Errorf("ipsecmod: context of MN %v: record %d: unexpected type %d", h.MN, i+1, r.Type)
		}
		if kind >= 0 && k != kind {
			c.Wipe()
			return nil, 0, fmt.Errorf("ipsecmod: context of MN %v: record %d is %v among %v records", h.MN, i+1, k, kind)
		}
		kind = k
		if err := c.addRecord(k, r.B); err != nil {
			c.Wipe()
			return nil, 0, fmt.Errorf("ipsecmod: context of MN %v: record %d: %w", h.MN, i+1, err)
		}
	}
	if kind < 0 {
		kind = KindSA
	}
	return c, kind, nil
}

func kindOfRec(t uint8) (Kind, bool) {
	switch t {
	case RecSA:
		return KindSA, true
	case RecSP:
		return KindSP, true
	case RecIKEv1:
		return KindIKEv1, true
	case RecIKEv2:
		return KindIKEv2, true
	}
	return 0, false
}

func (c *Context) addRecord(k Kind, b []byte) error {
	switch k {
	case KindSA:
		s, err := ParseSA(b)
		if err != nil {
			return err
		}
		c.SAs = append(c.SAs, s)
	case KindSP:
		p, err := ParsePolicy(b)
		if err != nil {
			return err
		}
		c.Policies = append(c.Policies, p)
	case KindIKEv1:
		p, err := ParseIKEv1(b)
		if err != nil {
			return err
		}
		c.IKEv1 = append(c.IKEv1, p)
	default:
		s, err := ParseIKEv2(b)
		if err != nil {
			return err
		}
		c.IKEv2 = append(c.IKEv2, s)
	}
	return nil
}

// merge moves the entries of o into c (o is left empty).
func (c *Context) merge(o *Context) {
	c.SAs = append(c.SAs, o.SAs...)
	c.Policies = append(c.Policies, o.Policies...)
	c.IKEv1 = append(c.IKEv1, o.IKEv1...)
	c.IKEv2 = append(c.IKEv2, o.IKEv2...)
	o.SAs, o.Policies, o.IKEv1, o.IKEv2 = nil, nil, nil, nil
}

// CDBs encodes the whole context as Context Data Blocks, one block per
// record: each FPT's first block holds the header record and the first
// record; a record larger than one block (2036 octets of data) continues
// in the next blocks of its FPT. Kinds without entries are left out. The
// blocks hold keys.
func (c *Context) CDBs(f FPTs) ([]cxtp.CDB, error) {
	var out []cxtp.CDB
	for k := KindSA; k < numKinds; k++ {
		n := c.count(k)
		if n == 0 {
			continue
		}
		h := c.Header
		h.Count = n
		cur := appendHeader(nil, h)
		for i := 0; i < n; i++ {
			rec, err := c.appendRecord(nil, k, i)
			if err != nil {
				return nil, fmt.Errorf("ipsecmod: MN %v: %v record %d: %w", c.MN, k, i, err)
			}
			if i > 0 {
				cur = nil
			}
			cur = append(cur, rec...)
			if len(cur) <= cxtp.MaxCDBData {
				out = append(out, cxtp.CDB{FPT: f.Of(k), Data: cur})
				continue
			}
			// Split: every block but the last exactly full, so that the
			// parts join without padding.
			out = append(out, cxtp.SplitContext(f.Of(k), cur)...)
		}
	}
	return out, nil
}

// FromCDBs decodes the blocks of the four FPTs (others are ignored) into
// one context.
func FromCDBs(f FPTs, cdbs []cxtp.CDB) (*Context, error) {
	var c *Context
	for k := KindSA; k < numKinds; k++ {
		data := cxtp.JoinContext(f.Of(k), cdbs)
		if len(data) == 0 {
			continue
		}
		p, got, err := Unmarshal(data)
		if err != nil {
			c.Wipe()
			return nil, fmt.Errorf("FPT %d: %w", f.Of(k), err)
		}
		if p.count(got) > 0 && got != k {
			p.Wipe()
			c.Wipe()
			return nil, fmt.Errorf("ipsecmod: FPT %d (%v) carries %v records", f.Of(k), k, got)
		}
		if c == nil {
			c = p
			continue
		}
		if p.MN != c.MN {
			p.Wipe()
			c.Wipe()
			return nil, fmt.Errorf("ipsecmod: FPT %d is for MN %v, not %v", f.Of(k), p.MN, c.MN)
		}
		c.merge(p)
	}
	if c == nil {
		return nil, fmt.Errorf("ipsecmod: no block of FPT %d, %d, %d or %d", f.SA, f.SP, f.IKEv1, f.IKEv2)
	}
	return c, nil
}

// saFrom turns a kernel entry into a transferable SA, computing its age
// from the current lifetime's absolute add and use times.
func saFrom(e *pfkey.SAEntry, d *pfkey.Dialect, now time.Time) *SA {
	s := &SA{Entry: e, Dialect: d}
	if t := e.Current.AddTime; t > 0 && int64(t) <= now.Unix() {
		s.Age = time.Duration(now.Unix()-int64(t)) * time.Second
	}
	if t := e.Current.UseTime; t > 0 && int64(t) <= now.Unix() {
		s.SinceUse = time.Duration(now.Unix()-int64(t)) * time.Second
	}
	return s
}

// installEntry returns the kernel entry to install for s on a system of
// dialect d with addresses rewritten by rw: a copy (keys included) whose
// algorithms are translated by name when the dialects differ, whose
// add-time lifetimes are shortened by the SA's age and byte lifetimes by
// the bytes already counted (never below 1), and without the
// capture-side state (sequence, current lifetime).
func installEntry(s *SA, d *pfkey.Dialect, rw func(netip.Addr) netip.Addr) (*pfkey.SAEntry, error) {
	e := s.Entry.Clone()
	e.Src, e.Dst = rw(e.Src), rw(e.Dst)
	e.Current = pfkey.Lifetime{}
	e.State = 0
	if e.NATT != nil && e.NATT.OAI.IsValid() {
		e.NATT.OAI = rw(e.NATT.OAI)
	}
	if s.Dialect != nil && d != nil && s.Dialect != d {
		if err := translateAlgs(e, s.Dialect, d); err != nil {
			e.Wipe()
			return nil, err
		}
	}
	age := uint64(s.Age / time.Second)
	for _, l := range []*pfkey.Lifetime{e.Hard, e.Soft} {
		if l == nil {
			continue
		}
		l.AddTime = shorten(l.AddTime, age)
		l.Bytes = shorten(l.Bytes, s.Entry.Current.Bytes)
		if l.Allocations > 0 {
			l.Allocations = uint32(shorten(uint64(l.Allocations), uint64(s.Entry.Current.Allocations)))
		}
	}
	softBelowHard(e)
	return e, nil
}

// softBelowHard gives every limit the hard lifetime sets a soft limit no
// larger: Linux answers EINVAL to an SADB_ADD whose hard lifetime has no
// soft counterpart (measured in the kernel lab, Debian 6.1: af_key turns
// a missing soft limit into "infinite", above the hard one).
func softBelowHard(e *pfkey.SAEntry) {
	h := e.Hard
	if h == nil {
		return
	}
	if e.Soft == nil {
		e.Soft = &pfkey.Lifetime{}
	}
	s := e.Soft
	if h.Allocations != 0 && (s.Allocations == 0 || s.Allocations > h.Allocations) {
		s.Allocations = h.Allocations
	}
	for _, f := range [][2]*uint64{{&h.Bytes, &s.Bytes}, {&h.AddTime, &s.AddTime}, {&h.UseTime, &s.UseTime}} {
		if *f[0] != 0 && (*f[1] == 0 || *f[1] > *f[0]) {
			*f[1] = *f[0]
		}
	}
}

func shorten(limit, used uint64) uint64 {
	if limit == 0 {
		return 0
	}
	if used >= limit {
		return 1
	}
	return limit - used
}

func translateAlgs(e *pfkey.SAEntry, from, to *pfkey.Dialect) error {
	if e.Type == pfkey.SATypeIPComp {
		name := from.CompName(pfkey.CompAlg(e.Enc))
		info, ok := to.LookupComp(name)
		if !ok {
			return fmt.Errorf("ipsecmod: SA %v: compression %q unknown on %s", e, name, to.Name)
		}
		e.Enc = pfkey.EncAlg(info.ID)
		return nil
	}
	if e.Auth != pfkey.AuthNone {
		name := from.AuthName(e.Auth)
		info, ok := to.LookupAuth(name)
		if !ok {
			return fmt.Errorf("ipsecmod: SA %v: authentication algorithm %q unknown on %s", e, name, to.Name)
		}
		e.Auth = pfkey.AuthAlg(info.ID)
	}
	if e.Enc != pfkey.EncNone {
		name := from.EncName(e.Enc)
		info, ok := to.LookupEnc(name)
		if !ok {
			return fmt.Errorf("ipsecmod: SA %v: encryption algorithm %q unknown on %s", e, name, to.Name)
		}
		e.Enc = pfkey.EncAlg(info.ID)
	}
	return nil
}
