package ipsecmod

import (
	"context"
	"errors"
	"net/netip"
	"syscall"
	"testing"

	"github.com/ikectx/ikectx/pfkey"
)

// getKernel is the fake SAD with Linux's SADB_GET: by (type, destination,
// SPI), whatever the source.
type getKernel struct{ *fakeKernel }

func (k getKernel) Get(_ context.Context, st pfkey.SAType, src, dst netip.Addr, spi uint32) (*pfkey.SAEntry, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, "Get")
	for _, s := range k.sas {
		if s.Type == st && s.SPI == spi && s.Dst == dst {
			return s.Clone(), nil
		}
	}
	return nil, syscall.ESRCH
}

// TestCollisionByGet: on Linux, under the rules that include the
// destination, the collision check asks SADB_GET per transferred SA
// instead of dumping the whole SAD, and finds the same collisions; under
// rule spi (and on FreeBSD) the dump stays.
func TestCollisionByGet(t *testing.T) {
	for _, c := range []struct {
		rule    LookupRule
		dialect *pfkey.Dialect
		gets    bool
		collide bool
	}{
		{RuleSPIDst, pfkey.Linux, true, true},
		{RuleSPIDstSrc, pfkey.Linux, true, true}, // found by GET, not by the rule: the kernel's EEXIST
		{RuleSPI, pfkey.Linux, false, true},
		{RuleSPIDst, pfkey.FreeBSD, false, true},
	} {
		t.Run(c.rule.String()+"-"+c.dialect.Name, func(t *testing.T) {
			for _, known := range []bool{true, false} {
				pm, _, _ := parWithRacoon()
				data := captureAll(t, pm)
				nk := narKernel()
				nk.d = c.dialect
				// Another MN's inbound SA at the nAR with the MN's inbound SPI.
				nk.sas = append(nk.sas, tunnelSA(0x1000, other, nar, 1))
				m := newModule(t, getKernel{nk}, nar, func(cf *Config) { cf.Rule = c.rule; cf.IKEv1 = newFakeRacoon() })
				ncoa := mnNew
				if !known {
					ncoa = netip.Addr{}
				}
				if err := m.PreInstall(bg, KindSA, mnOld, ncoa, data[KindSA]); err != nil {
					t.Fatal(err)
				}
				err := m.Activate(bg, KindSA, mnOld, mnNew)
				if c.collide != errors.Is(err, ErrCollision) {
					t.Fatalf("known nCoA %v: collision %v, err %v", known, c.collide, err)
				}
				dumps, gets := nk.count("SAs"), nk.count("Get")
				// (Under spi-dst-src nothing can be checked before the nCoA
				// is known: no GET then.)
				wantGet := known || c.rule == RuleSPIDst
				if c.gets && (dumps != 0 || (gets == 0) == wantGet) || !c.gets && (dumps == 0 || gets != 0) {
					t.Fatalf("known nCoA %v: %d dumps, %d gets (want gets %v): %v", known, dumps, gets, c.gets, nk.calls)
				}
				if hasSA(nk, 0x1000, mnNew, nar) || !hasSA(nk, 0x1000, other, nar) {
					t.Fatalf("the colliding SA was installed or the other MN's touched: %v", nk.sas)
				}
			}
		})
	}
}

// TestCollisionByGetError: a failing GET (not "no such SA") is an error
// naming the MN, and nothing stays installed.
func TestCollisionByGetError(t *testing.T) {
	pm, _, _ := parWithRacoon()
	data := captureAll(t, pm)
	nk := narKernel()
	m := newModule(t, failGet{getKernel{nk}}, nar, nil)
	err := m.PreInstall(bg, KindSA, mnOld, mnNew, data[KindSA])
	if err == nil || !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	if hasSA(nk, 0x2000, nar, mnNew) {
		t.Fatal(nk.sas)
	}
}

type failGet struct{ getKernel }

func (failGet) Get(context.Context, pfkey.SAType, netip.Addr, netip.Addr, uint32) (*pfkey.SAEntry, error) {
	return nil, syscall.EIO
}
