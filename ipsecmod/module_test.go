package ipsecmod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
)

var (
	other = netip.MustParseAddr("2001:db8:2::99") // another MN at the nAR
	bg    = context.Background()
)

func tunnelSA(spi uint32, src, dst netip.Addr, key byte) *pfkey.SAEntry {
	return &pfkey.SAEntry{Type: pfkey.SATypeESP, SPI: spi, Src: src, Dst: dst, Mode: pfkey.ModeTunnel, ReqID: 1,
		Replay: 32, State: 1, Auth: pfkey.AuthSHA1HMAC, Enc: pfkey.EncAESCBC,
		Keys:    pfkey.Keys{Auth: rep(key, 20), Enc: rep(key+1, 16)},
		Current: pfkey.Lifetime{AddTime: uint64(time.Now().Unix() - 30)},
		Hard:    &pfkey.Lifetime{AddTime: 3600}}
}

func tunnelPolicy(dir pfkey.Direction, mn, ar netip.Addr) *pfkey.PolicyEntry {
	p := &pfkey.PolicyEntry{Src: netip.PrefixFrom(mn, 128), Dst: netip.PrefixFrom(ha, 128), Proto: pfkey.ProtoAny,
		Dir: dir, Type: pfkey.PolicyIPsec, Priority: 0x80000000,
		Requests: []pfkey.IPSecRequest{{Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelRequire,
			Src: netip.AddrPortFrom(mn, 0), Dst: netip.AddrPortFrom(ar, 0)}}}
	if dir == pfkey.DirOutbound { // the AR's view: HA -> MN leaves through the tunnel
		p.Src, p.Dst = p.Dst, p.Src
		p.Requests[0].Src, p.Requests[0].Dst = p.Requests[0].Dst, p.Requests[0].Src
	}
	return p
}

// parKernel is the pAR's SAD/SPD with the MN's tunnel and another MN's SA.
func parKernel() *fakeKernel {
	k := newFakeKernel()
	k.sas = []*pfkey.SAEntry{
		tunnelSA(0x1000, mnOld, par, 0x11), tunnelSA(0x2000, par, mnOld, 0x21),
		tunnelSA(0x3000, netip.MustParseAddr("2001:db8:1::77"), par, 0x31),
	}
	k.pols = []*pfkey.PolicyEntry{tunnelPolicy(pfkey.DirInbound, mnOld, par), tunnelPolicy(pfkey.DirOutbound, mnOld, par),
		tunnelPolicy(pfkey.DirForward, mnOld, par)}
	return k
}

// narKernel has the nAR's default: discard everything from and to its
// access prefix (priority as setkey's default).
func narKernel() *fakeKernel {
	k := newFakeKernel()
	pfx := netip.MustParsePrefix("2001:db8:2::/64")
	any6 := netip.MustParsePrefix("::/0")
	for _, dir := range []pfkey.Direction{pfkey.DirInbound, pfkey.DirForward} {
		k.pols = append(k.pols, &pfkey.PolicyEntry{Src: pfx, Dst: any6, Proto: pfkey.ProtoAny, Dir: dir, Type: pfkey.PolicyDiscard, Priority: 0x80000000})
	}
	k.pols = append(k.pols, &pfkey.PolicyEntry{Src: any6, Dst: pfx, Proto: pfkey.ProtoAny, Dir: pfkey.DirOutbound, Type: pfkey.PolicyDiscard, Priority: 0x80000000})
	return k
}

func newModule(t testing.TB, k Kernel, addr netip.Addr, mod func(*Config)) *Module {
	t.Helper()
	cfg := Config{Address: addr, Kernel: k}
	if mod != nil {
		mod(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func captureAll(t *testing.T, m *Module) [numKinds][]byte {
	t.Helper()
	var out [numKinds][]byte
	for k := KindSA; k <= KindIKEv1; k++ {
		b, err := m.Capture(bg, k, mnOld)
		if err != nil {
			t.Fatal(k, err)
		}
		out[k] = b
	}
	return out
}

func parWithRacoon() (*Module, *fakeKernel, *fakeRacoon) {
	k := parKernel()
	r := newFakeRacoon()
	r.ph1[mnOld] = testPhase1()
	m, _ := New(Config{Address: par, Kernel: k, IKEv1: r})
	return m, k, r
}

func TestCapture(t *testing.T) {
	m, _, _ := parWithRacoon()
	data := captureAll(t, m)
	c, k, err := Unmarshal(data[KindSA])
	if err != nil || k != KindSA {
		t.Fatal(err)
	}
	if len(c.SAs) != 2 || c.MN != mnOld || c.AR != par {
		t.Fatalf("%v", c)
	}
	if c.SAs[0].Age < 29*time.Second || c.SAs[0].Age > time.Minute {
		t.Fatalf("age %v", c.SAs[0].Age)
	}
	if !bytes.Equal(c.SAs[1].Entry.Keys.Enc, rep(0x22, 16)) {
		t.Fatal("keys not carried")
	}
	p, _, err := Unmarshal(data[KindSP])
	if err != nil || len(p.Policies) != 3 {
		t.Fatal(p, err)
	}
	i, _, err := Unmarshal(data[KindIKEv1])
	if err != nil || len(i.IKEv1) != 1 || i.IKEv1[0].Index != testPhase1().Index {
		t.Fatal(i, err)
	}
}

func TestCaptureErrors(t *testing.T) {
	k := parKernel()
	m := newModule(t, k, par, nil)
	if _, err := m.Capture(bg, KindSA, netip.MustParseAddr("2001:db8:9::9")); !errors.Is(err, ErrNoContext) {
		t.Fatal(err)
	}
	if _, err := m.Capture(bg, KindIKEv1, mnOld); !errors.Is(err, ErrUnsupported) {
		t.Fatal(err)
	}
	if _, err := m.Capture(bg, KindIKEv2, mnOld); !errors.Is(err, ErrUnsupported) {
		t.Fatal(err)
	}
	k.fail["SAsFor"] = errBoom
	_, err := m.Capture(bg, KindSA, mnOld)
	if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), mnOld.String()) {
		t.Fatal(err)
	}
	r := newFakeRacoon()
	m2 := newModule(t, parKernel(), par, func(c *Config) { c.IKEv1 = r })
	if _, err := m2.Capture(bg, KindIKEv1, mnOld); !errors.Is(err, ErrNoContext) {
		t.Fatal(err)
	}
	r.exportErr = errBoom
	if _, err := m2.Capture(bg, KindIKEv1, mnOld); !errors.Is(err, errBoom) {
		t.Fatal(err)
	}
	if m.Status().Stats.Failed == 0 {
		t.Fatal("failures not counted")
	}
}

func hasSA(k *fakeKernel, spi uint32, src, dst netip.Addr) bool {
	for _, s := range k.sas {
		if s.SPI == spi && s.Src == src && s.Dst == dst {
			return true
		}
	}
	return false
}

func TestHandoverPredictiveNoPrediction(t *testing.T) {
	pm, _, _ := parWithRacoon()
	data := captureAll(t, pm)
	nk := narKernel()
	r := newFakeRacoon()
	m := newModule(t, nk, nar, func(c *Config) { c.IKEv1 = r })
	for k := KindSA; k <= KindIKEv1; k++ {
		if err := m.PreInstall(bg, k, mnOld, netip.Addr{}, data[k]); err != nil {
			t.Fatal(k, err)
		}
	}
	if nk.count("Add") != 0 || nk.count("SPDAdd") != 0 || len(r.imported) != 0 {
		t.Fatalf("installed before the nCoA is known: %v", nk.calls)
	}
	st := m.Status()
	if len(st.Entries) != 1 || len(st.Entries[0].Kinds) != 3 {
		t.Fatalf("%+v", st)
	}
	dumps := nk.count("SAs") + nk.count("Policies")
	if dumps != 2 {
		t.Fatalf("pre-install read the SAD and SPD %d times: %v", dumps, nk.calls)
	}
	// CTAR: activation with the nCoA.
	for k := KindSA; k <= KindIKEv1; k++ {
		if err := m.Activate(bg, k, mnOld, mnNew); err != nil {
			t.Fatal(k, err)
		}
	}
	if !hasSA(nk, 0x1000, mnNew, nar) || !hasSA(nk, 0x2000, nar, mnNew) || len(nk.sas) != 2 {
		t.Fatalf("SAs %v", nk.sas)
	}
	if n := nk.count("SAs") + nk.count("Policies"); n != dumps {
		t.Fatalf("activation read the SAD or SPD: %v", nk.calls)
	}
	for _, s := range nk.sas {
		if !bytes.Equal(s.Keys.Auth, rep(0x11, 20)) && !bytes.Equal(s.Keys.Auth, rep(0x21, 20)) {
			t.Fatal("keys changed")
		}
		if s.Hard.AddTime > 3600-29 {
			t.Fatalf("hard lifetime not shortened by the age: %d", s.Hard.AddTime)
		}
	}
	var ipsecPols []*pfkey.PolicyEntry
	for _, p := range nk.pols {
		if p.Type == pfkey.PolicyIPsec {
			ipsecPols = append(ipsecPols, p)
		}
	}
	if len(ipsecPols) != 3 {
		t.Fatalf("policies %v", nk.pols)
	}
	for _, p := range ipsecPols {
		if !p.InvolvesHost(mnNew) || p.InvolvesHost(mnOld) || p.InvolvesHost(par) || p.Priority != 0x7fffffff {
			t.Fatalf("policy %v priority %#x", p, p.Priority)
		}
		if r := p.Requests[0]; r.Src.Addr() != nar && r.Dst.Addr() != nar {
			t.Fatalf("tunnel not at the nAR: %v", p)
		}
	}
	if len(r.imported) != 1 || r.importAt[0] != netip.AddrPortFrom(nar, 500) || r.importAt[1] != netip.AddrPortFrom(mnNew, 500) {
		t.Fatalf("import %v", r.importAt)
	}
	st = m.Status()
	if len(st.Entries) != 0 || len(st.Activated) != 1 || st.Stats.Activated != 3 {
		t.Fatalf("%+v", st)
	}
	// Repeated CTAR after the context went live: nothing pre-installed.
	if err := m.Activate(bg, KindSA, mnOld, mnNew); !errors.Is(err, ErrNoContext) {
		t.Fatal(err)
	}
}

func TestPreInstallPredicted(t *testing.T) {
	pm, _, _ := parWithRacoon()
	data := captureAll(t, pm)
	nk := narKernel()
	m := newModule(t, nk, nar, func(c *Config) { c.Predict = netip.MustParsePrefix("2001:db8:2::/64") })
	for k := KindSA; k <= KindSP; k++ {
		if err := m.PreInstall(bg, k, mnOld, netip.Addr{}, data[k]); err != nil {
			t.Fatal(err)
		}
	}
	// SAs ahead, policies not.
	if !hasSA(nk, 0x1000, mnNew, nar) || nk.count("SPDAdd") != 0 {
		t.Fatalf("%v %v", nk.sas, nk.calls)
	}
	adds := nk.count("Add")
	if err := m.Activate(bg, KindSA, mnOld, mnNew); err != nil {
		t.Fatal(err)
	}
	if nk.count("Add") != adds || nk.count("SAs") != 1 {
		t.Fatalf("activation with the predicted nCoA touched the SAD: %v", nk.calls)
	}
	if err := m.Activate(bg, KindSP, mnOld, mnNew); err != nil {
		t.Fatal(err)
	}
	if nk.count("SPDAdd") != 3 || nk.count("Policies") != 1 {
		t.Fatalf("activation: %v", nk.calls)
	}
}

func TestPredictionWrong(t *testing.T) {
	pm, _, _ := parWithRacoon()
	data := captureAll(t, pm)
	nk := narKernel()
	m := newModule(t, nk, nar, func(c *Config) { c.Predict = netip.MustParsePrefix("2001:db8:2::/64") })
	for k := KindSA; k <= KindSP; k++ {
		if err := m.PreInstall(bg, k, mnOld, netip.Addr{}, data[k]); err != nil {
			t.Fatal(err)
		}
	}
	real := netip.MustParseAddr("2001:db8:2::abcd")
	for k := KindSA; k <= KindSP; k++ {
		if err := m.Activate(bg, k, mnOld, real); err != nil {
			t.Fatal(err)
		}
	}
	if hasSA(nk, 0x1000, mnNew, nar) || !hasSA(nk, 0x1000, real, nar) || !hasSA(nk, 0x2000, nar, real) {
		t.Fatalf("%v", nk.sas)
	}
	for _, p := range nk.pols {
		if p.Type == pfkey.PolicyIPsec && !p.InvolvesHost(real) {
			t.Fatalf("%v", p)
		}
	}
}

func TestReactiveKnownNCoA(t *testing.T) {
	pm, _, _ := parWithRacoon()
	data := captureAll(t, pm)
	nk := narKernel()
	m := newModule(t, nk, nar, nil)
	if err := m.PreInstall(bg, KindSA, mnOld, mnNew, data[KindSA]); err != nil {
		t.Fatal(err)
	}
	if !hasSA(nk, 0x1000, mnNew, nar) {
		t.Fatal("SAs not installed with the known nCoA")
	}
}

func TestCollisionRules(t *testing.T) {
	otherNAR := netip.MustParseAddr("2001:db8:2::2")
	cases := []struct {
		rule     LookupRule
		existing *pfkey.SAEntry
		collide  bool
	}{
		// Another MN's inbound SA at the nAR with the MN's inbound SPI.
		{RuleSPI, tunnelSA(0x1000, other, nar, 1), true},
		{RuleSPIDst, tunnelSA(0x1000, other, nar, 1), true},
		{RuleSPIDstSrc, tunnelSA(0x1000, other, nar, 1), false},
		// Same SPI towards another destination: only the SPI-alone rule.
		{RuleSPI, tunnelSA(0x1000, nar, otherNAR, 1), true},
		{RuleSPIDst, tunnelSA(0x1000, nar, otherNAR, 1), false},
		{RuleSPIDstSrc, tunnelSA(0x1000, nar, otherNAR, 1), false},
		// The very same triple.
		{RuleSPIDstSrc, tunnelSA(0x1000, mnNew, nar, 1), true},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%d-%v", i, c.rule), func(t *testing.T) {
			pm, _, _ := parWithRacoon()
			data := captureAll(t, pm)
			nk := narKernel()
			nk.sas = append(nk.sas, c.existing)
			nk.rule = c.rule
			r := newFakeRacoon()
			m := newModule(t, nk, nar, func(cf *Config) { cf.Rule = c.rule; cf.IKEv1 = r })
			for k := KindSA; k <= KindSP; k++ {
				if err := m.PreInstall(bg, k, mnOld, mnNew, data[k]); err != nil {
					t.Fatal(err)
				}
			}
			err := m.Activate(bg, KindSA, mnOld, mnNew)
			if c.collide != errors.Is(err, ErrCollision) {
				t.Fatalf("collision %v, err %v", c.collide, err)
			}
			if !c.collide {
				return
			}
			if !strings.Contains(err.Error(), mnOld.String()) || !strings.Contains(err.Error(), "spi 0x1000") {
				t.Fatalf("error does not name the MN and the SA: %v", err)
			}
			if StatusOf(err) != 5 {
				t.Fatal(StatusOf(err))
			}
			// The other SA went in; the colliding one did not.
			n := 0
			for _, s := range nk.sas {
				if s.SPI == 0x1000 {
					n++
				}
			}
			if !hasSA(nk, 0x2000, nar, mnNew) || n != 1 {
				t.Fatalf("%v", nk.sas)
			}
			// Fallback: racoon asked for a quick mode for the outbound policy.
			if len(r.establish) != 1 || r.establish[0].Proto != admin.ProtoESP || r.establish[0].Dst.Addr() != mnNew {
				t.Fatalf("fallback %+v", r.establish)
			}
			st := m.Status()
			if st.Stats.Collisions != 1 || st.Stats.Fallbacks != 1 || len(st.Collisions) != 1 {
				t.Fatalf("%+v", st)
			}
		})
	}
}

func TestParseRule(t *testing.T) {
	for s, want := range map[string]LookupRule{"": RuleSPIDst, "spi": RuleSPI, "spi-dst": RuleSPIDst, "spi-dst-src": RuleSPIDstSrc} {
		if r, err := ParseRule(s); err != nil || r != want {
			t.Fatal(s, r, err)
		}
	}
	if _, err := ParseRule("dst"); err == nil {
		t.Fatal("accepted")
	}
}

func TestKernelEEXISTIsCollision(t *testing.T) {
	pm, _, _ := parWithRacoon()
	data := captureAll(t, pm)
	nk := narKernel()
	nk.sas = append(nk.sas, tunnelSA(0x2000, other, mnNew, 1)) // same (dst, SPI), rule says SPI+dst+src
	m := newModule(t, nk, nar, func(c *Config) { c.Rule = RuleSPIDstSrc })
	if err := m.PreInstall(bg, KindSA, mnOld, mnNew, data[KindSA]); err != nil {
		t.Fatal(err)
	}
	if err := m.Activate(bg, KindSA, mnOld, mnNew); !errors.Is(err, ErrCollision) {
		t.Fatal(err)
	}
}

func TestIKEv1CookieCollision(t *testing.T) {
	pm, _, _ := parWithRacoon()
	data := captureAll(t, pm)
	r := newFakeRacoon()
	r.cookies[testPhase1().Index] = true
	m := newModule(t, narKernel(), nar, func(c *Config) { c.IKEv1 = r })
	if err := m.PreInstall(bg, KindIKEv1, mnOld, netip.Addr{}, data[KindIKEv1]); err != nil {
		t.Fatal(err)
	}
	err := m.Activate(bg, KindIKEv1, mnOld, mnNew)
	if !errors.Is(err, ErrCollision) || len(r.establish) != 1 || r.establish[0].Proto != admin.ProtoISAKMP {
		t.Fatal(err, r.establish)
	}
}

func TestDiscardAndExpiry(t *testing.T) {
	pm, _, _ := parWithRacoon()
	data := captureAll(t, pm)
	nk := narKernel()
	m := newModule(t, nk, nar, func(c *Config) { c.Predict = netip.MustParsePrefix("2001:db8:2::/64") })
	for k := KindSA; k <= KindSP; k++ {
		if err := m.PreInstall(bg, k, mnOld, netip.Addr{}, data[k]); err != nil {
			t.Fatal(err)
		}
	}
	if len(nk.sas) != 2 {
		t.Fatal(nk.sas)
	}
	for k := KindSA; k <= KindSP; k++ {
		if err := m.Discard(bg, k, mnOld); err != nil {
			t.Fatal(err)
		}
	}
	if len(nk.sas) != 0 || len(m.Status().Entries) != 0 {
		t.Fatalf("left behind: %v %+v", nk.sas, m.Status())
	}
	if err := m.Activate(bg, KindSA, mnOld, mnNew); !errors.Is(err, ErrNoContext) {
		t.Fatal(err)
	}
	// Expiry: nobody activates nor discards.
	m2 := newModule(t, nk, nar, func(c *Config) {
		c.Predict = netip.MustParsePrefix("2001:db8:2::/64")
		c.Lifetime = 20 * time.Millisecond
	})
	if err := m2.PreInstall(bg, KindSA, mnOld, netip.Addr{}, data[KindSA]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		m2.mu.Lock()
		n := len(nk.sas)
		m2.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not expired")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if m2.Status().Stats.Expired != 1 {
		t.Fatal("expiry not counted")
	}
}

func TestPreInstallErrors(t *testing.T) {
	pm, _, _ := parWithRacoon()
	data := captureAll(t, pm)
	nk := narKernel()
	m := newModule(t, nk, nar, nil)
	if err := m.PreInstall(bg, KindSA, mnOld, mnNew, []byte{1, 2, 3}); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if err := m.PreInstall(bg, KindSP, mnOld, mnNew, data[KindSA]); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if err := m.PreInstall(bg, KindSA, other, mnNew, data[KindSA]); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	nk.fail["Add"] = errBoom
	err := m.PreInstall(bg, KindSA, mnOld, mnNew, data[KindSA])
	if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), "MN "+mnOld.String()) || !strings.Contains(err.Error(), "spi 0x") {
		t.Fatal(err)
	}
	if strings.Contains(err.Error(), "111111") {
		t.Fatal("key in error")
	}
	delete(nk.fail, "Add")
	if err := m.PreInstall(bg, KindSP, mnOld, mnNew, data[KindSP]); err != nil {
		t.Fatal(err)
	}
	nk.fail["SPDAdd"] = errBoom
	if err := m.Activate(bg, KindSP, mnOld, mnNew); !errors.Is(err, errBoom) {
		t.Fatal(err)
	}
}

func TestTransferredOnPAR(t *testing.T) {
	k := parKernel()
	m := newModule(t, k, par, nil)
	if err := m.Transferred(bg, KindSA, mnOld, 0); err != nil || len(k.sas) != 3 {
		t.Fatal("default must keep", err)
	}
	m = newModule(t, k, par, func(c *Config) { c.DeleteOnTransfer = true })
	if err := m.Transferred(bg, KindSA, mnOld, 1); err != nil || len(k.sas) != 3 {
		t.Fatal("failed transfer must keep", err)
	}
	if err := m.Transferred(bg, KindSA, mnOld, 0); err != nil || len(k.sas) != 1 {
		t.Fatal(err, k.sas)
	}
	if err := m.Transferred(bg, KindSP, mnOld, 0); err != nil || len(k.pols) != 0 {
		t.Fatal(err, k.pols)
	}
}

func TestRewriteMN(t *testing.T) {
	// The MN's view: in/out swapped with respect to the pAR's.
	k := newFakeKernel()
	k.sas = []*pfkey.SAEntry{tunnelSA(0x1000, mnOld, par, 0x11), tunnelSA(0x2000, par, mnOld, 0x21)}
	out := tunnelPolicy(pfkey.DirInbound, mnOld, par)
	out.Dir = pfkey.DirOutbound
	in := tunnelPolicy(pfkey.DirOutbound, mnOld, par)
	in.Dir = pfkey.DirInbound
	k.pols = []*pfkey.PolicyEntry{out, in}
	res, err := RewriteMN(bg, k, MNMove{OldCoA: mnOld, NewCoA: mnNew, OldAR: par, NewAR: nar})
	if err != nil || res.SAs != 2 || res.Policies != 2 {
		t.Fatal(res, err)
	}
	if !hasSA(k, 0x1000, mnNew, nar) || !hasSA(k, 0x2000, nar, mnNew) || len(k.sas) != 2 {
		t.Fatal(k.sas)
	}
	for _, s := range k.sas {
		if s.SPI == 0x1000 && !bytes.Equal(s.Keys.Auth, rep(0x11, 20)) {
			t.Fatal("keys changed")
		}
	}
	for _, p := range k.pols {
		if p.InvolvesHost(mnOld) || p.InvolvesHost(par) || !p.InvolvesHost(mnNew) || !p.InvolvesHost(nar) {
			t.Fatal(p)
		}
	}
	if len(k.pols) != 2 {
		t.Fatal(k.pols)
	}
	// Idempotent: nothing left at the old address.
	if res, err := RewriteMN(bg, k, MNMove{OldCoA: mnOld, NewCoA: mnNew, OldAR: par, NewAR: nar}); err != nil || res.SAs != 0 {
		t.Fatal(res, err)
	}
	k.fail["Add"] = errBoom
	k.sas = append(k.sas, tunnelSA(0x5000, mnOld, par, 1))
	if _, err := RewriteMN(bg, k, MNMove{OldCoA: mnOld, NewCoA: mnNew, OldAR: par, NewAR: nar}); !errors.Is(err, errBoom) || !strings.Contains(err.Error(), "spi 0x5000") {
		t.Fatal(err)
	}
	if _, err := RewriteMN(bg, k, MNMove{OldCoA: mnOld}); err == nil {
		t.Fatal("no new CoA accepted")
	}
}

func TestFPTs(t *testing.T) {
	f := DefaultFPTs()
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	if k, ok := f.Kind(0x8003); !ok || k != KindIKEv1 {
		t.Fatal(k, ok)
	}
	f.SP = f.SA
	if err := f.Validate(); err == nil {
		t.Fatal("duplicate accepted")
	}
	f = DefaultFPTs()
	f.IKEv2 = 1
	if err := f.Validate(); err == nil {
		t.Fatal("FPT 1 accepted")
	}
}

func TestPrecheckCollision(t *testing.T) {
	pm, _, _ := parWithRacoon()
	data := captureAll(t, pm)
	nk := narKernel()
	nk.sas = append(nk.sas, tunnelSA(0x1000, other, nar, 1))
	m := newModule(t, nk, nar, nil)
	if err := m.PreInstall(bg, KindSA, mnOld, netip.Addr{}, data[KindSA]); err != nil {
		t.Fatal(err)
	}
	// Another MN's SA appears between pre-install and activation with the
	// MN's outbound SPI: the kernel's EEXIST catches it.
	nk.sas = append(nk.sas, tunnelSA(0x2000, other, mnNew, 1))
	err := m.Activate(bg, KindSA, mnOld, mnNew)
	if !errors.Is(err, ErrCollision) || nk.count("SAs") != 1 {
		t.Fatal(err, nk.calls)
	}
	if st := m.Status(); st.Stats.Collisions != 2 {
		t.Fatalf("%+v", st.Stats)
	}
	if hasSA(nk, 0x1000, mnNew, nar) || hasSA(nk, 0x2000, nar, mnNew) {
		t.Fatal(nk.sas)
	}
}

func TestAdaptDirections(t *testing.T) {
	pm, pk, _ := parWithRacoon()
	pk.d = pfkey.FreeBSD // a FreeBSD pAR: in and out, no fwd
	pk.pols = pk.pols[:2]
	data := captureAll(t, pm)
	nk := narKernel()
	m := newModule(t, nk, nar, nil)
	if err := m.PreInstall(bg, KindSP, mnOld, mnNew, data[KindSP]); err != nil {
		t.Fatal(err)
	}
	if err := m.Activate(bg, KindSP, mnOld, mnNew); err != nil {
		t.Fatal(err)
	}
	var dirs []pfkey.Direction
	for _, p := range nk.pols {
		if p.Type == pfkey.PolicyIPsec {
			dirs = append(dirs, p.Dir)
		}
	}
	if fmt.Sprint(dirs) != fmt.Sprint([]pfkey.Direction{pfkey.DirInbound, pfkey.DirOutbound, pfkey.DirForward}) {
		t.Fatalf("Linux nAR from a FreeBSD pAR: %v", dirs)
	}
	// And the other way: a Linux pAR's fwd policy is dropped on FreeBSD.
	pm2, _, _ := parWithRacoon()
	data = captureAll(t, pm2)
	fk := narKernel()
	fk.d = pfkey.FreeBSD
	m2 := newModule(t, fk, nar, nil)
	if err := m2.PreInstall(bg, KindSP, mnOld, mnNew, data[KindSP]); err != nil {
		t.Fatal(err)
	}
	if err := m2.Activate(bg, KindSP, mnOld, mnNew); err != nil {
		t.Fatal(err)
	}
	for _, p := range fk.pols {
		if p.Dir == pfkey.DirForward && p.Type == pfkey.PolicyIPsec {
			t.Fatalf("forward policy on FreeBSD: %v", p)
		}
	}
}
