//go:build lab && linux

package strongswan

// Runs inside the kernel lab (Debian's kernel under qemu, real XFRM and
// ESP): charon with kernel-netlink against charon, and against ikectx's
// iked with PF_KEY, each in a network namespace joined by a veth (IPv6).
// A ping between the inner networks must cross the SAs charon installed,
// their byte counters must rise, and PF_KEY's SADB_DUMP must list them.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ikectx/ikectx/ikev2/daemon"
	"github.com/ikectx/ikectx/internal/ikedlab"
	"github.com/ikectx/ikectx/internal/netnstest"
	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/testbed/topo"
)

const labIP = "/sbin/ip"

var labRun = netnstest.Run

// labPair makes namespaces name+"a" and name+"b" (deleted by the
// cleanup) joined by a veth: a has fd00:5::1 outside and fd00:a::1/64 on
// lo, b fd00:5::2 and fd00:b::1/64, each routes the other's inner network
// via the veth.
func labPair(t *testing.T, name string) (a, b string) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("strongSwan is not in this lab image: %v", err)
	}
	a, b = name+"a", name+"b"
	netnstest.VethPair(t, labIP, a, b, name+"va", name+"vb")
	return a, b
}

// ipBatch runs ip -batch with cmds (in namespace ns if not empty).
func ipBatch(t *testing.T, ns, cmds string) {
	t.Helper()
	netnstest.IPBatch(t, labIP, ns, cmds)
}

// swanctlConf is one IKEv2 PSK connection name with child "net" (tunnel
// mode, ESP esp, IKE aes128-sha256-ecp256 like ikedlab's iked).
func swanctlConf(name, local, remote, lid, rid, lts, rts, esp string) string {
	return swanctlConfV(name, 2, "aes128-sha256-ecp256", local, remote, lid, rid, lts, rts, esp)
}

// swanctlConfV is swanctlConf with the IKE version and proposals given.
// Several of them concatenated make one file: swanctl merges the sections
// of the same name.
func swanctlConfV(name string, version int, ike, local, remote, lid, rid, lts, rts, esp string) string {
	c := topo.SwanctlConn{Name: name, Version: version, Local: local, Remote: remote, Proposals: ike,
		LocalID: lid, RemoteID: rid, LocalTS: lts, RemoteTS: rts, ESP: esp, StartAction: "none"}
	return fmt.Sprintf(`connections {
%s}
secrets {
	ike-1 {
		id-1 = %s
		id-2 = %s
		secret = "a-long-test-psk"
	}
}
`, c.Section(), lid, rid)
}

// labStart is one charon to start: its namespace and swanctl.conf.
type labStart struct{ ns, conf string }

// labCharon starts charon in ns with conf; its log is shown if the test
// fails.
func labCharon(t *testing.T, ns, conf string) *Charon {
	t.Helper()
	return labCharons(t, []labStart{{ns, conf}})[0]
}

// labCharons starts the charons concurrently.
func labCharons(t *testing.T, starts []labStart) []*Charon {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cs := make([]*Charon, len(starts))
	errs := make([]error, len(starts))
	var wg sync.WaitGroup
	for i, st := range starts {
		dir := filepath.Join(t.TempDir(), "charon-"+st.ns)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs[i], errs[i] = Start(ctx, st.ns, dir, st.conf, nil)
		}()
	}
	wg.Wait()
	for i, c := range cs {
		if c != nil {
			stopAtCleanup(t, starts[i].ns, c)
		}
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return cs
}

// stopAtCleanup stops c when the test ends, showing its log if it failed.
func stopAtCleanup(t *testing.T, ns string, c *Charon) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("charon in %s:\n%s", ns, c.Output())
		}
		t0 := time.Now()
		c.Stop()
		t.Logf("measure: charon in %s stopped in %.0f ms", ns, ms(time.Since(t0)))
	})
}

func xfrmESP(t *testing.T, ns string) []espSA {
	t.Helper()
	return parseXfrmState(labRun(t, labIP, "-n", ns, "-s", "xfrm", "state"))
}

// pingESP pings b's inner address from a's and checks that every ESP SA
// in both namespaces (one pair each) carried bytes.
func pingESP(t *testing.T, a, b string) {
	t.Helper()
	out, err := exec.Command(labIP, "netns", "exec", a, "ping", "-6", "-c", "2", "-i", "0.2", "-W", "3", "-I", "fd00:a::1", "fd00:b::1").CombinedOutput()
	if err != nil {
		t.Fatalf("ping across the tunnel: %v\n%s\nSAs in %s: %v\nSAs in %s: %v", err, out, a, xfrmESP(t, a), b, xfrmESP(t, b))
	}
	for _, ns := range []string{a, b} {
		sas := xfrmESP(t, ns)
		if len(sas) != 2 {
			t.Fatalf("%s: want 2 ESP SAs, have %v", ns, sas)
		}
		for _, s := range sas {
			if s.bytes == 0 || s.packets < 2 {
				t.Errorf("%s: no ESP traffic on %v", ns, s)
			}
		}
	}
}

// pfkeyInNetns opens a PF_KEY socket in network namespace ns.
func pfkeyInNetns(t *testing.T, ns string) *pfkey.Conn {
	t.Helper()
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	c, oerr := pfkey.Open()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: it dies with this goroutine.
		t.Fatalf("back to the initial namespace: %v", err)
	}
	runtime.UnlockOSThread()
	if oerr != nil {
		t.Fatal(oerr)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// checkPFKEYDump checks that SADB_DUMP in ns lists exactly the ESP SAs
// that ip xfrm state shows there (charon installed them through netlink).
func checkPFKEYDump(t *testing.T, ns string) {
	t.Helper()
	c := pfkeyInNetns(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sas, err := c.SAs(ctx, pfkey.SATypeESP)
	if err != nil {
		t.Fatalf("%s: SADB_DUMP: %v", ns, err)
	}
	var got, want []string
	for _, e := range sas {
		got = append(got, fmt.Sprintf("%v->%v/%08x", e.Src, e.Dst, e.SPI))
		e.Wipe()
	}
	for _, s := range xfrmESP(t, ns) {
		want = append(want, fmt.Sprintf("%s->%s/%08x", s.src, s.dst, s.spi))
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") || len(got) == 0 {
		t.Errorf("%s: SADB_DUMP lists %v, ip xfrm state %v", ns, got, want)
	}
}

// charon <-> charon: IKEv2 PSK, both installing through kernel-netlink;
// then, the IKEv2 SA deleted, IKEv1 main mode + quick mode over the same
// pair (the plugin set covers both).
func TestLabCharonCharon(t *testing.T) {
	a, b := labPair(t, "swcc")
	confA := swanctlConf("cc", "fd00:5::1", "fd00:5::2", "mn@example", "ar@example", "fd00:a::/64", "fd00:b::/64", "aes128-sha256") +
		swanctlConfV("v1", 1, "aes128-sha256-modp2048", "fd00:5::1", "fd00:5::2", "mn@example", "ar@example", "fd00:a::/64", "fd00:b::/64", "aes128-sha256")
	confB := swanctlConf("cc", "fd00:5::2", "fd00:5::1", "ar@example", "mn@example", "fd00:b::/64", "fd00:a::/64", "aes128-sha256") +
		swanctlConfV("v1", 1, "aes128-sha256-modp2048", "fd00:5::2", "fd00:5::1", "ar@example", "mn@example", "fd00:b::/64", "fd00:a::/64", "aes128-sha256")
	// Both charons start at once (their start is mostly waiting for the
	// one vCPU, but swanctl --load-all overlaps the other's start).
	cs := labCharons(t, []labStart{{a, confA}, {b, confB}})
	ca, cb := cs[0], cs[1]
	t0 := time.Now()
	ike, err := ca.Initiate("cc", "net", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Since(t0)
	pingESP(t, a, b)
	checkPFKEYDump(t, a)
	checkPFKEYDump(t, b)

	if out, err := ca.Swanctl("--terminate", "--ike", "cc", "--timeout", "20"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	waitNoESP(t, a, b)
	v1, err := ca.Initiate("v1", "net", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	pingESP(t, a, b)
	t.Logf("measure: charon ready (vici answers; both started together) %.0f and %.0f ms, swanctl.conf loaded %.0f and %.0f ms after start; charon->charon IKE_SA_INIT+IKE_AUTH %.0f ms in charon's log (swanctl --initiate %.0f ms); IKEv1 main+quick (modp2048) %.0f ms in charon's log",
		ms(ca.ReadyAfter), ms(cb.ReadyAfter), ms(ca.LoadedAfter), ms(cb.LoadedAfter), ms(ike), ms(wall), ms(v1))
}

// waitNoESP waits until the namespaces hold no ESP SA.
func waitNoESP(t *testing.T, nss ...string) {
	t.Helper()
	for _, ns := range nss {
		for end := time.Now().Add(10 * time.Second); len(xfrmESP(t, ns)) != 0; {
			if time.Now().After(end) {
				t.Fatalf("%s: ESP SAs left after the delete: %v", ns, xfrmESP(t, ns))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// charon (kernel-netlink) <-> iked (PF_KEY): charon initiates, terminates,
// then iked initiates. ESP aes128-sha1: Linux's PF_KEY gives
// HMAC-SHA2-256 a 96-bit ICV, which charon's netlink SAs (128 bits) would
// not match.
func TestLabCharonIked(t *testing.T) {
	a, b := labPair(t, "swci")
	ca := labCharon(t, a, swanctlConf("ci", "fd00:5::1", "fd00:5::2", "mn@example", "ar@example", "fd00:a::/64", "fd00:b::/64", "aes128-sha1"))
	sock := ikedlab.Start(t, labIP, daemon.Control, ikedlab.Conn{NS: b, Name: "ci", Local: "fd00:5::2", Remote: "fd00:5::1",
		LocalID: "ar@example", RemoteID: "mn@example", LocalTS: "fd00:b::/64", RemoteTS: "fd00:a::/64", ESP: "aes128-sha1"})
	established := func() {
		t.Helper()
		pingESP(t, a, b)
		checkPFKEYDump(t, a)
		if out, err := ca.Swanctl("--list-sas"); err != nil || !strings.Contains(out, "ESTABLISHED") || !strings.Contains(out, "INSTALLED") {
			t.Errorf("charon's SAs: %v\n%s", err, out)
		}
	}

	// charon initiates.
	t0 := time.Now()
	ike, err := ca.Initiate("ci", "net", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Since(t0)
	established()

	// charon deletes the IKE SA; both kernels must be empty again.
	if out, err := ca.Swanctl("--terminate", "--ike", "ci", "--timeout", "20"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	waitNoESP(t, a, b)

	// iked initiates.
	t1 := time.Now()
	if _, err := daemon.Control(sock, "initiate", "ci"); err != nil {
		t.Fatalf("iked initiate: %v", err)
	}
	ikedWall := time.Since(t1)
	established()
	var resp time.Duration
	for end := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var ok bool
		if resp, ok = ExchangeTime(ca.Events(), t1); ok {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("charon's log shows no exchange: %v", ca.Events())
		}
	}
	t.Logf("measure: charon ready %.0f ms; charon->iked IKE_SA_INIT+IKE_AUTH %.0f ms in charon's log (swanctl --initiate %.0f ms); iked->charon %.0f ms at iked's control socket, %.0f ms in charon's log (responder: first request to CHILD_SA installed)",
		ms(ca.ReadyAfter), ms(ike), ms(wall), ms(ikedWall), ms(resp))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
