package transport

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Test topology: two network namespaces joined by one veth pair.
//
//	[ns A] vethA 2001:db8:c7::1/64, 192.0.2.1/24  <->  vethB 2001:db8:c7::2/64, 192.0.2.2/24 [ns B]
type nsPair struct {
	A, B         string // namespace names
	IfA, IfB     string // veth ends
	A6, B6       string
	A4, B4       string
	LinkLocalIfA string
}

var nsSeq atomic.Int32

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces and raw sockets")
	}
}

// ipBinaryPath finds iproute2's ip; /sbin/ip first because in the kernel
// lab busybox provides another "ip" earlier in PATH.
func ipBinaryPath() string {
	for _, p := range []string{"/sbin/ip", "/usr/sbin/ip", "/bin/ip", "/usr/bin/ip"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("ip"); err == nil {
		return p
	}
	return ""
}

func ipBinary(t testing.TB) string {
	t.Helper()
	p := ipBinaryPath()
	if p == "" {
		t.Skip("iproute2 ip not found")
	}
	return p
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// newNSPair creates the two namespaces and the veth pair; t.Cleanup
// deletes them (which deletes the veth too).
func newNSPair(t testing.TB) *nsPair {
	t.Helper()
	requireRoot(t)
	ip := ipBinary(t)
	n := nsSeq.Add(1)
	id := fmt.Sprintf("%d%d", os.Getpid()%100000, n)
	p := &nsPair{
		A: "cxtpA" + id, B: "cxtpB" + id,
		IfA: "cxa" + id, IfB: "cxb" + id,
		A6: "2001:db8:c7::1", B6: "2001:db8:c7::2",
		A4: "192.0.2.1", B4: "192.0.2.2",
	}
	run(t, ip, "netns", "add", p.A)
	t.Cleanup(func() { exec.Command(ip, "netns", "del", p.A).Run() })
	run(t, ip, "netns", "add", p.B)
	t.Cleanup(func() { exec.Command(ip, "netns", "del", p.B).Run() })
	run(t, ip, "link", "add", p.IfA, "netns", p.A, "type", "veth", "peer", "name", p.IfB, "netns", p.B)
	for _, s := range []struct{ ns, ifc, a6, a4 string }{{p.A, p.IfA, p.A6, p.A4}, {p.B, p.IfB, p.B6, p.A4}} {
		a4 := p.A4
		if s.ns == p.B {
			a4 = p.B4
		}
		run(t, ip, "-n", s.ns, "link", "set", "lo", "up")
		run(t, ip, "-n", s.ns, "addr", "add", s.a6+"/64", "dev", s.ifc, "nodad")
		run(t, ip, "-n", s.ns, "addr", "add", a4+"/24", "dev", s.ifc)
		run(t, ip, "-n", s.ns, "link", "set", s.ifc, "up")
	}
	return p
}

// inNS runs fn on a locked OS thread that has entered namespace ns. Sockets
// created by fn stay in ns and may be used from any goroutine afterwards.
// The thread is never returned to the pool: the goroutine exits locked, so
// the runtime discards it.
func inNS(t testing.TB, ns string, fn func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	if err := <-errc; err != nil {
		t.Fatalf("in netns %s: %v", ns, err)
	}
}
