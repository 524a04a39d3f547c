//go:build linux

package charontest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Where Debian's strongSwan packages put charon and the plugins the
// interop tests need.
const (
	Bin        = "/usr/lib/ipsec/charon"
	LibipsecSO = "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so"
	ViciSO     = "/usr/lib/ipsec/plugins/libstrongswan-vici.so"
)

// Charon is a charon process running in namespace NS, with its files
// (strongswan.conf, swanctl.conf, charon.log, a private /run) in Dir and
// its vici socket at Vici.
type Charon struct {
	Dir, Vici, NS string
	Cmd           *exec.Cmd
}

// Swanctl runs swanctl in c's namespace against c's vici socket: args[0]
// is the command (e.g. "--list-sas"), the rest its options.
func (c *Charon) Swanctl(args ...string) (string, error) {
	full := append([]string{"netns", "exec", c.NS, "swanctl", args[0], "--uri", "unix://" + c.Vici}, args[1:]...)
	out, err := exec.Command("ip", full...).CombinedOutput()
	return string(out), err
}

// Start writes strongswan.conf (strongswanConf is given the directory and
// the vici socket path) and swanctl.conf into a temporary directory,
// starts charon in namespace ns with that directory's run/ bind-mounted on
// /run, waits for the vici socket and loads swanctl.conf. The cleanup
// stops charon (SIGTERM, SIGKILL after 5s) and logs its output and
// charon.log if the test failed.
func Start(t *testing.T, ns string, strongswanConf func(dir, vici string) string, swanctlConf string) *Charon {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "run"), 0o755)
	c := &Charon{Dir: dir, Vici: filepath.Join(dir, "charon.vici"), NS: ns}
	os.WriteFile(filepath.Join(dir, "strongswan.conf"), []byte(strongswanConf(dir, c.Vici)), 0o644)
	os.WriteFile(filepath.Join(dir, "swanctl.conf"), []byte(swanctlConf), 0o644)
	c.Cmd = exec.Command("ip", "netns", "exec", ns, "sh", "-c",
		fmt.Sprintf("mount --bind %s/run /run && STRONGSWAN_CONF=%s/strongswan.conf exec %s", dir, dir, Bin))
	var out bytes.Buffer
	c.Cmd.Stdout, c.Cmd.Stderr = &out, &out
	if err := c.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { c.Cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			c.Cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "charon.log"))
			t.Logf("charon output:\n%s\ncharon.log:\n%s", out.String(), b)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(c.Vici); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("charon's vici socket did not appear")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var err error
	var o string
	for i := 0; i < 100; i++ {
		if o, err = c.Swanctl("--load-all", "--file", filepath.Join(dir, "swanctl.conf")); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("swanctl --load-all: %v\n%s", err, o)
	}
	return c
}

// Missing says why the interop tests cannot run here ("" when they can):
// not root, or charon, its kernel-libipsec or vici plugin, swanctl or ip
// is not installed.
func Missing() string {
	if os.Getuid() != 0 {
		return "needs root (network namespaces)"
	}
	for _, f := range []string{Bin, LibipsecSO, ViciSO} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Sprintf("strongSwan is not installed (%s)", f)
		}
	}
	for _, b := range []string{"swanctl", "ip"} {
		if _, err := exec.LookPath(b); err != nil {
			return b + " is not installed"
		}
	}
	return ""
}

// Run runs a command and returns its combined output; it fails the test
// if the command fails.
func Run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// Veth creates namespaces nsA and nsB (deleted by the cleanup), joins them
// with a veth pair devA (in nsA) - devB (in nsB) and brings up lo and the
// veth end in each. Addresses are the caller's.
func Veth(t *testing.T, nsA, devA, nsB, devB string) {
	t.Helper()
	for _, ns := range []string{nsA, nsB} {
		Run(t, "ip", "netns", "add", ns)
		ns := ns
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	Run(t, "ip", "link", "add", devA, "netns", nsA, "type", "veth", "peer", "name", devB, "netns", nsB)
	for _, x := range []struct{ ns, dev string }{{nsA, devA}, {nsB, devB}} {
		Run(t, "ip", "-n", x.ns, "link", "set", "lo", "up")
		Run(t, "ip", "-n", x.ns, "link", "set", x.dev, "up")
	}
}
