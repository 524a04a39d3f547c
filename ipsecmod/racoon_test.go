//go:build linux

package ipsecmod

import (
	"bytes"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/ikectx/ikectx/racoon/admin"
	"github.com/ikectx/ikectx/racoon/admin/admintest"
)

// racoonSocket serves a fake racoon on a real admin socket.
func racoonSocket(t *testing.T, f *admintest.Fake) *admin.Client {
	t.Helper()
	path := filepath.Join(t.TempDir(), "racoon.sock")
	s, err := admin.Listen(admin.ServerConfig{Path: path, UID: -1, GID: -1, Backend: f,
		MayExport: func(admin.PeerCred) bool { return true }})
	if err != nil {
		t.Skip("admin socket:", err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return &admin.Client{Path: path, Timeout: 5 * time.Second}
}

// TestRacoonAdminSocket moves a phase 1 from the pAR's racoon to the nAR's
// through the real admin protocol (EXPORT_PH1, IMPORT_PH1) and falls back
// to ESTABLISH_SA on an SPI collision.
func TestRacoonAdminSocket(t *testing.T) {
	pf := &admintest.Fake{Contexts: []*admin.Phase1Context{testPhase1()}}
	pm := newModule(t, parKernel(), par, func(c *Config) { c.IKEv1 = racoonSocket(t, pf) })
	var data [numKinds][]byte
	for k := KindSA; k <= KindIKEv1; k++ {
		var err error
		if data[k], err = pm.Capture(bg, k, mnOld); err != nil {
			t.Fatal(k, err)
		}
	}
	// No phase 1 with another MN.
	if _, err := pm.Capture(bg, KindIKEv1, other); !errors.Is(err, ErrNoContext) {
		t.Fatal(err)
	}

	nf := &admintest.Fake{}
	nk := narKernel()
	nk.sas = append(nk.sas, tunnelSA(0x1000, other, nar, 1)) // collides with the MN's inbound SA
	nm := newModule(t, nk, nar, func(c *Config) { c.IKEv1 = racoonSocket(t, nf) })
	for k := KindSA; k <= KindIKEv1; k++ {
		if err := nm.PreInstall(bg, k, mnOld, netip.Addr{}, data[k]); err != nil {
			t.Fatal(k, err)
		}
	}
	if err := nm.Activate(bg, KindSP, mnOld, mnNew); err != nil {
		t.Fatal(err)
	}
	if err := nm.Activate(bg, KindSA, mnOld, mnNew); !errors.Is(err, ErrCollision) {
		t.Fatal(err)
	}
	if err := nm.Activate(bg, KindIKEv1, mnOld, mnNew); err != nil {
		t.Fatal(err)
	}
	nf.Lock()
	defer nf.Unlock()
	if len(nf.Imports) != 1 {
		t.Fatalf("imports %+v", nf.Imports)
	}
	im := nf.Imports[0]
	want := testPhase1()
	if im.Local != netip.AddrPortFrom(nar, 500) || im.Remote != netip.AddrPortFrom(mnNew, 500) ||
		im.Ctx.Index != want.Index || !bytes.Equal(im.Ctx.SKEYIDd, want.SKEYIDd) {
		t.Fatalf("imported %v at %v %v", im.Ctx, im.Local, im.Remote)
	}
	if len(nf.Established) != 1 || nf.Established[0].Proto != admin.ProtoESP ||
		nf.Established[0].Dst.Addr() != mnNew || nf.Established[0].Src.Addr() != ha {
		t.Fatalf("fallback %+v", nf.Established)
	}
}
