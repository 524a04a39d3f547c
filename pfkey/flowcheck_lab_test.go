//go:build lab && linux

package pfkey

import (
	"errors"
	"net/netip"
	"testing"
)

// TestLabCheckFlow: Conn.CheckFlow against the kernel's SPD, as cxtpd
// checks its AR-AR channel (SCTP 5091): no policy, ESP require, a
// better-priority bypass, level use.
func TestLabCheckFlow(t *testing.T) {
	c, ctx := labConn(t)
	flow := Flow{Src: labA, Dst: labB, Proto: Proto(132), SrcPort: 5091, DstPort: 5091}
	host := func(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, 128) }
	if err := c.CheckFlow(ctx, flow); !errors.Is(err, ErrNoPolicy) {
		t.Fatalf("empty SPD: %v", err)
	}
	esp := &PolicyEntry{Src: host(labA), Dst: host(labB), Proto: ProtoAny, Dir: DirOutbound, Type: PolicyIPsec, Priority: 1000,
		Requests: []IPSecRequest{{Proto: ProtoESP, Mode: ModeTransport, Level: LevelRequire}}}
	in := &PolicyEntry{Src: host(labB), Dst: host(labA), Proto: ProtoAny, Dir: DirInbound, Type: PolicyIPsec, Priority: 1000,
		Requests: []IPSecRequest{{Proto: ProtoESP, Mode: ModeTransport, Level: LevelRequire}}}
	for _, p := range []*PolicyEntry{esp, in} {
		if err := c.SPDAdd(ctx, p); err != nil {
			t.Fatalf("spdadd %v: %v", p, err)
		}
	}
	if err := c.CheckFlow(ctx, flow); err != nil {
		t.Fatalf("ESP transport, require: %v", err)
	}
	if err := c.CheckFlow(ctx, Flow{Src: labA, Dst: labC, Proto: Proto(132), SrcPort: 5091, DstPort: 5091}); !errors.Is(err, ErrNoPolicy) {
		t.Fatalf("another peer: %v", err)
	}
	// A bypass for SCTP with a better priority wins.
	bypass := &PolicyEntry{Src: netip.MustParsePrefix("2001:db8::/64"), Dst: netip.MustParsePrefix("2001:db8::/64"), Proto: Proto(132),
		Dir: DirOutbound, Type: PolicyNone, Priority: 10}
	if err := c.SPDAdd(ctx, bypass); err != nil {
		t.Fatalf("spdadd %v: %v", bypass, err)
	}
	if err := c.CheckFlow(ctx, flow); !errors.Is(err, ErrPolicyNotIPsec) {
		t.Fatalf("bypass at a better priority: %v", err)
	}
	if err := c.SPDDelete(ctx, bypass); err != nil {
		t.Fatal(err)
	}
	// Level use lets packets out in clear when no SA exists.
	if err := c.SPDDelete(ctx, esp); err != nil {
		t.Fatal(err)
	}
	esp.Requests[0].Level = LevelUse
	if err := c.SPDAdd(ctx, esp); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckFlow(ctx, flow); !errors.Is(err, ErrNoESPRequired) {
		t.Fatalf("level use: %v", err)
	}
}
