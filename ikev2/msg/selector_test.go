package msg

import (
	"net/netip"
	"testing"
)

func TestSelectorPrefix(t *testing.T) {
	for _, c := range []struct{ start, end, want string }{
		{"10.1.0.0", "10.1.255.255", "10.1.0.0/16"},
		{"10.1.0.1", "10.1.0.1", "10.1.0.1/32"},
		{"0.0.0.0", "255.255.255.255", "0.0.0.0/0"},
		{"fd00:1::", "fd00:1::ffff:ffff:ffff:ffff", "fd00:1::/64"},
		{"::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0"},
		// not a prefix: the largest one from Start that stays within End
		{"10.1.0.0", "10.1.2.255", "10.1.0.0/23"},
		{"10.1.0.4", "10.1.0.255", "10.1.0.4/30"},
	} {
		s := Selector{Start: netip.MustParseAddr(c.start), End: netip.MustParseAddr(c.end)}
		if got := s.Prefix(); got != netip.MustParsePrefix(c.want) {
			t.Errorf("%v..%v: Prefix %v, want %s", c.start, c.end, got, c.want)
		}
	}
	for _, p := range []string{"192.0.2.0/24", "2001:db8::/48", "198.51.100.7/32"} {
		pf := netip.MustParsePrefix(p)
		if got := SelectorFromPrefix(pf).Prefix(); got != pf {
			t.Errorf("SelectorFromPrefix(%v).Prefix() = %v", pf, got)
		}
	}
}
