package pfkey

import (
	"fmt"
	"net/netip"
	"strings"
)

// PolicyEntry is one security policy: the selector (prefixes, ports,
// upper-layer protocol), the direction, the action and, for PolicyIPsec,
// the requests. It is what X_SPDDUMP and X_SPDGET return and X_SPDADD,
// X_SPDUPDATE and X_SPDDELETE take.
type PolicyEntry struct {
	Src      netip.Prefix
	Dst      netip.Prefix
	SrcPort  uint16 // 0 = any
	DstPort  uint16 // 0 = any
	Proto    Proto  // ProtoAny = any
	Dir      Direction
	Type     PolicyType
	Requests []IPSecRequest
	// ID is the kernel's policy id (set in replies).
	ID       uint32
	Priority uint32
	Scope    PolicyScope // FreeBSD
	Current  Lifetime
	Hard     *Lifetime
	Soft     *Lifetime
}

// String describes the policy in setkey's spdadd words.
func (p *PolicyEntry) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s %v -P %v %v", portPrefix(p.Src, p.SrcPort), portPrefix(p.Dst, p.DstPort), p.Proto, p.Dir, p.Type)
	for _, r := range p.Requests {
		fmt.Fprintf(&sb, " %v/%v/", r.Proto, r.Mode)
		if r.Src.IsValid() {
			fmt.Fprintf(&sb, "%v-%v", r.Src.Addr(), r.Dst.Addr())
		}
		fmt.Fprintf(&sb, "/%v", r.Level)
		if r.ReqID != 0 {
			fmt.Fprintf(&sb, ":%d", r.ReqID)
		}
	}
	if p.ID != 0 {
		fmt.Fprintf(&sb, " id %d", p.ID)
	}
	return sb.String()
}

func portPrefix(p netip.Prefix, port uint16) string {
	if port == 0 {
		return p.String() + "[any]"
	}
	return fmt.Sprintf("%v[%d]", p, port)
}

// Involves reports whether a lies in the selector's source or destination
// prefix or is a tunnel endpoint of one of the requests.
func (p *PolicyEntry) Involves(a netip.Addr) bool {
	a = a.WithZone("")
	if p.Src.Contains(a) || p.Dst.Contains(a) {
		return true
	}
	for _, r := range p.Requests {
		if r.Src.Addr().WithZone("") == a || r.Dst.Addr().WithZone("") == a {
			return true
		}
	}
	return false
}

// InvolvesHost reports whether a is a host of the policy: a selector that
// is exactly a (full-length prefix) or a tunnel endpoint. Unlike Involves
// it ignores policies for whole networks that merely contain a.
func (p *PolicyEntry) InvolvesHost(a netip.Addr) bool {
	a = a.WithZone("")
	if (p.Src.Bits() == a.BitLen() && p.Src.Addr() == a) || (p.Dst.Bits() == a.BitLen() && p.Dst.Addr() == a) {
		return true
	}
	for _, r := range p.Requests {
		if r.Src.Addr().WithZone("") == a || r.Dst.Addr().WithZone("") == a {
			return true
		}
	}
	return false
}

// Clone returns a deep copy.
func (p *PolicyEntry) Clone() *PolicyEntry {
	c := *p
	c.Requests = append([]IPSecRequest(nil), p.Requests...)
	if p.Hard != nil {
		h := *p.Hard
		c.Hard = &h
	}
	if p.Soft != nil {
		s := *p.Soft
		c.Soft = &s
	}
	return &c
}

// Message builds the request of type t (MsgXSPDAdd, MsgXSPDUpdate,
// MsgXSPDDelete) for the policy.
func (p *PolicyEntry) Message(t MsgType) *Message {
	proto := p.Proto
	if proto == 0 {
		proto = ProtoAny
	}
	m := &Message{
		Type: t, SAType: SATypeUnspec,
		Src: PrefixAddress(p.Src, p.SrcPort, proto),
		Dst: PrefixAddress(p.Dst, p.DstPort, proto),
		Policy: &Policy{Type: p.Type, Dir: p.Dir, Scope: p.Scope, ID: p.ID, Priority: p.Priority,
			Requests: append([]IPSecRequest(nil), p.Requests...)},
	}
	if t == MsgXSPDDelete {
		m.Policy.Requests = nil
	}
	if p.Hard != nil && t != MsgXSPDDelete {
		h := *p.Hard
		m.LifetimeHard = &h
	}
	if p.Soft != nil && t != MsgXSPDDelete {
		s := *p.Soft
		m.LifetimeSoft = &s
	}
	return m
}

// PolicyEntryFrom extracts the policy of a kernel message (X_SPDDUMP,
// X_SPDGET, X_SPDADD, X_SPDEXPIRE ...).
func PolicyEntryFrom(m *Message) (*PolicyEntry, error) {
	if m.Policy == nil || m.Src == nil || m.Dst == nil {
		return nil, fmt.Errorf("pfkey: %v: no policy, source or destination extension", m.Type)
	}
	p := &PolicyEntry{
		Src: m.Src.Prefix(), Dst: m.Dst.Prefix(),
		SrcPort: m.Src.Addr.Port(), DstPort: m.Dst.Addr.Port(), Proto: m.Src.Proto,
		Dir: m.Policy.Dir, Type: m.Policy.Type, ID: m.Policy.ID, Priority: m.Policy.Priority, Scope: m.Policy.Scope,
		Requests: append([]IPSecRequest(nil), m.Policy.Requests...),
	}
	if m.LifetimeCurrent != nil {
		p.Current = *m.LifetimeCurrent
	}
	if m.LifetimeHard != nil {
		h := *m.LifetimeHard
		p.Hard = &h
	}
	if m.LifetimeSoft != nil {
		s := *m.LifetimeSoft
		p.Soft = &s
	}
	return p, nil
}

// ESPPolicies are the policies of one ESP child SA pair between the local
// selector lp and the remote selector rp, negotiated by the hosts l and r:
// outbound lp -> rp and inbound rp -> lp, each requiring unique ESP with
// reqid (in tunnel mode, between l and r), and with forward an inbound
// forward policy rp -> lp too (Linux's third direction for what a tunnel
// delivers to a host behind it).
func ESPPolicies(lp, rp netip.Prefix, l, r netip.Addr, mode Mode, reqid uint32, forward bool) []*PolicyEntry {
	req := func(src, dst netip.Addr) []IPSecRequest {
		q := IPSecRequest{Proto: ProtoESP, Mode: mode, Level: LevelUnique, ReqID: reqid}
		if mode == ModeTunnel {
			q.Src, q.Dst = netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0)
		}
		return []IPSecRequest{q}
	}
	ps := []*PolicyEntry{
		{Src: lp, Dst: rp, Proto: ProtoAny, Dir: DirOutbound, Type: PolicyIPsec, Requests: req(l, r)},
		{Src: rp, Dst: lp, Proto: ProtoAny, Dir: DirInbound, Type: PolicyIPsec, Requests: req(r, l)},
	}
	if forward {
		ps = append(ps, &PolicyEntry{Src: rp, Dst: lp, Proto: ProtoAny, Dir: DirForward, Type: PolicyIPsec, Requests: req(r, l)})
	}
	return ps
}
