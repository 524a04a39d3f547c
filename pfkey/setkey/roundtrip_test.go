package setkey

import (
	"net/netip"
	"testing"

	"github.com/ikectx/ikectx/pfkey"
)

// Parse -> Build -> Marshal -> Unmarshal keeps every field the script set.
func TestRoundTrip(t *testing.T) {
	src := `add -n 2001:db8::1 2001:db8::2 esp 0x12345678 -m tunnel -u 9 -r 64 -lh 3600 -ls 3000 -bh 100000 -bs 90000
		-E aes-cbc "0123456789abcdef" -A hmac-sha256 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f;
	spdupdate 10.1.0.0/16[80] 10.2.0.0/16 tcp -P in priority -7 ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:5 ;`
	for _, d := range []*pfkey.Dialect{pfkey.Linux, pfkey.FreeBSD} {
		sc, err := Parse("rt.conf", []byte(src), &Options{Resolve: noResolve})
		if err != nil {
			t.Fatal(err)
		}
		ops, err := Build(sc, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ops) != 2 {
			t.Fatalf("%d ops", len(ops))
		}
		var got []*pfkey.Message
		for _, op := range ops {
			b, err := d.Marshal(op.Msg)
			if err != nil {
				t.Fatal(err)
			}
			m, err := d.Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
		a := got[0]
		if a.Type != pfkey.MsgAdd || a.SAType != pfkey.SATypeESP || a.SA.SPI != 0x12345678 || a.SA.Replay != 64 ||
			a.SA.Enc != pfkey.EncAESCBC || a.SA.Auth != pfkey.AuthSHA2_256HMAC || a.SA2.Mode != pfkey.ModeTunnel || a.SA2.ReqID != 9 {
			t.Errorf("%s add: %+v %+v %+v", d, a, a.SA, a.SA2)
		}
		if string(a.EncKey.Data) != "0123456789abcdef" || a.EncKey.Bits != 128 || a.AuthKey.Bits != 256 || a.AuthKey.Data[31] != 0x1f {
			t.Errorf("%s add keys wrong", d)
		}
		if a.LifetimeHard.AddTime != 3600 || a.LifetimeHard.Bytes != 100000 || a.LifetimeSoft.AddTime != 3000 || a.LifetimeSoft.Bytes != 90000 {
			t.Errorf("%s add lifetimes: %+v %+v", d, a.LifetimeHard, a.LifetimeSoft)
		}
		if a.Src.Addr.Addr() != netip.MustParseAddr("2001:db8::1") || a.Dst.Addr.Addr() != netip.MustParseAddr("2001:db8::2") || a.Src.PrefixLen != 128 {
			t.Errorf("%s add addresses: %v %v", d, a.Src, a.Dst)
		}
		p := got[1]
		if p.Type != pfkey.MsgXSPDUpdate || p.Src.Proto != pfkey.ProtoTCP || p.Src.PrefixLen != 16 || p.Src.Addr.Port() != 80 || p.Dst.Addr.Port() != 0 {
			t.Errorf("%s spdupdate selector: %+v %+v", d, p.Src, p.Dst)
		}
		if p.Policy.Dir != pfkey.DirInbound || p.Policy.Type != pfkey.PolicyIPsec || p.Policy.Priority != PriorityDefault+7 || len(p.Policy.Requests) != 1 {
			t.Fatalf("%s policy: %+v", d, p.Policy)
		}
		r := p.Policy.Requests[0]
		if r.Proto != pfkey.ProtoESP || r.Mode != pfkey.ModeTunnel || r.Level != pfkey.LevelUnique || r.ReqID != 5 ||
			r.Src.Addr() != netip.MustParseAddr("192.0.2.1") || r.Dst.Addr() != netip.MustParseAddr("192.0.2.2") {
			t.Errorf("%s request: %+v", d, r)
		}
	}
}

// Every accepted fixture also builds for Linux, except statements the
// Linux kernel cannot express, which must be reported with their line.
func TestFixturesBuild(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		if fx.expect != "accept" {
			continue
		}
		sc, err := parseFile(fx.path)
		if err != nil {
			t.Fatalf("%s: %v", fx.name, err)
		}
		for _, d := range []*pfkey.Dialect{pfkey.Linux, pfkey.FreeBSD} {
			if _, err := Build(sc, d); err != nil {
				t.Errorf("%s (%s): %v", fx.name, d, err)
			}
		}
	}
}
