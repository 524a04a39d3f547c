package netnstest

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// Run runs args (args[0] the program) and returns its combined output;
// the test fails at once if it does not succeed.
func Run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return string(out)
}

// IPBatch runs ip (the path of the ip binary) -batch with cmds, in
// namespace ns if it is not empty: one process for many ip commands (each
// costs a few hundred ms under emulation on a busy host).
func IPBatch(t *testing.T, ip, ns, cmds string) {
	t.Helper()
	args := []string{"-batch", "-"}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	cmd := exec.Command(ip, args...)
	cmd.Stdin = strings.NewReader(cmds)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ip %v:\n%s: %v\n%s", args, cmds, err, out)
	}
}

// VethPair makes namespaces a and b (deleted by the cleanup) joined by a
// veth, devA in a and devB in b: a has fd00:5::1 outside and fd00:a::1/64
// on lo, b fd00:5::2 and fd00:b::1/64, each routes the other's inner
// network via the veth. ip is the path of the ip binary.
func VethPair(t *testing.T, ip, a, b, devA, devB string) {
	t.Helper()
	for _, ns := range []string{a, b} {
		ns := ns
		t.Cleanup(func() { exec.Command(ip, "netns", "del", ns).Run() })
	}
	IPBatch(t, ip, "", fmt.Sprintf("netns add %s\nnetns add %s\nlink add %s netns %s type veth peer name %s netns %s\n", a, b, devA, a, devB, b))
	for _, x := range []struct{ ns, dev, addr, inner, peer, rnet string }{
		{a, devA, "fd00:5::1", "fd00:a::1", "fd00:5::2", "fd00:b::/64"},
		{b, devB, "fd00:5::2", "fd00:b::1", "fd00:5::1", "fd00:a::/64"},
	} {
		IPBatch(t, ip, x.ns, fmt.Sprintf("link set lo up\nlink set %s up\naddr add %s/64 dev %s nodad\naddr add %s/64 dev lo\nroute add %s via %s dev %s\n",
			x.dev, x.addr, x.dev, x.inner, x.rnet, x.peer, x.dev))
	}
}
