package ikev2

import (
	"net/netip"

	"github.com/ikectx/ikectx/ikev2/msg"
)

// FollowHost returns the selectors ss with every one that is exactly the
// single address old (a host-to-host selector, the peer's own address)
// rewritten to the address new, and whether any was. A MOBIKE move
// (RFC 4555) changes the SA's addresses, not the traffic selectors; but a
// child whose selector is the host's own address protects the traffic of
// that address, which moves with the host: strongSwan updates such a
// "dynamic" selector on an address update the same way. Ports and the
// protocol are kept.
func FollowHost(ss []msg.Selector, old, new netip.Addr) ([]msg.Selector, bool) {
	old, new = old.Unmap().WithZone(""), new.Unmap().WithZone("")
	if !old.IsValid() || !new.IsValid() || old == new || old.Is4() != new.Is4() {
		return ss, false
	}
	var out []msg.Selector
	changed := false
	for i, s := range ss {
		if s.Start.Unmap().WithZone("") != old || s.End.Unmap().WithZone("") != old {
			continue
		}
		if out == nil {
			out = append([]msg.Selector(nil), ss...)
		}
		out[i].Start, out[i].End = new, new
		changed = true
	}
	if !changed {
		return ss, false
	}
	return out, true
}
