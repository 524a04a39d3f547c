//go:build lab && linux

package ipsecmod

// TestLabIKEv2Transfer (testbed lab test ./ipsecmod): the MN and two ARs in
// namespaces, iked with PF_KEY on all three. MN <-> pAR IKEv2 puts ESP
// between the MN's inner network and the AR's; ping crosses via the pAR.
// The pAR's module captures SAs, policies and the IKE SA; the MN attaches
// to the nAR (nCoA); the nAR's module installs SAs and policies and
// imports the IKE SA into the nAR's iked, which sends MOBIKE to the nCoA;
// the MN's iked moves its SAs; ping crosses via the nAR.

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ikectx/ikectx/ikev2/daemon"
	"github.com/ikectx/ikectx/internal/ikedlab"
)

// labIked starts iked in namespace ns with the one connection name (ESP
// aes128-sha1, MOBIKE on) and returns its control socket.
func labIked(t *testing.T, ns, name, local, remote, lid, rid, lts, rts string) string {
	t.Helper()
	return ikedlab.Start(t, ipCmd, daemon.Control, ikedlab.Conn{NS: ns, Name: name, Local: local, Remote: remote,
		LocalID: lid, RemoteID: rid, LocalTS: lts, RemoteTS: rts, ESP: "aes128-sha1", MOBIKE: true})
}

func TestLabIKEv2Transfer(t *testing.T) {
	t.Run("plain", func(t *testing.T) { labIKEv2Transfer(t, false) })
	// Another MN's SA on the nAR holds the transferred inbound SPI: not
	// touched, the MN's child gets a new SPI by UPDATE_SPI in the MOBIKE
	// request.
	t.Run("collision", func(t *testing.T) { labIKEv2Transfer(t, true) })
}

func labIKEv2Transfer(t *testing.T, collide bool) {
	labNamespaces(t, "k2mn", "k2par", "k2nar")
	sh(t, "link", "add", "mnp", "netns", "k2mn", "type", "veth", "peer", "name", "parm", "netns", "k2par")
	sh(t, "link", "add", "mnn", "netns", "k2mn", "type", "veth", "peer", "name", "narm", "netns", "k2nar")
	for _, x := range []struct{ ns, dev, addr string }{
		{"k2mn", "mnp", "fd00:1::10"}, {"k2par", "parm", "fd00:1::1"},
		{"k2mn", "mnn", "fd00:2::10"}, {"k2nar", "narm", "fd00:2::1"},
	} {
		sh(t, "-n", x.ns, "link", "set", x.dev, "up")
		sh(t, "-n", x.ns, "addr", "add", x.addr+"/64", "dev", x.dev, "nodad")
	}
	sh(t, "-n", "k2mn", "addr", "add", "fd00:a::1/64", "dev", "lo")
	sh(t, "-n", "k2par", "addr", "add", "fd00:b::1/64", "dev", "lo")
	sh(t, "-n", "k2nar", "addr", "add", "fd00:b::1/64", "dev", "lo")
	sh(t, "-n", "k2mn", "route", "add", "fd00:b::/64", "via", "fd00:1::1", "dev", "mnp")
	sh(t, "-n", "k2par", "route", "add", "fd00:a::/64", "via", "fd00:1::10", "dev", "parm")
	sh(t, "-n", "k2nar", "route", "add", "fd00:a::/64", "via", "fd00:2::10", "dev", "narm")

	mnS := labIked(t, "k2mn", "home", "fd00:1::10", "fd00:1::1", "mn@example", "ar@example", "fd00:a::/64", "fd00:b::/64")
	parS := labIked(t, "k2par", "mn", "fd00:1::1", "fd00:1::10", "ar@example", "mn@example", "fd00:b::/64", "fd00:a::/64")
	narS := labIked(t, "k2nar", "mn", "fd00:2::1", "fd00:1::10", "ar@example", "mn@example", "fd00:b::/64", "fd00:a::/64")
	if _, err := daemon.Control(mnS, "initiate", "home"); err != nil {
		t.Fatalf("initiate: %v", err)
	}
	ping := func(what, ar string) {
		t.Helper()
		out, err := exec.Command(ipCmd, "netns", "exec", "k2mn", "ping", "-6", "-c", "2", "-W", "3", "-I", "fd00:a::1", "fd00:b::1").CombinedOutput()
		if err != nil {
			st, _ := daemon.Control(mnS, "status")
			x, _ := exec.Command(ipCmd, "-n", ar, "xfrm", "state").CombinedOutput()
			p, _ := exec.Command(ipCmd, "-n", ar, "xfrm", "policy").CombinedOutput()
			t.Fatalf("%s: ping: %v\n%s\nMN status:\n%s\n%s xfrm state:\n%s\nxfrm policy:\n%s", what, err, out, st, ar, noKeys(x), p)
		}
		x, _ := exec.Command(ipCmd, "-n", ar, "-s", "xfrm", "state").CombinedOutput()
		if !strings.Contains(string(x), "proto esp") {
			t.Fatalf("%s: no ESP SA on %s:\n%s", what, ar, noKeys(x))
		}
	}
	ping("via the pAR", "k2par")

	ctx := context.Background()
	pcoa, ncoa := netip.MustParseAddr("fd00:1::10"), netip.MustParseAddr("fd00:2::10")
	pm, err := New(Config{Address: netip.MustParseAddr("fd00:1::1"), Kernel: openKey(t, "k2par"), IKEv2: &Iked{Socket: parS}})
	if err != nil {
		t.Fatal(err)
	}
	var data [numKinds][]byte
	for _, k := range []Kind{KindSA, KindSP, KindIKEv2} {
		if data[k], err = pm.Capture(ctx, k, pcoa); err != nil {
			t.Fatalf("capture %v: %v", k, err)
		}
	}
	// The MN attaches to the nAR.
	sh(t, "-n", "k2mn", "route", "replace", "fd00:b::/64", "via", "fd00:2::1", "dev", "mnn")
	narIked := &Iked{Socket: narS}
	nk := openKey(t, "k2nar")
	nm, err := New(Config{Address: netip.MustParseAddr("fd00:2::1"), Kernel: nk, IKEv2: narIked})
	if err != nil {
		t.Fatal(err)
	}
	sp, _ := daemon.Control(parS, "status")
	ch := childSPIRe.FindStringSubmatch(sp)
	in := hexSPI(t, ch[1])
	otherMN := netip.MustParseAddr("fd00:2::99")
	if collide {
		if err := nk.Add(ctx, labSA(in, otherMN, netip.MustParseAddr("fd00:2::1"), labKeyA1, labKeyE1)); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	for _, k := range []Kind{KindSA, KindSP, KindIKEv2} {
		if err := nm.PreInstall(ctx, k, pcoa, ncoa, data[k]); err != nil {
			t.Fatalf("pre-install %v: %v", k, err)
		}
	}
	for _, k := range []Kind{KindSA, KindSP, KindIKEv2} {
		if err := nm.Activate(ctx, k, pcoa, ncoa); err != nil {
			t.Fatalf("activate %v: %v", k, err)
		}
	}
	narIked.Wait()
	t.Logf("pre-install + activation + MOBIKE: %v", time.Since(start))
	res := narIked.Outcomes()
	if len(res) != 1 || res[0].Err != nil || res[0].RoundTrips != 1 || res[0].Fallback {
		t.Fatalf("move: %+v", res)
	}
	t.Log(res[0])
	want := 0
	if collide {
		want = 1
	}
	if res[0].Updated != want {
		t.Fatalf("updated %d SPIs, want %d", res[0].Updated, want)
	}
	ping("via the nAR", "k2nar")
	if collide {
		x, _ := exec.Command(ipCmd, "-n", "k2nar", "xfrm", "state").CombinedOutput()
		if !strings.Contains(string(x), "src fd00:2::99") || strings.Count(string(x), fmt.Sprintf("spi 0x%08x", in)) != 1 {
			t.Fatalf("the other MN's SA was touched or the transferred SPI installed:\n%s", noKeys(x))
		}
		t.Logf("nAR xfrm state (keys cut):\n%s", noKeys(x))
	}
	st, _ := daemon.Control(mnS, "status")
	if !strings.Contains(st, "remote [fd00:2::1]") {
		t.Fatalf("MN not moved:\n%s", st)
	}
	t.Logf("MN:\n%s", st)
}

// noKeys drops the key lines of `ip xfrm state` output (keys are never
// logged).
func noKeys(b []byte) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && (f[0] == "auth" || f[0] == "auth-trunc" || f[0] == "enc" || f[0] == "aead") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
