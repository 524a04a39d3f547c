//go:build lab && linux

package setkey

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ikectx/ikectx/pfkey"
)

// These run inside the kernel lab (Debian's kernel under qemu, as root).
// Each test works in a network namespace of its own, so its SAD and SPD
// start empty and nothing leaks to other suites.

func ipCmd() string {
	for _, p := range []string{"/sbin/ip", "/usr/sbin/ip", "/bin/ip"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "ip"
}

// labNetns creates a network namespace for the test and removes it after.
func labNetns(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("ikectx-setkey-%d", time.Now().UnixNano()%1000000)
	if out, err := exec.Command(ipCmd(), "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() { exec.Command(ipCmd(), "netns", "del", name).Run() })
	return name
}

// setkeyBin finds the project's setkey binary (/usr/local/bin in the lab).
func setkeyBin(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("IKECTX_SETKEY"), "/usr/local/bin/setkey"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("setkey"); err == nil {
		return p
	}
	t.Skip("the setkey binary is not installed (the lab puts it at /usr/local/bin/setkey; IKECTX_SETKEY names another)")
	return ""
}

// setkeyIn runs the setkey binary in namespace ns with the script on stdin.
func setkeyIn(t *testing.T, ns, script string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(ipCmd(), append([]string{"netns", "exec", ns, setkeyBin(t)}, args...)...)
	cmd.Stdin = strings.NewReader(script)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("setkey %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

// openIn opens a PF_KEY socket inside network namespace ns (the socket
// stays in that namespace).
func openIn(t *testing.T, ns string) *pfkey.Conn {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	target, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatalf("setns %s: %v", ns, err)
	}
	c, oerr := pfkey.Open()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread is in the wrong namespace: never give it back.
		runtime.LockOSThread()
		t.Fatalf("setns back: %v", err)
	}
	if oerr != nil {
		t.Fatal(oerr)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

const labKeys = `-E aes-cbc 0x00112233445566778899aabbccddeeff -A hmac-sha1 "01234567890123456789"`

// The binary against the real SAD/SPD: add, get, dump, delete, deleteall,
// flush, spdadd, spdupdate, spddump, spddelete, spdflush, and kernel errors.
func TestLabSetkeyBinary(t *testing.T) {
	ns := labNetns(t)
	script := `flush; spdflush;
add 2001:db8::1 2001:db8::2 esp 0x1000 -m tunnel -u 5 ` + labKeys + `;
add 2001:db8::2 2001:db8::1 esp 0x1001 -m tunnel ` + labKeys + `;
add 2001:db8::1 2001:db8::2 esp 0x1002 -m tunnel -E aes-cbc 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f -A hmac-sha256 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f;
add 2001:db8::1 2001:db8::2 ah 0x2000 -A hmac-sha1 "01234567890123456789";
spdadd 2001:db8:a::/64[any] 2001:db8:b::/64[any] any -P out ipsec esp/tunnel/2001:db8::1-2001:db8::2/require;
spdadd 2001:db8:b::/64 2001:db8:a::/64 any -P in ipsec esp/tunnel/2001:db8::2-2001:db8::1/require;
spdadd 2001:db8:a::1[500] 2001:db8:b::1[500] udp -P out none;
spdadd 10.0.0.0/24 10.0.1.0/24 icmp -P out prio low + 3 ipsec esp/transport//unique:77 ah/transport//use;
get 2001:db8::1 2001:db8::2 esp 0x1000;
`
	out, errout, code := setkeyIn(t, ns, script, "-c")
	if code != 0 {
		t.Fatalf("setkey -c: exit %d\n%s%s", code, out, errout)
	}
	// get prints the SA with its keys.
	for _, want := range []string{
		"2001:db8::1 2001:db8::2 \n\tesp mode=tunnel spi=4096(0x00001000) reqid=5(0x00000005)\n",
		"\tE: aes-cbc  00112233 44556677 8899aabb ccddeeff\n",
		"\tA: hmac-sha1  30313233 34353637 38393031 32333435 36373839\n",
		"state=mature \n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("get output lacks %q:\n%s", want, out)
		}
	}

	out, errout, code = setkeyIn(t, ns, "", "-D")
	if code != 0 {
		t.Fatalf("setkey -D: exit %d: %s", code, errout)
	}
	if n := strings.Count(out, "\tsadb_seq="); n != 4 {
		t.Errorf("setkey -D shows %d SAs, want 4:\n%s", n, out)
	}
	for _, want := range []string{"spi=4097(0x00001001)", "\tA: hmac-sha256  00010203", "\n\tah mode=transport spi=8192(0x00002000)" /* Linux stores -m any as transport */} {
		if !strings.Contains(out, want) {
			t.Errorf("setkey -D lacks %q:\n%s", want, out)
		}
	}
	out, _, code = setkeyIn(t, ns, "", "-DP")
	if code != 0 {
		t.Fatalf("setkey -DP: exit %d", code)
	}
	for _, want := range []string{
		"2001:db8:a::/64[any] 2001:db8:b::/64[any] any\n\tout prio def ipsec\n\tesp/tunnel/2001:db8::1-2001:db8::2/require\n",
		"2001:db8:b::/64[any] 2001:db8:a::/64[any] any\n\tin prio def ipsec\n",
		"2001:db8:a::1[500] 2001:db8:b::1[500] udp\n\tout prio def none\n",
		"10.0.0.0/24 10.0.1.0/24 icmp\n\tout prio low + 3 ipsec\n\tesp/transport//unique:77\n\tah/transport//use\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("setkey -DP lacks %q:\n%s", want, out)
		}
	}

	// Kernel errors name the line; the other statements still run.
	out, errout, code = setkeyIn(t, ns, "delete 2001:db8::1 2001:db8::2 esp 0x1001;\n"+
		"add 2001:db8::1 2001:db8::2 esp 0x1000 -m tunnel "+labKeys+";\n"+
		"delete 2001:db8::1 2001:db8::2 esp 0x1000;\n"+
		"spddelete 2001:db8:c::/64 2001:db8:d::/64 any -P out;\n"+
		"spdupdate 2001:db8:a::1[500] 2001:db8:b::1[500] udp -P out discard;\n", "-c")
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s%s", code, out, errout)
	}
	if !regexp.MustCompile(`(?m)^setkey: stdin:1:1: delete: pfkey: SADB_DELETE .*: no such process$`).MatchString(errout) {
		t.Errorf("no ESRCH error for line 1:\n%s", errout)
	}
	if !regexp.MustCompile(`(?m)^setkey: stdin:2:1: add: pfkey: SADB_ADD .*: file exists$`).MatchString(errout) {
		t.Errorf("no EEXIST error for line 2:\n%s", errout)
	}
	if !regexp.MustCompile(`(?m)^setkey: stdin:4:1: spddelete: pfkey: SADB_X_SPDDELETE .*: no such file or directory$`).MatchString(errout) {
		t.Errorf("no ENOENT error for line 4:\n%s", errout)
	}
	out, _, _ = setkeyIn(t, ns, "", "-D")
	if strings.Contains(out, "spi=4096(") || strings.Count(out, "\tsadb_seq=") != 3 {
		t.Errorf("after delete of 0x1000, -D shows:\n%s", out)
	}
	out, _, _ = setkeyIn(t, ns, "", "-DP")
	if !strings.Contains(out, "2001:db8:a::1[500] 2001:db8:b::1[500] udp\n\tout prio def discard\n") {
		t.Errorf("spdupdate did not replace the policy:\n%s", out)
	}

	// deleteall removes every SA between the two addresses, of that protocol.
	if out, errout, code := setkeyIn(t, ns, "deleteall 2001:db8::1 2001:db8::2 esp;", "-c"); code != 0 {
		t.Fatalf("deleteall: exit %d\n%s%s", code, out, errout)
	}
	out, _, _ = setkeyIn(t, ns, "", "-D")
	if strings.Count(out, "\tsadb_seq=") != 2 || !strings.Contains(out, "spi=4097(") || !strings.Contains(out, "spi=8192(") {
		t.Errorf("after deleteall, -D shows:\n%s", out)
	}
	// spddelete by selector, then -F / -FP empty the tables.
	if _, errout, code := setkeyIn(t, ns, "spddelete 2001:db8:b::/64 2001:db8:a::/64 any -P in;", "-c"); code != 0 {
		t.Fatalf("spddelete: %s", errout)
	}
	out, _, _ = setkeyIn(t, ns, "", "-DP")
	if strings.Contains(out, "\tin prio") {
		t.Errorf("spddelete left the in policy:\n%s", out)
	}
	for _, a := range []string{"-F", "-FP"} {
		if _, errout, code := setkeyIn(t, ns, "", a); code != 0 {
			t.Fatalf("setkey %s: %s", a, errout)
		}
	}
	if out, _, _ := setkeyIn(t, ns, "", "-D"); out != "No SAD entries.\n" {
		t.Errorf("after -F: %q", out)
	}
	if out, _, _ := setkeyIn(t, ns, "", "-DP"); out != "No SPD entries.\n" {
		t.Errorf("after -FP: %q", out)
	}

	// A script that does not parse sends nothing: the add on line 1 must not happen.
	_, errout, code = setkeyIn(t, ns, "add 2001:db8::1 2001:db8::2 esp 0x3000 -E null;\nadd 2001:db8::1 2001:db8::2 esp 0x3001 -E aes-cbc \"short\";\n", "-c")
	if code != 1 || !strings.HasPrefix(errout, "setkey: stdin:2:51: invalid key length 40 bits for aes-cbc") {
		t.Errorf("bad script: exit %d: %s", code, errout)
	}
	if out, _, _ := setkeyIn(t, ns, "", "-D"); out != "No SAD entries.\n" {
		t.Errorf("a script that did not parse changed the SAD: %q", out)
	}
}

// The package API over a real key socket: Run, the errno in errors, GET of
// the keys that were written, and every algorithm the lab kernel has.
func TestLabRunAPI(t *testing.T) {
	ns := labNetns(t)
	c := openIn(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := `flush; spdflush;
add -n 192.0.2.1 192.0.2.2 esp 0x100 -m transport -r 64 -lh 600 -ls 500 -bh 1000000 -bs 900000 -E 3des-cbc "0123456789abcdef01234567" -A hmac-md5 "0123456789abcdef";
add 192.0.2.1 192.0.2.2 esp 0x101 -E aes-ctr 0x00112233445566778899aabbccddeeff01020304 -A hmac-sha512 0x` + strings.Repeat("ab", 64) + `;
add 192.0.2.1 192.0.2.2 esp 0x102 -E twofish-cbc 0x00112233445566778899aabbccddeeff -A hmac-sha256 0x` + strings.Repeat("ef", 32) + `;
add 192.0.2.1 192.0.2.2 esp 0x103 -E null -A hmac-sha384 0x` + strings.Repeat("cd", 48) + `;
add 192.0.2.1 192.0.2.2 esp 0x104 -E blowfish-cbc "kamekame" -A aes-xcbc-mac 0x00112233445566778899aabbccddeeff;
add 192.0.2.1 192.0.2.2 ah 0x105 -A hmac-ripemd160 "01234567890123456789";
add 192.0.2.1 192.0.2.2 ipcomp 0x106 -C deflate;
spdadd 192.0.2.1 192.0.2.2 tcp -P out ipsec esp/transport//require;
`
	sc, err := Parse("api.conf", []byte(src), &Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := Run(ctx, c, sc, RunOptions{Out: &out}); err != nil {
		t.Fatalf("run: %v", err)
	}
	var dump strings.Builder
	if err := DumpSAD(ctx, c, pfkey.SATypeUnspec, &dump, nil); err != nil {
		t.Fatal(err)
	}
	d := dump.String()
	for _, want := range []string{
		"\tE: 3des-cbc  30313233 34353637 38396162 63646566 30313233 34353637\n\tA: hmac-md5  30313233",
		// Linux caps the PF_KEY replay window at 32 packets.
		"seq=0x00000000 replay=32 flags=", "\tdiff: ", "hard: 600(s)\tsoft: 500(s)", "hard: 1000000(bytes)\tsoft: 900000(bytes)",
		"\tE: aes-ctr  00112233 44556677 8899aabb ccddeeff 01020304\n\tA: hmac-sha512  abababab",
		"\tE: twofish-cbc  00112233", "\tE: blowfish-cbc  6b616d65 6b616d65\n\tA: aes-xcbc-mac",
		// -E null: Linux returns no encryption key extension, so no E: line.
		"spi=259(0x00000103) reqid=0(0x00000000)\n\tA: hmac-sha384  cdcdcdcd",
		"\tA: hmac-ripemd160  30313233",
		// Linux stores mode any as transport.
		"\n\tipcomp mode=transport spi=262(0x00000106)", "\tC: deflate\n",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("dump lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("dump:\n%s", d)
	}
	// Errors from the kernel keep their errno.
	sc, _ = Parse("again.conf", []byte("add 192.0.2.1 192.0.2.2 esp 0x100 -E null;\n"), nil)
	err = Run(ctx, c, sc, RunOptions{})
	if !errors.Is(err, syscall.EEXIST) || !strings.HasPrefix(err.Error(), "again.conf:1:1: add: ") {
		t.Errorf("duplicate add: %v", err)
	}
	// A GET returns the key bytes that were written.
	r, err := c.Do(ctx, &pfkey.Message{Type: pfkey.MsgGet, SAType: pfkey.SATypeESP, SA: &pfkey.SA{SPI: 0x101},
		Src: pfkey.HostAddress(mustAddr("192.0.2.1")), Dst: pfkey.HostAddress(mustAddr("192.0.2.2"))})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.AuthKey.Data, bytes.Repeat([]byte{0xab}, 64)) || r.EncKey.Bits != 160 {
		t.Errorf("GET keys: auth %d bytes, enc %d bits", len(r.AuthKey.Data), r.EncKey.Bits)
	}
	r.Wipe()
	var pd strings.Builder
	if err := DumpSPD(ctx, c, &pd, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pd.String(), "192.0.2.1[any] 192.0.2.2[any] tcp\n\tout prio def ipsec\n\tesp/transport//require\n") {
		t.Errorf("spd dump:\n%s", pd.String())
	}
}

// The ESP tunnel demo: two namespaces, setkey -f on each side, traffic
// crosses through ESP and every SA's counter rises.
func TestLabESPTunnelDemo(t *testing.T) {
	script := "/ikectx/examples/esp-tunnel/run.sh"
	if _, err := os.Stat(script); err != nil {
		// Outside the VM: the repository's own copy.
		wd, _ := os.Getwd()
		script = filepath.Join(wd, "..", "..", "examples", "esp-tunnel", "run.sh")
		if _, err := os.Stat(script); err != nil {
			t.Skip("examples/esp-tunnel/run.sh not found")
		}
	}
	setkeyBin(t)
	cmd := exec.Command("/bin/sh", script)
	cmd.Env = append(os.Environ(), "SETKEY="+setkeyBin(t))
	out, err := cmd.CombinedOutput()
	s := string(out)
	if err != nil || !strings.HasSuffix(strings.TrimSpace(s), "ESP tunnel: OK") {
		t.Fatalf("run.sh: %v\n%s", err, s)
	}
	m := regexp.MustCompile(`SA byte counters after: left \[ (\d+) (\d+) \] right \[ (\d+) (\d+) \]`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no counters in the output:\n%s", s)
	}
	for _, v := range m[1:] {
		if n, _ := strconv.Atoi(v); n <= 0 {
			t.Errorf("an SA carried no bytes: %s", m[0])
		}
	}
	for _, want := range []string{"3 packets received", "\n 1  2001:db8:b::1 ", "received on the right: hello through ESP",
		"\tout prio def ipsec\n\tesp/tunnel/2001:db8:ff::1-2001:db8:ff::2/require\n", "auth-trunc hmac(sha256)", "enc cbc(aes)"} {
		if !strings.Contains(s, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	t.Logf("%s", m[0])
}

// SAs and policies from one setkey file against the same through XFRM
// netlink with `ip -batch`, each in a fresh namespace, in both orders (the
// first loader pays for first-time kernel allocations): the times are
// logged (measured, not asserted) and the tables checked.
func TestLabSetkeyScale(t *testing.T) {
	const n = 300
	var sk, ipb strings.Builder
	for i := 0; i < n; i++ {
		spi := 0x10000 + i
		fmt.Fprintf(&sk, "add 2001:db8::1 2001:db8::2 esp 0x%x -m tunnel -E aes-cbc 0x00112233445566778899aabbccddeeff -A hmac-sha1 0x0102030405060708090a0b0c0d0e0f1011121314;\n", spi)
		fmt.Fprintf(&sk, "spdadd 2001:db8:%x::/64[any] 2001:db8:ffff::/64[any] any -P out ipsec esp/tunnel/2001:db8::1-2001:db8::2/require;\n", i+1)
		fmt.Fprintf(&ipb, "xfrm state add src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x%x mode tunnel enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff auth-trunc 'hmac(sha1)' 0x0102030405060708090a0b0c0d0e0f1011121314 96\n", spi)
		fmt.Fprintf(&ipb, "xfrm policy add src 2001:db8:%x::/64 dst 2001:db8:ffff::/64 dir out tmpl src 2001:db8::1 dst 2001:db8::2 proto esp mode tunnel level required\n", i+1)
	}
	dir := t.TempDir()
	skFile, ipFile := filepath.Join(dir, "scale.setkey"), filepath.Join(dir, "scale.ip")
	os.WriteFile(skFile, []byte(sk.String()), 0o600)
	os.WriteFile(ipFile, []byte(ipb.String()), 0o600)

	viaSetkey := func() time.Duration {
		ns := labNetns(t)
		start := time.Now()
		_, errout, code := setkeyIn(t, ns, "", "-f", skFile)
		d := time.Since(start)
		if code != 0 {
			t.Fatalf("setkey -f: exit %d: %s", code, errout)
		}
		checkTables(t, ns, n)
		return d
	}
	viaIP := func() time.Duration {
		ns := labNetns(t)
		start := time.Now()
		out, err := exec.Command(ipCmd(), "-n", ns, "-batch", ipFile).CombinedOutput()
		d := time.Since(start)
		if err != nil {
			t.Fatalf("ip -batch: %v\n%s", err, out)
		}
		checkTables(t, ns, n)
		return d
	}
	s1 := viaSetkey()
	i1 := viaIP()
	i2 := viaIP()
	s2 := viaSetkey()
	sum := func(a, b time.Duration) time.Duration { return (a + b).Round(time.Millisecond) }
	t.Logf("%d SAs + %d policies: setkey -f (PF_KEY) %v then %v; ip -batch (XFRM netlink) %v then %v; ratio setkey/ip %.2f",
		n, n, s1.Round(time.Millisecond), s2.Round(time.Millisecond), i1.Round(time.Millisecond), i2.Round(time.Millisecond),
		float64(sum(s1, s2))/float64(sum(i1, i2)))
}

// checkTables makes sure namespace ns holds n SAs and n policies.
func checkTables(t *testing.T, ns string, n int) {
	t.Helper()
	o, e, code := setkeyIn(t, ns, "", "-D")
	if c := strings.Count(o, "\tsadb_seq="); c != n || code != 0 {
		t.Errorf("%s: setkey -D: exit %d, %d SAs, want %d: %s", ns, code, c, n, e)
	}
	o, e, code = setkeyIn(t, ns, "", "-DP")
	if c := strings.Count(o, "\trefcnt="); c != n || code != 0 {
		t.Errorf("%s: setkey -DP: exit %d, %d policies, want %d: %s", ns, code, c, n, e)
	}
	exec.Command(ipCmd(), "netns", "del", ns).Run()
}
