package pfkey

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestCheckFlow(t *testing.T) {
	a, b := netip.MustParseAddr("2001:db8:a::1"), netip.MustParseAddr("2001:db8:a::2")
	host := func(x netip.Addr) netip.Prefix { return netip.PrefixFrom(x, 128) }
	esp := func(l Level) []IPSecRequest { return []IPSecRequest{{Proto: ProtoESP, Mode: ModeTransport, Level: l}} }
	pol := func(src, dst netip.Prefix, proto Proto, dport uint16, dir Direction, ty PolicyType, prio uint32, reqs []IPSecRequest) *PolicyEntry {
		return &PolicyEntry{Src: src, Dst: dst, Proto: proto, DstPort: dport, Dir: dir, Type: ty, Priority: prio, Requests: reqs}
	}
	sctp := Proto(132)
	flow := Flow{Src: a, Dst: b, Proto: sctp, SrcPort: 5091, DstPort: 5091}
	net := netip.MustParsePrefix("2001:db8:a::/64")
	cases := []struct {
		name string
		pols []*PolicyEntry
		want error
		v4   bool // an IPv4 flow instead
	}{
		{"none", nil, ErrNoPolicy, false},
		{"esp require any proto", []*PolicyEntry{pol(host(a), host(b), ProtoAny, 0, DirOutbound, PolicyIPsec, 0, esp(LevelRequire))}, nil, false},
		{"esp unique, network, sctp 5091", []*PolicyEntry{pol(net, net, sctp, 5091, DirOutbound, PolicyIPsec, 0, esp(LevelUnique))}, nil, false},
		{"inbound only", []*PolicyEntry{pol(host(b), host(a), ProtoAny, 0, DirInbound, PolicyIPsec, 0, esp(LevelRequire))}, ErrNoPolicy, false},
		{"reverse selector", []*PolicyEntry{pol(host(b), host(a), ProtoAny, 0, DirOutbound, PolicyIPsec, 0, esp(LevelRequire))}, ErrNoPolicy, false},
		{"other protocol", []*PolicyEntry{pol(host(a), host(b), ProtoUDP, 0, DirOutbound, PolicyIPsec, 0, esp(LevelRequire))}, ErrNoPolicy, false},
		{"other port", []*PolicyEntry{pol(host(a), host(b), sctp, 500, DirOutbound, PolicyIPsec, 0, esp(LevelRequire))}, ErrNoPolicy, false},
		{"level use", []*PolicyEntry{pol(host(a), host(b), ProtoAny, 0, DirOutbound, PolicyIPsec, 0, esp(LevelUse))}, ErrNoESPRequired, false},
		{"ah only", []*PolicyEntry{pol(host(a), host(b), ProtoAny, 0, DirOutbound, PolicyIPsec, 0, []IPSecRequest{{Proto: ProtoAH, Level: LevelRequire}})}, ErrNoESPRequired, false},
		{"bypass wins by priority", []*PolicyEntry{
			pol(host(a), host(b), ProtoAny, 0, DirOutbound, PolicyIPsec, 100, esp(LevelRequire)),
			pol(net, net, sctp, 0, DirOutbound, PolicyNone, 10, nil)}, ErrPolicyNotIPsec, false},
		{"esp wins by priority", []*PolicyEntry{
			pol(host(a), host(b), ProtoAny, 0, DirOutbound, PolicyIPsec, 10, esp(LevelRequire)),
			pol(net, net, ProtoAny, 0, DirOutbound, PolicyNone, 100, nil)}, nil, false},
		{"tie with discard", []*PolicyEntry{
			pol(host(a), host(b), ProtoAny, 0, DirOutbound, PolicyIPsec, 10, esp(LevelRequire)),
			pol(net, net, ProtoAny, 0, DirOutbound, PolicyDiscard, 10, nil)}, ErrPolicyNotIPsec, false},
		{"IPv4 flow, IPv6 policy", []*PolicyEntry{pol(host(a), host(b), ProtoAny, 0, DirOutbound, PolicyIPsec, 0, esp(LevelRequire))}, ErrNoPolicy, true},
	}
	for _, c := range cases {
		f := flow
		if c.v4 {
			f.Src, f.Dst = netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
		}
		err := CheckFlow(c.pols, f)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), f.Dst.String()) {
			t.Errorf("%s: error %q does not name the destination", c.name, err)
		}
	}
}
