//go:build lab && linux

package daemon

// Runs inside the kernel lab (Debian's kernel under qemu, real PF_KEY and
// ESP): two network namespaces joined by veth, iked with PF_KEY on each
// side; the initiator's IKE_SA_INIT + IKE_AUTH installs the child SAs and
// tunnel policies through PF_KEY (GETSPI, UPDATE, ADD, X_SPDADD), a ping
// between the inner networks crosses ESP, a child rekey and a MOBIKE move
// keep it working.

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/internal/ikedlab"
	"github.com/ikectx/ikectx/internal/netnstest"
)

var labRun = netnstest.Run

// labIked starts iked in namespace ns with the one connection name (ESP
// aes128-sha256, MOBIKE off) and returns its control socket.
func labIked(t *testing.T, ns, name, local, remote, lid, rid, lts, rts string) string {
	t.Helper()
	return ikedlab.Start(t, "/sbin/ip", Control, ikedlab.Conn{NS: ns, Name: name, Local: local, Remote: remote,
		LocalID: lid, RemoteID: rid, LocalTS: lts, RemoteTS: rts, ESP: "aes128-sha256", MOBIKE: false})
}

// labIkedPair joins new namespaces a and b by a veth pair (devA in a,
// devB in b: fd00:5::1 and fd00:5::2, inner networks fd00:a::/64 and
// fd00:b::/64 on lo, each routed via the peer), starts iked in both (the
// connection "home" in a, "mn" in b) and returns their control sockets.
func labIkedPair(t *testing.T, a, b, devA, devB string) (sa, sb string) {
	t.Helper()
	netnstest.VethPair(t, "/sbin/ip", a, b, devA, devB)
	sa = labIked(t, a, "home", "fd00:5::1", "fd00:5::2", "mn@example", "ar@example", "fd00:a::/64", "fd00:b::/64")
	sb = labIked(t, b, "mn", "fd00:5::2", "fd00:5::1", "ar@example", "mn@example", "fd00:b::/64", "fd00:a::/64")
	return sa, sb
}

func TestLabIkedPFKEY(t *testing.T) {
	a, b := "ikv2a", "ikv2b"
	sa, _ := labIkedPair(t, a, b, "va", "vb")
	if _, err := Control(sa, "initiate", "home"); err != nil {
		t.Fatalf("initiate: %v", err)
	}
	ping := func(what string) {
		t.Helper()
		out, err := exec.Command("/sbin/ip", "netns", "exec", a, "ping", "-6", "-c", "2", "-W", "3", "-I", "fd00:a::1", "fd00:b::1").CombinedOutput()
		if err != nil {
			st, _ := Control(sa, "status")
			x, _ := exec.Command("/sbin/ip", "-n", a, "xfrm", "state").CombinedOutput()
			p, _ := exec.Command("/sbin/ip", "-n", a, "xfrm", "policy").CombinedOutput()
			t.Fatalf("%s: ping: %v\n%s\nstatus:\n%s\nxfrm state:\n%s\nxfrm policy:\n%s", what, err, out, st, x, p)
		}
	}
	ping("after IKE_AUTH")
	x := labRun(t, "/sbin/ip", "-n", b, "-s", "xfrm", "state")
	if !strings.Contains(x, "proto esp") {
		t.Fatalf("no ESP SA on the responder:\n%s", x)
	}
	st, _ := Control(sa, "status")
	c := childRe.FindStringSubmatch(st)
	if _, err := Control(sa, "rekey-child", c[1]); err != nil {
		t.Fatalf("rekey-child: %v", err)
	}
	ping("after a child rekey")
	x = labRun(t, "/sbin/ip", "-n", a, "xfrm", "state")
	if strings.Contains(x, c[1]) || strings.Count(x, "proto esp") != 2 {
		t.Fatalf("old SAs left after the rekey:\n%s", x)
	}
	// MOBIKE: the initiator moves to a new address.
	labRun(t, "/sbin/ip", "-n", a, "addr", "add", "fd00:5::11/64", "dev", "va", "nodad")
	labRun(t, "/sbin/ip", "-n", b, "route", "replace", "fd00:a::/64", "via", "fd00:5::11", "dev", "vb")
	spi := spiRe.FindStringSubmatch(st)[1]
	if _, err := Control(sa, "move", spi, "fd00:5::11", "-"); err != nil {
		t.Fatalf("move: %v", err)
	}
	ping("after MOBIKE")
	x = labRun(t, "/sbin/ip", "-n", b, "xfrm", "state")
	if !strings.Contains(x, "fd00:5::11") {
		t.Fatalf("responder's SAs not moved:\n%s", x)
	}
}
