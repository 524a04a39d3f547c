package stress

import (
	"context"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/ipsecmod"
	"github.com/ikectx/ikectx/pfkey"
)

func table(t *testing.T, rep *Report) {
	t.Helper()
	var b strings.Builder
	rep.WriteTable(&b)
	t.Log("\n" + b.String())
}

// TestStress: 200 MNs, every rule, the nAR's SAD full of colliding SPIs
// (every MN's inbound ESP SPI, half of the IKE SPIs).
func TestStress(t *testing.T) {
	for _, rule := range []ipsecmod.LookupRule{ipsecmod.RuleSPIDst, ipsecmod.RuleSPI, ipsecmod.RuleSPIDstSrc} {
		t.Run(rule.String(), func(t *testing.T) {
			rep, err := Run(context.Background(), Options{MNs: 200, Rule: rule, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			table(t, rep)
			if !rep.OK() {
				t.Fatalf("%d problems", len(rep.Problems))
			}
			if rep.ESPCollisions != 200 || rep.IKECollisions == 0 || rep.MNsColliding != 200 || rep.TrafficOK != 200 {
				t.Fatalf("collisions ESP %d IKE %d MNs %d, traffic %d", rep.ESPCollisions, rep.IKECollisions, rep.MNsColliding, rep.TrafficOK)
			}
			// All colliding SPIs of an MN in one request: one round trip each.
			if rep.RoundTrips["1"] != 200 || rep.UpdateSPIs != rep.ESPCollisions+rep.IKECollisions {
				t.Fatalf("round trips %v, UPDATE_SPI %d", rep.RoundTrips, rep.UpdateSPIs)
			}
		})
	}
}

// TestStressHighCollisionRate: every SPI (the pAR's, the other MNs', the
// nAR's GETSPI) from a range of 2000, two children per MN, 30% of the MNs
// pre-collided: the SPIs the nAR picks for earlier MNs collide with later
// imports.
func TestStressHighCollisionRate(t *testing.T) {
	for _, rule := range []ipsecmod.LookupRule{ipsecmod.RuleSPIDst, ipsecmod.RuleSPI} {
		t.Run(rule.String(), func(t *testing.T) {
			rep, err := Run(context.Background(), Options{MNs: 200, Rule: rule, Seed: 7, SPIRange: 2000, Children: 2, CollideESP: 0.3})
			if err != nil {
				t.Fatal(err)
			}
			table(t, rep)
			if !rep.OK() {
				t.Fatalf("%d problems", len(rep.Problems))
			}
			if rep.WithEarlier == 0 || rep.ESPCollisions <= rep.WithEarlier || rep.RoundTrips["fallback"] != 0 || rep.RoundTrips["1"] != 200 {
				t.Fatalf("collisions %d (with earlier handovers %d), round trips %v, per request %v", rep.ESPCollisions, rep.WithEarlier, rep.RoundTrips, rep.PerRequest)
			}
		})
	}
}

// TestStressRangeExhausted: more SAs than SPIs in the GETSPI range under
// rule spi: GETSPI fails, Algorithm 1 falls back to a full negotiation
// (which cannot get an SPI either): reported, not hidden.
func TestStressRangeExhausted(t *testing.T) {
	rep, err := Run(context.Background(), Options{MNs: 40, Rule: ipsecmod.RuleSPI, Seed: 2, SPIRange: 60, Others: -1})
	if err != nil {
		t.Fatal(err)
	}
	table(t, rep)
	if rep.RoundTrips["fallback"] == 0 || rep.OK() {
		t.Fatalf("round trips %v, %d problems", rep.RoundTrips, len(rep.Problems))
	}
}

// TestStressChecksCatch: the checks see a pre-filled SA gone and two SAs
// the rule cannot tell apart.
func TestStressChecksCatch(t *testing.T) {
	o := Options{MNs: 20, Seed: 4}
	o.tamper = func(r *run) {
		ctx := context.Background()
		v := r.prefill[0]
		if err := r.narK.Delete(ctx, v.Type, v.Src, v.Dst, v.SPI); err != nil {
			t.Fatal(err)
		}
		// An SA that collides with MN 0's inbound one, slipped past the
		// SAD's own check.
		st := r.nar.SAs()
		for _, s := range st {
			if s.Remote.Addr() == r.p.NCoA[0] {
				sad := r.o.Backend.(*Memory).NARSAD
				sad.mu.Lock()
				sad.sas = append(sad.sas, prefillSA(s.Children[0].SPIIn, r.p.Others[0], r.p.NAR, 1))
				sad.mu.Unlock()
			}
		}
	}
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(rep.Problems, "\n")
	for _, want := range []string{"pre-filled SA", "collide under rule spi-dst", "MN 0: the nAR's lookup"} {
		if !strings.Contains(all, want) {
			t.Errorf("no problem %q reported:\n%s", want, all)
		}
	}
}

// TestSADRule: the memory SAD refuses what its rule cannot tell apart and
// GETSPI picks free SPIs in its range.
func TestSADRule(t *testing.T) {
	ctx := context.Background()
	a, b, c := hostIn(netipP("fd00:5::/64"), 1), hostIn(netipP("fd00:5::/64"), 2), hostIn(netipP("fd00:5::/64"), 3)
	for _, x := range []struct {
		rule ipsecmod.LookupRule
		cand *pfkey.SAEntry
		ok   bool
	}{
		{ipsecmod.RuleSPI, prefillSA(0x1000, c, b, 0), false},
		{ipsecmod.RuleSPIDst, prefillSA(0x1000, c, b, 0), true},
		{ipsecmod.RuleSPIDst, prefillSA(0x1000, c, a, 0), false},
		{ipsecmod.RuleSPIDstSrc, prefillSA(0x1000, c, a, 0), true},
		{ipsecmod.RuleSPIDstSrc, prefillSA(0x1000, b, a, 0), false},
	} {
		s := NewSAD(x.rule, 1)
		if err := s.Add(ctx, prefillSA(0x1000, b, a, 0)); err != nil {
			t.Fatal(err)
		}
		err := s.Add(ctx, x.cand)
		if (err == nil) != x.ok || err != nil && !pfkey.IsExist(err) {
			t.Errorf("rule %v: add %v->%v: %v", x.rule, x.cand.Src, x.cand.Dst, err)
		}
		s.Min, s.Max = 0x1000, 0x1001
		spi, err := s.GetSPI(b, a)
		if err != nil || spi != 0x1001 {
			t.Errorf("rule %v: getspi = 0x%x, %v", x.rule, spi, err)
		}
		if _, err := s.GetSPI(b, a); err == nil {
			t.Errorf("rule %v: getspi in a full range succeeded", x.rule)
		}
	}
}

// TestStressGETSPILooserThanRule: the nAR's kernel enforces SPI and
// destination (Linux) but the rule in force is spi: an SPI from GETSPI
// can collide under the rule with another MN's outbound SA, the re-check
// after the round finds it and Algorithm 1 runs more round trips (the
// paper's loop). Half the MNs pre-collided, SPIs from a range of 2000.
func TestStressGETSPILooserThanRule(t *testing.T) {
	rep, err := Run(context.Background(), Options{MNs: 200, Rule: ipsecmod.RuleSPI, KernelRule: ipsecmod.RuleSPIDst, Seed: 4, SPIRange: 2000, CollideESP: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	table(t, rep)
	if !rep.OK() {
		t.Fatalf("%d problems", len(rep.Problems))
	}
	if rep.LateESP == 0 || rep.RoundTrips["2"] == 0 || rep.RoundTrips["1"]+rep.RoundTrips["2"]+rep.RoundTrips["3"] != 200 {
		t.Fatalf("again after a round %d, round trips %v", rep.LateESP, rep.RoundTrips)
	}
}
