package pfkey

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
)

// Flow is one direction of traffic between two hosts: what an outbound
// policy must select to protect it.
type Flow struct {
	Src, Dst         netip.Addr
	Proto            Proto // upper-layer protocol (e.g. 132 for SCTP, ProtoUDP)
	SrcPort, DstPort uint16
}

func (f Flow) String() string {
	return fmt.Sprintf("%v[%d] -> %v[%d] proto %v", f.Src, f.SrcPort, f.Dst, f.DstPort, f.Proto)
}

// Causes returned (wrapped) by CheckFlow.
var (
	ErrNoPolicy       = errors.New("no outbound policy selects the traffic")
	ErrPolicyNotIPsec = errors.New("the outbound policy that applies does not apply IPsec")
	ErrNoESPRequired  = errors.New("the outbound policy that applies does not require ESP")
)

// Selects reports whether p's selector (prefixes, upper-layer protocol,
// ports) covers f; the direction is not looked at.
func (p *PolicyEntry) Selects(f Flow) bool {
	src, dst := f.Src.Unmap().WithZone(""), f.Dst.Unmap().WithZone("")
	return p.Src.Contains(src) && p.Dst.Contains(dst) &&
		(p.Proto == ProtoAny || p.Proto == f.Proto) &&
		(p.SrcPort == 0 || p.SrcPort == f.SrcPort) &&
		(p.DstPort == 0 || p.DstPort == f.DstPort)
}

// requiresESP reports whether p is an IPsec policy with an ESP request at
// level require or unique (level use lets packets out in clear when no SA
// exists).
func (p *PolicyEntry) requiresESP() bool {
	if p.Type != PolicyIPsec {
		return false
	}
	for _, r := range p.Requests {
		if r.Proto == ProtoESP && (r.Level == LevelRequire || r.Level == LevelUnique) {
			return true
		}
	}
	return false
}

// CheckFlow decides from the SPD entries pols whether outbound traffic f
// leaves only under ESP: the outbound policies selecting f with the best
// (lowest) priority must all be IPsec policies requiring ESP. When several
// share that priority the kernel's choice between them is not visible
// here, so all must qualify. The error names the flow and the policy at
// fault.
func CheckFlow(pols []*PolicyEntry, f Flow) error {
	var best []*PolicyEntry
	for _, p := range pols {
		if p.Dir != DirOutbound || !p.Selects(f) {
			continue
		}
		switch {
		case len(best) == 0 || p.Priority < best[0].Priority:
			best = []*PolicyEntry{p}
		case p.Priority == best[0].Priority:
			best = append(best, p)
		}
	}
	if len(best) == 0 {
		return fmt.Errorf("%v: %w", f, ErrNoPolicy)
	}
	for _, p := range best {
		if p.Type != PolicyIPsec {
			return fmt.Errorf("%v: %w (%v)", f, ErrPolicyNotIPsec, p)
		}
		if !p.requiresESP() {
			return fmt.Errorf("%v: %w (%v)", f, ErrNoESPRequired, p)
		}
	}
	return nil
}

// CheckFlow dumps the SPD (SADB_X_SPDDUMP) and applies CheckFlow to f.
func (c *Conn) CheckFlow(ctx context.Context, f Flow) error {
	pols, err := c.Policies(ctx)
	if err != nil {
		return fmt.Errorf("%v: reading the SPD: %w", f, err)
	}
	return CheckFlow(pols, f)
}
