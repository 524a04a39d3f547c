//go:build lab && linux

package daemon

// Runs inside the kernel lab (Debian's kernel under qemu, real PF_KEY and
// ESP): two network namespaces joined by veth, the project's racoon on each
// side with `require` policies installed by the project's setkey; a ping
// triggers an ACQUIRE, main (or aggressive) mode and quick mode install the
// SAs through PF_KEY, and the ping then crosses ESP.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ikectx/ikectx/internal/netnstest"
	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
)

func labBin(t *testing.T, name string) string {
	for _, p := range []string{"/usr/local/bin/" + name} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("%s is not installed (the lab puts the project's binaries in /usr/local/bin)", name)
	return ""
}

var labRun = netnstest.Run

func TestLabRacoonPair(t *testing.T) {
	for _, mode := range []string{"main", "aggressive"} {
		t.Run(mode, func(t *testing.T) { labPair(t, mode, 0, false) })
	}
	// short phase-2 lifetime: the kernel's soft EXPIRE makes the initiator
	// rekey with a new quick mode before the hard one removes the old SAs
	t.Run("rekey", func(t *testing.T) { labPair(t, "main", 12, false) })
	// tunnel mode between two inner networks, as the vectors' racoon run
	// (and the paper's ARs): the ACQUIRE comes from a tunnel policy with
	// subnet selectors, the IDs are subnets
	t.Run("tunnel", func(t *testing.T) { labPair(t, "main", 0, true) })
	// the responder has no policy at all: generate_policy installs them
	// from the initiator's IDs
	t.Run("generate_policy", func(t *testing.T) { labPairOpts(t, "main", 0, false, true) })
}

func labPair(t *testing.T, mode string, life int, tunnel bool) {
	labPairOpts(t, mode, life, tunnel, false)
}

func labPairOpts(t *testing.T, mode string, life int, tunnel, genPolicy bool) {
	inner := map[bool]string{true: "2001:db8:1::1", false: "2001:db8:2::1"} // A, B
	innerNet := map[bool]string{true: "2001:db8:1::/64", false: "2001:db8:2::/64"}
	ip := "/sbin/ip"
	racoon, setkey := labBin(t, "racoon"), labBin(t, "setkey")
	tag := fmt.Sprintf("%d", time.Now().UnixNano()%100000)
	nsA, nsB := "rcA"+tag, "rcB"+tag
	addrs := map[string]string{nsA: "fd00::1", nsB: "fd00::2"}
	macs := map[string]string{nsA: "02:00:00:00:00:01", nsB: "02:00:00:00:00:02"}
	for _, ns := range []string{nsA, nsB} {
		labRun(t, ip, "netns", "add", ns)
		ns := ns
		t.Cleanup(func() { exec.Command(ip, "netns", "del", ns).Run() })
	}
	labRun(t, ip, "link", "add", "va", "address", macs[nsA], "netns", nsA, "type", "veth", "peer", "name", "vb", "address", macs[nsB], "netns", nsB)
	peerOf := map[string]string{nsA: nsB, nsB: nsA}
	dev := map[string]string{nsA: "va", nsB: "vb"}
	type side struct {
		cl  *admin.Client
		log string
		cmd *exec.Cmd
		out *bytes.Buffer
	}
	sides := map[string]*side{}
	for _, ns := range []string{nsA, nsB} {
		labRun(t, ip, "-n", ns, "link", "set", "lo", "up")
		labRun(t, ip, "-n", ns, "link", "set", dev[ns], "up")
		labRun(t, ip, "-n", ns, "addr", "add", addrs[ns]+"/64", "dev", dev[ns], "nodad")
		// the transport policy covers every protocol between the hosts,
		// neighbour discovery included: permanent neighbours keep ND out of it
		labRun(t, ip, "-n", ns, "neigh", "add", addrs[peerOf[ns]], "lladdr", macs[peerOf[ns]], "dev", dev[ns], "nud", "permanent")
		dir := t.TempDir()
		me, peer := addrs[ns], addrs[peerOf[ns]]
		os.WriteFile(filepath.Join(dir, "psk.txt"), []byte(peer+" lab-test-psk-0123\n"), 0600)
		cf := fmt.Sprintf(`path pre_shared_key "%[1]s/psk.txt";
listen { isakmp %[2]s [500]; adminsock "%[1]s/racoon.sock"; }
timer { counter 5; interval 10 sec; }
remote %[3]s {
	exchange_mode %[4]s;
	my_identifier address;
	%[6]s
	proposal { encryption_algorithm 3des; hash_algorithm sha1; authentication_method pre_shared_key; dh_group modp1024; }
}
sainfo anonymous {
	pfs_group modp1024;
	lifetime time %[5]d sec;
	encryption_algorithm aes 128;
	authentication_algorithm hmac_sha1;
	compression_algorithm deflate;
}
`, dir, me, peer, mode, map[bool]int{true: 3600, false: life}[life == 0], map[bool]string{true: "generate_policy on; passive on;", false: ""}[genPolicy && ns == nsB])
		os.WriteFile(filepath.Join(dir, "racoon.conf"), []byte(cf), 0644)
		script := fmt.Sprintf("flush;\nspdflush;\nspdadd %[1]s %[2]s any -P out ipsec esp/transport//require;\nspdadd %[2]s %[1]s any -P in ipsec esp/transport//require;\n", me, peer)
		if tunnel {
			isA := ns == nsA
			labRun(t, ip, "-n", ns, "addr", "add", inner[isA]+"/64", "dev", "lo")
			labRun(t, ip, "-n", ns, "route", "add", innerNet[!isA], "via", peer)
			script = fmt.Sprintf("flush;\nspdflush;\nspdadd %[1]s %[2]s any -P out ipsec esp/tunnel/%[3]s-%[4]s/require;\nspdadd %[2]s %[1]s any -P in ipsec esp/tunnel/%[4]s-%[3]s/require;\n",
				innerNet[isA], innerNet[!isA], me, peer)
		}
		if genPolicy && ns == nsB {
			script = "flush;\nspdflush;\n"
		}
		c := exec.Command(ip, "netns", "exec", ns, setkey, "-c")
		c.Stdin = strings.NewReader(script)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("setkey in %s: %v\n%s", ns, err, out)
		}
		s := &side{cl: &admin.Client{Path: filepath.Join(dir, "racoon.sock")}, log: filepath.Join(dir, "racoon.log"), out: &bytes.Buffer{}}
		s.cmd = exec.Command(ip, "netns", "exec", ns, racoon, "-F", "-d", "-f", filepath.Join(dir, "racoon.conf"), "-l", s.log)
		s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sides[ns] = s
		t.Cleanup(func() {
			s.cmd.Process.Signal(syscall.SIGTERM)
			s.cmd.Wait()
			if t.Failed() {
				b, _ := os.ReadFile(s.log)
				t.Logf("racoon in %s:\n%s\n%s", ns, s.out, b)
			}
		})
	}
	ctx := context.Background()
	waitFor := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for ns, s := range sides {
		waitFor("racoon's admin socket in "+ns, 60*time.Second, func() bool { _, err := s.cl.Phase1s(ctx); return err == nil })
	}
	stopCapture := capture(t, nsA, "va")
	// the first ping raises the ACQUIRE (and is lost, as with racoon)
	start := time.Now()
	var installed time.Duration
	pingArgs := []string{"netns", "exec", nsA, "ping", "-c", "1", "-W", "2", addrs[nsB]}
	if tunnel {
		pingArgs = []string{"netns", "exec", nsA, "ping", "-c", "1", "-W", "2", "-I", inner[true], inner[false]}
	}
	go exec.Command(ip, pingArgs...).Run()
	waitFor("four SAs (two per side) from PF_KEY", 90*time.Second, func() bool {
		a, _ := sides[nsA].cl.SAs(ctx, admin.ProtoESP)
		b, _ := sides[nsB].cl.SAs(ctx, admin.ProtoESP)
		return len(a) == 2 && len(b) == 2
	})
	installed = time.Since(start)
	time.Sleep(200 * time.Millisecond) // late informationals
	frames := stopCapture()
	var pingOut []byte
	waitFor("a ping across ESP", 60*time.Second, func() bool {
		var err error
		pingOut, err = exec.Command(ip, pingArgs...).CombinedOutput()
		return err == nil
	})
	a, err := sides[nsA].cl.SAs(ctx, admin.ProtoESP)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sides[nsB].cl.SAs(ctx, admin.ProtoESP)
	for _, e := range a {
		wantMode := pfkey.ModeTransport
		if tunnel {
			wantMode = pfkey.ModeTunnel
		}
		if e.Mode != wantMode || e.Enc != pfkey.EncAESCBC || e.Auth != pfkey.AuthSHA1HMAC || e.State != pfkey.SAStateMature {
			t.Errorf("SA %s", e)
		}
		twin := false
		for _, f := range b {
			if f.SPI == e.SPI && bytes.Equal(f.Keys.Enc, e.Keys.Enc) && bytes.Equal(f.Keys.Auth, e.Keys.Auth) {
				twin = true
			}
		}
		if !twin {
			t.Errorf("SA %s has no twin with the same keys on the other side", e)
		}
		if e.Current.Bytes == 0 {
			t.Errorf("SA %s carried no bytes (ping did not cross ESP?)", e)
		}
	}
	p1, _ := sides[nsA].cl.Phase1s(ctx)
	if len(p1) != 1 || p1[0].Status != admin.Ph1Established || p1[0].Side != admin.Initiator {
		t.Errorf("phase 1s on A: %+v", p1)
	}
	t.Logf("%s mode: ACQUIRE -> 4 SAs in the kernels in %v; ping: %s", mode, installed.Round(time.Millisecond), strings.TrimSpace(string(pingOut)))
	nmsg, _ := summarize(t, mode+" mode + quick mode", frames)
	if genPolicy {
		out := labRun(t, ip, "netns", "exec", nsB, setkey, "-DP")
		if strings.Count(out, "esp/transport//require") != 2 {
			t.Errorf("generate_policy: the responder's SPD:\n%s", out)
		}
	}
	want := map[string]int{"main": 11, "aggressive": 8}[mode]
	if life != 0 {
		labRekey(t, sides[nsA].cl, sides[nsB].cl, a, life)
		return
	}
	if nmsg != want {
		t.Errorf("%d IKE messages on the wire, want %d (as racoon: INITIAL-CONTACT from both sides)", nmsg, want)
	}
	b1, _ := os.ReadFile(sides[nsA].log)
	for _, l := range strings.Split(string(b1), "\n") {
		if strings.Contains(l, "INFO") {
			t.Logf("A: %s", l)
		}
	}
}

// labRekey waits for the soft expiry (80 % of life) to bring new SAs with new
// SPIs on both sides, then for the hard expiry to remove the old ones.
func labRekey(t *testing.T, ca, cb *admin.Client, old []*pfkey.SAEntry, life int) {
	ctx := context.Background()
	oldSPI := map[uint32]bool{}
	for _, e := range old {
		oldSPI[e.SPI] = true
	}
	deadline := time.Now().Add(time.Duration(3*life)*time.Second + 60*time.Second)
	for {
		a, _ := ca.SAs(ctx, admin.ProtoESP)
		b, _ := cb.SAs(ctx, admin.ProtoESP)
		fresh := 0
		stale := 0
		for _, e := range a {
			if oldSPI[e.SPI] {
				stale++
			} else {
				fresh++
			}
		}
		if fresh == 2 && stale == 0 && len(b) == 2 {
			t.Logf("rekeyed: new SAs %v, old ones expired", a)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rekey: A has %d new and %d old SAs, B has %d", fresh, stale, len(b))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
