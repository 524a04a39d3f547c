package daemon

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ikectx/ikectx/cxtp"
	"github.com/ikectx/ikectx/cxtp/daemon/testmod"
	"github.com/ikectx/ikectx/cxtp/transport"
	"github.com/ikectx/ikectx/shm"
)

// The end-to-end topology (host test, root): three namespaces.
//
//	[MN] mp 2001:db8:1::100,::200,::300,::400 <-> pm 2001:db8:1::1 [pAR]
//	[MN] mn 2001:db8:2::100,::200,::300,::400 <-> nm 2001:db8:2::1 [nAR]
//	[pAR] pn 2001:db8:a::1 <-> np 2001:db8:a::2 [nAR]    (AR-AR: UDP or SCTP 5091)
//
// pAR and nAR each run a real cxtpd and a real cxtp-testmod; the MN runs
// cxtpd in role mn (and the test's own sender for forged messages).

const (
	e2eFPT   = 0x80ff
	e2eKeyMN = "00112233445566778899aabbccddeeff01020304"
)

var e2eSeq atomic.Int32

type e2eNet struct {
	t            *testing.T
	ip           string
	mn, par, nar string
	dir          string
	bin          map[string]string
	parCfg       string
	narCfg       string
	mnCfg        map[string]string // by MN index ("1".."4")
	parMod       string            // testmod dirs
	narMod       string
	shm          []string
	procs        []*exec.Cmd
	arTransport  string
}

func e2eRequire(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces, raw ICMPv6 sockets and shm segments")
	}
	for _, p := range []string{"/sbin/ip", "/usr/sbin/ip", "/bin/ip"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("iproute2 ip not found")
	return ""
}

func (e *e2eNet) run(args ...string) {
	e.t.Helper()
	if out, err := exec.Command(e.ip, args...).CombinedOutput(); err != nil {
		e.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (e *e2eNet) ns(ns string, args ...string) {
	e.t.Helper()
	e.run(append([]string{"-n", ns}, args...)...)
}

// binaries builds cxtpd and cxtp-testmod, or takes the lab's copies.
func e2eBinaries(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	for _, name := range []string{"cxtpd", "cxtp-testmod"} {
		if os.Getenv("IKECTX_LAB") == "1" {
			out[name] = "/usr/local/bin/" + name
			continue
		}
		p := filepath.Join(dir, name)
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		cmd := exec.Command(gobin, "build", "-o", p, "github.com/ikectx/ikectx/cmd/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, b)
		}
		out[name] = p
	}
	return out
}

func newE2E(t *testing.T, arTransport string, lifetime string) *e2eNet {
	ip := e2eRequire(t)
	dir := t.TempDir()
	id := fmt.Sprintf("%d%d", os.Getpid()%100000, e2eSeq.Add(1))
	e := &e2eNet{t: t, ip: ip, dir: dir, mn: "cxmn" + id, par: "cxpar" + id, nar: "cxnar" + id,
		mnCfg: map[string]string{}, arTransport: arTransport}
	e.bin = e2eBinaries(t, dir)
	for _, n := range []string{e.mn, e.par, e.nar} {
		e.run("netns", "add", n)
		n := n
		t.Cleanup(func() { exec.Command(ip, "netns", "del", n).Run() })
		// No duplicate address detection, link-local included: the first
		// packets must not wait for it.
		e.run("netns", "exec", n, "sh", "-c",
			"echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad")
	}
	link := func(a, ia, b, ib string) {
		e.run("link", "add", ia+id, "netns", a, "type", "veth", "peer", "name", ib+id, "netns", b)
	}
	link(e.mn, "mp", e.par, "pm")
	link(e.mn, "mn", e.nar, "nm")
	link(e.par, "pn", e.nar, "np")
	addr := func(ns, ifc string, addrs ...string) {
		for _, a := range addrs {
			e.ns(ns, "addr", "add", a+"/64", "dev", ifc+id, "nodad")
		}
		e.ns(ns, "link", "set", ifc+id, "up")
	}
	e.ns(e.mn, "link", "set", "lo", "up")
	e.ns(e.par, "link", "set", "lo", "up")
	e.ns(e.nar, "link", "set", "lo", "up")
	addr(e.mn, "mp", "2001:db8:1::100", "2001:db8:1::200", "2001:db8:1::300", "2001:db8:1::400", "2001:db8:1::500")
	addr(e.mn, "mn", "2001:db8:2::100", "2001:db8:2::200", "2001:db8:2::300", "2001:db8:2::400", "2001:db8:2::500")
	addr(e.par, "pm", "2001:db8:1::1")
	addr(e.par, "pn", "2001:db8:a::1")
	addr(e.nar, "nm", "2001:db8:2::1")
	addr(e.nar, "np", "2001:db8:a::2")
	// The MN can reach the AR-AR network through the nAR (to forge a
	// message from an unknown peer).
	e.ns(e.mn, "-6", "route", "add", "2001:db8:a::/64", "via", "2001:db8:2::1")

	e.parMod, e.narMod = filepath.Join(dir, "parmod"), filepath.Join(dir, "narmod")
	os.Mkdir(e.parMod, 0o755)
	os.Mkdir(e.narMod, 0o755)
	parShm, narShm := "/cxtp-e2e-par-"+id, "/cxtp-e2e-nar-"+id
	e.shm = []string{parShm, narShm}
	t.Cleanup(func() {
		for _, s := range e.shm {
			shm.Unlink(s, nil)
		}
	})
	mnKeys := ""
	for i := 1; i <= 5; i++ {
		mnKeys += fmt.Sprintf("[[mn]]\naddress = \"2001:db8:1::%d00\"\nkey = %q\n", i, e2eKeyMN)
	}
	ar := func(name, self, access, ifc, peer, peerAccess, shmName, extra string) string {
		p := filepath.Join(dir, name+".toml")
		text := fmt.Sprintf(`role = "ar"
address = %q
access_address = %q
interface = %q
control = %q
[shm]
name = %q
[timers]
context_lifetime = %q
max_transfer_time = "2s"
module_timeout = "5s"
[security]
allow_plaintext = false
# No IPsec between these test ARs: protected = true below is taken on
# trust instead of being checked against the SPD (protection.go).
skip_spd_check = true
[log]
level = "debug"
file = %q
[[peer]]
address = %q
access_addresses = [%q]
transport = %q
protected = true
[[module]]
name = "testmod"
fpts = [%d]
%s`, self, access, ifc, filepath.Join(dir, name+".sock"), shmName, lifetime, filepath.Join(dir, name+".log"),
			peer, peerAccess, arTransport, e2eFPT, extra)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	e.parCfg = ar("par", "2001:db8:a::1", "2001:db8:1::1", "pm"+id, "2001:db8:a::2", "2001:db8:2::1", parShm, mnKeys)
	e.narCfg = ar("nar", "2001:db8:a::2", "2001:db8:2::1", "nm"+id, "2001:db8:a::1", "2001:db8:1::1", narShm, "")
	for i := 1; i <= 2; i++ {
		p := filepath.Join(dir, fmt.Sprintf("mn%d.toml", i))
		text := fmt.Sprintf(`role = "mn"
address = "2001:db8:1::%d00"
interface = %q
control = %q
[timers]
max_transfer_time = "500ms"
[log]
level = "debug"
file = %q
[mobile]
ar = "2001:db8:1::1"
key = %q
`, i, "mp"+id, filepath.Join(dir, fmt.Sprintf("mn%d.sock", i)), filepath.Join(dir, fmt.Sprintf("mn%d.log", i)), e2eKeyMN)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		e.mnCfg[strconv.Itoa(i)] = p
	}

	e.start(e.par, e.bin["cxtp-testmod"], "-shm", parShm, "-dir", e.parMod, "-fpt", strconv.Itoa(e2eFPT))
	e.start(e.nar, e.bin["cxtp-testmod"], "-shm", narShm, "-dir", e.narMod, "-fpt", strconv.Itoa(e2eFPT))
	e.start(e.par, e.bin["cxtpd"], "-c", e.parCfg)
	e.start(e.nar, e.bin["cxtpd"], "-c", e.narCfg)
	e.start(e.mn, e.bin["cxtpd"], "-c", e.mnCfg["1"])
	e.start(e.mn, e.bin["cxtpd"], "-c", e.mnCfg["2"])
	for _, c := range []string{e.parCfg, e.narCfg, e.mnCfg["1"], e.mnCfg["2"]} {
		e.waitServing(c)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range []string{"par.log", "nar.log", "mn1.log", "mn2.log", "parmod/log", "narmod/log"} {
				b, _ := os.ReadFile(filepath.Join(dir, n))
				t.Logf("==== %s\n%s", n, b)
			}
		}
	})
	return e
}

func (e *e2eNet) start(ns string, args ...string) {
	e.t.Helper()
	cmd := exec.Command(e.ip, append([]string{"netns", "exec", ns}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.procs = append(e.procs, cmd)
	e.t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if e.t.Failed() {
			e.t.Logf("output of %v:\n%s", args, out.String())
		}
	})
}

// waitServing polls the control socket until the daemon answers.
func (e *e2eNet) waitServing(cfg string) {
	e.t.Helper()
	c, err := LoadConfig(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := Control(c.Control, "status"); err == nil {
			return
		} else if time.Now().After(deadline) {
			e.t.Fatalf("%s never served: %v", cfg, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *e2eNet) ctl(cfg string, args ...string) (string, error) {
	c, err := LoadConfig(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return Control(c.Control, args...)
}

// counter reads one counter ("rejected bad-token") from a status output.
func (e *e2eNet) counter(cfg, name string) int {
	e.t.Helper()
	out, err := e.ctl(cfg, "status")
	if err != nil {
		e.t.Fatalf("status: %v", err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\d+)$`).FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// waitCounter waits until a counter reaches want (bounded, not timed).
func (e *e2eNet) waitCounter(cfg, name string, want int) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for e.counter(cfg, name) < want {
		if time.Now().After(deadline) {
			out, _ := e.ctl(cfg, "status")
			e.t.Fatalf("%s: %q never reached %d:\n%s", filepath.Base(cfg), name, want, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// send injects raw CXTP messages from a namespace, through this test
// binary re-executed there (TestE2EHelperSend).
func (e *e2eNet) send(ns, kind, src, dst string, msgs ...[]byte) {
	e.t.Helper()
	self, err := os.Executable()
	if err != nil {
		e.t.Fatal(err)
	}
	var hx []string
	for _, m := range msgs {
		hx = append(hx, hex.EncodeToString(m))
	}
	cmd := exec.Command(e.ip, "netns", "exec", ns, self, "-test.run", "^TestE2EHelperSend$")
	cmd.Env = append(os.Environ(), "CXTPD_E2E_KIND="+kind, "CXTPD_E2E_DST="+dst, "CXTPD_E2E_SRC="+src, "CXTPD_E2E_MSGS="+strings.Join(hx, ","))
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "PASS") {
		e.t.Fatalf("helper send: %v\n%s", err, out)
	}
}

// TestE2EHelperSend is not a test: it is the sender re-executed inside a
// namespace by e2eNet.send.
func TestE2EHelperSend(t *testing.T) {
	kind := os.Getenv("CXTPD_E2E_KIND")
	if kind == "" {
		t.Skip("helper process only")
	}
	dst := netip.MustParseAddr(os.Getenv("CXTPD_E2E_DST"))
	src := netip.MustParseAddr(os.Getenv("CXTPD_E2E_SRC"))
	var conn transport.Conn
	var err error
	switch kind {
	case "icmp":
		conn, err = transport.ListenICMPv6(src)
	case "udp":
		conn, err = transport.ListenUDP(netip.AddrPortFrom(src, 40000))
	case "sctp":
		conn, err = transport.ListenSCTP(netip.AddrPortFrom(src, 40000), transport.SCTPOptions{})
	default:
		t.Fatalf("kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, h := range strings.Split(os.Getenv("CXTPD_E2E_MSGS"), ",") {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.WriteTo(b, netip.AddrPortFrom(dst, cxtp.Port)); err != nil {
			t.Fatal(err)
		}
	}
	if kind == "sctp" {
		// Closing at once could abort the association before delivery.
		time.Sleep(time.Second)
	}
}

func mnAddr(i int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("2001:db8:1::%d00", i)) }
func mnNCoA(i int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("2001:db8:2::%d00", i)) }
func e2eKey() []byte          { b, _ := hex.DecodeString(e2eKeyMN); return b }
func modFile(dir, kind string, mn netip.Addr, ext string) string {
	return filepath.Join(dir, kind+"-"+testmod.FileName(mn)+ext)
}

func e2eCTAR(t *testing.T, i int, seq uint32, key []byte) []byte {
	b, err := cxtp.Marshal(&cxtp.CTAR{PrevCoA: mnAddr(i), PrevAR: netip.MustParseAddr("2001:db8:1::1"), Seq: seq,
		Token: cxtp.Token(key, mnAddr(i), seq, nil)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *e2eNet) seed(i int, size int) []byte {
	e.t.Helper()
	data := bytes.Repeat([]byte{byte(i), 0xc7, 0x5a}, size/3+1)[:size]
	if err := os.WriteFile(modFile(e.parMod, "ctx", mnAddr(i), ".bin"), data, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return data
}

// checkActive checks that MN i's context was activated on the nAR with its
// new care-of address, byte for byte.
func (e *e2eNet) checkActive(i int, want []byte) {
	e.t.Helper()
	got, err := os.ReadFile(modFile(e.narMod, "active", mnAddr(i), ".bin"))
	if err != nil || !bytes.Equal(got, want) {
		e.t.Fatalf("MN %d: active context %d bytes (%v), want %d", i, len(got), err, len(want))
	}
	coa, _ := os.ReadFile(modFile(e.narMod, "active", mnAddr(i), ".coa"))
	if strings.TrimSpace(string(coa)) != mnNCoA(i).String() {
		e.t.Fatalf("MN %d activated with CoA %q", i, coa)
	}
}

func (e *e2eNet) notActive(i int) {
	e.t.Helper()
	if _, err := os.Stat(modFile(e.narMod, "active", mnAddr(i), ".bin")); err == nil {
		e.t.Fatalf("MN %d: context activated", i)
	}
}

func TestE2ETransfers(t *testing.T) {
	e := newE2E(t, "udp", "4s")
	runE2E(t, e)
}

// runE2E is shared by the host test (UDP between the ARs) and the lab test
// (SCTP).
func runE2E(t *testing.T, e *e2eNet) {
	parent := t
	_ = parent
	ctx1 := e.seed(1, 600)
	ctx2 := e.seed(2, 600)
	ctx3 := e.seed(3, 600)
	e.seed(4, 600)
	e.seed(5, 600)

	e.sub(t, "predictive", func(t *testing.T) {
		// MN 1 asks the pAR (CTAR to the pAR naming the nAR), moves, and
		// activates with a CTAR to the nAR.
		out, err := e.ctl(e.mnCfg["1"], "handover", "2001:db8:a::2")
		if err != nil {
			t.Fatalf("handover: %v\n%s", err, out)
		}
		// The CTAA comes from the pAR once the PCTD is sent; the nAR
		// stores it a moment later.
		e.waitCounter(e.narCfg, "contexts stored", 1)
		pre, err := os.ReadFile(modFile(e.narMod, "pre", mnAddr(1), ".bin"))
		if err != nil || !bytes.Equal(pre, ctx1) {
			t.Fatalf("nAR pre-installed %d bytes (%v)", len(pre), err)
		}
		e.notActive(1)
		out, err = e.ctl(e.mnCfg["1"], "attach", "2001:db8:2::1", mnNCoA(1).String())
		if err != nil || strings.Contains(out, "failed") {
			t.Fatalf("attach: %v\n%s", err, out)
		}
		t.Logf("predictive activation, as the MN saw it: %s", strings.TrimSpace(out))
		e.checkActive(1, ctx1)
		e.waitCounter(e.parCfg, "received CTDR", 1)
		if e.counter(e.narCfg, "sent CT-Req") != 0 || e.counter(e.narCfg, "received PCTD") != 1 {
			t.Fatal("predictive transfer went reactive")
		}
		// The pAR's module heard of the CTDR (status 0).
		deadline := time.Now().Add(30 * time.Second)
		for {
			b, err := os.ReadFile(modFile(e.parMod, "transferred", mnAddr(1), ""))
			if err == nil && bytes.Equal(b, []byte{0}) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pAR module not told of the transfer: %v %x", err, b)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	e.sub(t, "reactive", func(t *testing.T) {
		out, err := e.ctl(e.mnCfg["2"], "attach", "2001:db8:2::1", mnNCoA(2).String())
		if err != nil || strings.Contains(out, "failed") {
			t.Fatalf("attach: %v\n%s", err, out)
		}
		t.Logf("reactive transfer and activation, as the MN saw it: %s", strings.TrimSpace(out))
		e.checkActive(2, ctx2)
		if e.counter(e.narCfg, "sent CT-Req") != 1 || e.counter(e.parCfg, "sent CTD") != 1 {
			t.Fatal("not a reactive transfer")
		}
		e.waitCounter(e.parCfg, "received CTDR", 2)
	})

	e.sub(t, "forged-token-and-replay", func(t *testing.T) {
		if out, err := e.ctl(e.parCfg, "trigger", mnAddr(3).String(), "2001:db8:a::2"); err != nil {
			t.Fatalf("trigger: %v\n%s", err, out)
		}
		e.waitCounter(e.narCfg, "contexts stored", 3)
		before := e.counter(e.narCfg, "contexts activated")
		e.send(e.mn, "icmp", mnNCoA(3).String(), "2001:db8:2::1", e2eCTAR(t, 3, 4242, []byte("forged-key-forged-key")))
		e.waitCounter(e.narCfg, "rejected bad-token", 1)
		e.notActive(3)
		good := e2eCTAR(t, 3, 4243, e2eKey())
		e.send(e.mn, "icmp", mnNCoA(3).String(), "2001:db8:2::1", good)
		e.waitCounter(e.narCfg, "contexts activated", before+1)
		e.checkActive(3, ctx3)
		os.Remove(modFile(e.narMod, "active", mnAddr(3), ".bin"))
		e.send(e.mn, "icmp", mnNCoA(3).String(), "2001:db8:2::1", good)
		e.waitCounter(e.narCfg, "rejected replayed-seq", 1)
		if e.counter(e.narCfg, "contexts activated") != before+1 {
			t.Fatal("replay activated again")
		}
		e.notActive(3)
	})

	e.sub(t, "unknown-peer", func(t *testing.T) {
		b, _ := cxtp.Marshal(&cxtp.PCTD{PrevCoA: mnAddr(4), Algorithm: cxtp.AlgHMACSHA1, Key: e2eKey(),
			CDBs: []cxtp.CDB{{FPT: e2eFPT, Data: []byte("evil")}}})
		stored := e.counter(e.narCfg, "contexts stored")
		e.send(e.mn, e.arTransport, mnNCoA(4).String(), "2001:db8:a::2", b)
		e.waitCounter(e.narCfg, "rejected unknown-peer", 1)
		if e.counter(e.narCfg, "contexts stored") != stored {
			t.Fatal("stored a context from an unknown peer")
		}
		if _, err := os.Stat(modFile(e.narMod, "pre", mnAddr(4), ".bin")); err == nil {
			t.Fatal("pre-installed a context from an unknown peer")
		}
	})

	e.sub(t, "truncated-and-oversized", func(t *testing.T) {
		c := e2eCTAR(t, 4, 1, e2eKey())
		e.send(e.mn, "icmp", mnNCoA(4).String(), "2001:db8:2::1", c[:30], append(append([]byte(nil), c...), make([]byte, 200)...))
		e.waitCounter(e.narCfg, "rejected truncated", 1)
		e.waitCounter(e.narCfg, "rejected oversized", 1)
		e.notActive(4)
	})

	e.sub(t, "expired", func(t *testing.T) {
		if out, err := e.ctl(e.parCfg, "trigger", mnAddr(4).String(), "2001:db8:a::2"); err != nil {
			t.Fatalf("trigger: %v\n%s", err, out)
		}
		e.waitCounter(e.narCfg, "contexts expired", 1) // lifetime 4 s
		if _, err := os.Stat(modFile(e.narMod, "pre", mnAddr(4), ".bin")); err == nil {
			t.Fatal("expired context not discarded by the module")
		}
		e.send(e.mn, "icmp", mnNCoA(4).String(), "2001:db8:2::1", e2eCTAR(t, 4, 77, e2eKey()))
		e.waitCounter(e.narCfg, "rejected expired", 1)
		e.notActive(4)
	})

	e.sub(t, "cancel", func(t *testing.T) {
		stored := e.counter(e.narCfg, "contexts stored")
		if out, err := e.ctl(e.parCfg, "trigger", mnAddr(5).String(), "2001:db8:a::2"); err != nil {
			t.Fatalf("trigger: %v\n%s", err, out)
		}
		e.waitCounter(e.narCfg, "contexts stored", stored+1)
		if out, err := e.ctl(e.parCfg, "cancel", mnAddr(5).String()); err != nil {
			t.Fatalf("cancel: %v\n%s", err, out)
		}
		e.waitCounter(e.narCfg, "contexts cancelled", 1)
		if _, err := os.Stat(modFile(e.narMod, "pre", mnAddr(5), ".bin")); err == nil {
			t.Fatal("cancelled context not discarded by the module")
		}
		if out, _ := e.ctl(e.narCfg, "state", mnAddr(5).String()); !strings.Contains(out, "nar-state cancelled") {
			t.Fatalf("state: %s", out)
		}
		unexpected := e.counter(e.narCfg, "rejected unexpected")
		e.send(e.mn, "icmp", mnNCoA(5).String(), "2001:db8:2::1", e2eCTAR(t, 5, 31337, e2eKey()))
		e.waitCounter(e.narCfg, "rejected unexpected", unexpected+1)
		e.notActive(5)
	})

	e.sub(t, "no-key-in-logs", func(t *testing.T) {
		for _, n := range []string{"par.log", "nar.log", "mn1.log", "mn2.log"} {
			b, err := os.ReadFile(filepath.Join(e.dir, n))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(e2eKeyMN)) || bytes.Contains(b, e2eKey()) || bytes.Contains(b, []byte(strings.ToUpper(e2eKeyMN))) {
				t.Fatalf("%s contains the token key", n)
			}
		}
	})

	e.sub(t, "still-serving", func(t *testing.T) {
		for _, c := range []string{e.parCfg, e.narCfg} {
			if out, err := e.ctl(c, "status"); err != nil || !strings.Contains(out, "role ar") {
				t.Fatalf("status: %v %s", err, out)
			}
		}
		// And a transfer still works after all that.
		os.Remove(modFile(e.narMod, "active", mnAddr(1), ".bin"))
		if out, err := e.ctl(e.parCfg, "trigger", mnAddr(1).String(), "2001:db8:2::1"); err != nil {
			t.Fatalf("trigger: %v\n%s", err, out)
		}
		stored := e.counter(e.narCfg, "contexts stored")
		_ = stored
		e.waitCounter(e.narCfg, "received PCTD", 4)
		activated := e.counter(e.narCfg, "contexts activated")
		e.send(e.mn, "icmp", mnNCoA(1).String(), "2001:db8:2::1", e2eCTAR(t, 1, 999999, e2eKey()))
		e.waitCounter(e.narCfg, "contexts activated", activated+1)
		e.checkActive(1, ctx1)
	})
}

// sub runs a subtest with e's helpers failing that subtest.
func (e *e2eNet) sub(t *testing.T, name string, f func(t *testing.T)) {
	t.Run(name, func(t *testing.T) {
		old := e.t
		e.t = t
		defer func() { e.t = old }()
		f(t)
	})
}
