package pfkey

import (
	"net/netip"
	"testing"
)

func TestESPPolicies(t *testing.T) {
	lp, rp := netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("10.2.0.0/16")
	l, r := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	ps := ESPPolicies(lp, rp, l, r, ModeTunnel, 7, true)
	want := []struct {
		src, dst netip.Prefix
		dir      Direction
		from, to netip.Addr
	}{
		{lp, rp, DirOutbound, l, r},
		{rp, lp, DirInbound, r, l},
		{rp, lp, DirForward, r, l},
	}
	if len(ps) != len(want) {
		t.Fatalf("%d policies, want %d: %v", len(ps), len(want), ps)
	}
	for i, w := range want {
		p := ps[i]
		if p.Src != w.src || p.Dst != w.dst || p.Dir != w.dir || p.Proto != ProtoAny || p.Type != PolicyIPsec || len(p.Requests) != 1 {
			t.Fatalf("policy %d: %v", i, p)
		}
		q := p.Requests[0]
		if q.Proto != ProtoESP || q.Mode != ModeTunnel || q.Level != LevelUnique || q.ReqID != 7 ||
			q.Src != netip.AddrPortFrom(w.from, 0) || q.Dst != netip.AddrPortFrom(w.to, 0) {
			t.Errorf("policy %d request: %+v", i, q)
		}
	}
	ps = ESPPolicies(lp, rp, l, r, ModeTransport, 7, false)
	if len(ps) != 2 || ps[0].Dir != DirOutbound || ps[1].Dir != DirInbound {
		t.Fatalf("transport: %v", ps)
	}
	for _, p := range ps {
		if q := p.Requests[0]; q.Mode != ModeTransport || q.Src.IsValid() || q.Dst.IsValid() {
			t.Errorf("transport request with endpoints: %+v", q)
		}
	}
}

func TestClones(t *testing.T) {
	sas := []*SAEntry{
		{Type: SATypeESP, SPI: 1, Keys: Keys{Enc: []byte{1, 2}}},
		{Type: SATypeAH, SPI: 2},
		{Type: SATypeESP, SPI: 3},
	}
	got := Clones(sas, OfType(SATypeESP))
	if len(got) != 2 || got[0].SPI != 1 || got[1].SPI != 3 {
		t.Fatalf("ESP: %v", got)
	}
	if got[0] == sas[0] || &got[0].Keys.Enc[0] == &sas[0].Keys.Enc[0] {
		t.Fatal("not a copy")
	}
	if n := len(Clones(sas, OfType(SATypeUnspec))); n != 3 {
		t.Fatalf("Unspec: %d SAs", n)
	}
	if got := Clones(sas, func(e *SAEntry) bool { return false }); got != nil {
		t.Fatalf("none kept: %v, want nil", got)
	}
	pols := []*PolicyEntry{{Dir: DirInbound}, {Dir: DirOutbound}}
	if got := Clones(pols, nil); len(got) != 2 || got[0] == pols[0] || got[1].Dir != DirOutbound {
		t.Fatalf("policies: %v", got)
	}
}
