package ikev2

import (
	"net/netip"
	"testing"

	"github.com/ikectx/ikectx/ikev2/msg"
)

func TestFollowHost(t *testing.T) {
	a, b, c := netip.MustParseAddr("2001:db8:1::100"), netip.MustParseAddr("2001:db8:2::100"), netip.MustParseAddr("2001:db8:3::1")
	host := func(x netip.Addr) msg.Selector {
		return msg.Selector{TSType: msg.TSIPv6AddrRange, IPProto: 17, StartPort: 1, EndPort: 9, Start: x, End: x}
	}
	net := msg.SelectorFromPrefix(netip.MustParsePrefix("2001:db8:1::/64"))
	in := []msg.Selector{host(a), net, host(c)}
	out, ok := FollowHost(in, a, b)
	if !ok || out[0] != (msg.Selector{TSType: msg.TSIPv6AddrRange, IPProto: 17, StartPort: 1, EndPort: 9, Start: b, End: b}) || out[1] != net || out[2] != host(c) {
		t.Fatalf("%v %v", out, ok)
	}
	if in[0] != host(a) {
		t.Fatal("input changed")
	}
	// a range containing the old address, the same address, another
	// family: unchanged
	for _, x := range []struct {
		ss       []msg.Selector
		old, new netip.Addr
	}{{[]msg.Selector{net}, a, b}, {in, a, a}, {in, a, netip.MustParseAddr("192.0.2.1")}, {in, netip.Addr{}, b}} {
		if got, ok := FollowHost(x.ss, x.old, x.new); ok || len(got) != len(x.ss) {
			t.Errorf("%v %v -> %v: %v %v", x.ss, x.old, x.new, got, ok)
		}
	}
}

// TestMOBIKEHostSelectors: a child whose selectors are the hosts' own
// addresses (the testbed's MN CoA <-> HA tunnel, here MN <-> AR) follows
// an UPDATE_SA_ADDRESSES on both ends, in the kernel too (MemKernel sees
// the child deleted and installed again).
func TestMOBIKEHostSelectors(t *testing.T) {
	n, mn, ar, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	mn.Conns[0].LocalTS = []netip.Prefix{netip.PrefixFrom(addrMN, 128)}
	ar.Conns[0].RemoteTS = []netip.Prefix{netip.PrefixFrom(addrMN, 128)}
	sa := establish(t, n, mn)
	checkPair(t, mn, ar, 1)
	var res []error
	if err := mn.Move(sa.SPIi, netip.AddrPortFrom(addrMN2, 500), netip.AddrPort{}, nil, func(err error) { res = append(res, err) }); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	x, y := checkPair(t, mn, ar, 1)
	if len(res) != 1 || res[0] != nil {
		t.Fatal(res)
	}
	want := msg.SelectorFromPrefix(netip.PrefixFrom(addrMN2, 128))
	if lt := x.Children[0].LocalTS; len(lt) != 1 || lt[0].Start != want.Start || lt[0].End != want.End {
		t.Errorf("MN's local selectors %v, want %v", lt, want)
	}
	if rt := y.Children[0].RemoteTS; len(rt) != 1 || rt[0].Start != want.Start || rt[0].End != want.End {
		t.Errorf("AR's remote selectors %v, want %v", rt, want)
	}
	if !mn.Kernel.(*MemKernel).InUse(x.Children[0].SPIIn, addrMN2) || !ar.Kernel.(*MemKernel).InUse(y.Children[0].SPIIn, addrAR) {
		t.Error("child not installed again after the move")
	}
}
