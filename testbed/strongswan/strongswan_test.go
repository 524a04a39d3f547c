package strongswan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestConf(t *testing.T) {
	c := Conf("/tmp/x", []string{"random", "kernel-netlink", "vici"}, []string{"pem"})
	for _, want := range []string{
		"load_modular = no",
		"load = random kernel-netlink vici\n",
		"socket = unix:///tmp/x/charon.vici",
		"install_routes = no",
		"load = pem\n",
	} {
		if !strings.Contains(c, want) {
			t.Errorf("Conf lacks %q:\n%s", want, c)
		}
	}
	if strings.Count(c, "{") != strings.Count(c, "}") {
		t.Errorf("unbalanced braces:\n%s", c)
	}
}

func TestPluginLists(t *testing.T) {
	in := map[string]bool{}
	for _, p := range Plugins {
		if in[p] {
			t.Errorf("plugin %s twice", p)
		}
		in[p] = true
	}
	for _, p := range requiredPlugins {
		if !in[p] {
			t.Errorf("required plugin %s not in Plugins", p)
		}
	}
	for _, p := range SwanctlPlugins {
		if !in[p] {
			t.Errorf("swanctl plugin %s not in Plugins (LabFiles would still copy it, but keep one list of what runs)", p)
		}
	}
	if in["kernel-libipsec"] {
		t.Error("kernel-libipsec must not be loaded: the lab's ESP is the kernel's")
	}
}

func TestHostLabFiles(t *testing.T) {
	if runtime.GOOS != "linux" {
		if _, err := LabFiles(context.Background()); err == nil {
			t.Error("LabFiles succeeded off Linux")
		}
		return
	}
	files, err := LabFiles(context.Background())
	if err != nil {
		if Available() == nil {
			t.Fatal(err)
		}
		if !strings.Contains(err.Error(), "strongswan-charon") {
			t.Errorf("the error does not name the package: %v", err)
		}
		t.Skipf("strongSwan not installed: %v", err)
	}
	got := map[string]bool{}
	for _, f := range files {
		if f.Guest != f.Host {
			t.Errorf("%s: guest path differs from host path %s", f.Guest, f.Host)
		}
		got[f.Guest] = true
	}
	for _, want := range []string{CharonBin, SwanctlBin, PluginFile("kernel-netlink"), PluginFile("vici"), PluginFile("socket-default")} {
		if !got[want] {
			t.Errorf("LabFiles lacks %s", want)
		}
	}
	gcc := false
	for g := range got {
		gcc = gcc || filepath.Base(g) == "libgcc_s.so.1"
	}
	if !gcc {
		t.Error("LabFiles lacks libgcc_s.so.1")
	}
}

// On the host (no ESP in its kernel) charon with kernel-netlink still
// starts, answers on vici and loads a configuration: Start and Stop work
// in a namespace of their own.
func TestStartStopHost(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	if os.Getuid() != 0 {
		t.Skip("needs root (network namespaces, bind mounts)")
	}
	ns := "swstart" + strings.ReplaceAll(time.Now().Format("150405.000"), ".", "")
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("no network namespaces here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	exec.Command("ip", "-n", ns, "link", "set", "lo", "up").Run()
	dir := filepath.Join(t.TempDir(), "charon")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conf := `connections { c1 { version = 2
	local_addrs = ::1
	remote_addrs = ::2
	local { auth = psk
		id = a@example }
	remote { auth = psk
		id = b@example }
	children { net { esp_proposals = aes128-sha1 } } } }
secrets { ike-1 { id-1 = a@example
	id-2 = b@example
	secret = "a-long-test-psk" } }
`
	c, err := Start(ctx, ns, dir, conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("charon ready after %v, configuration loaded after %v", c.ReadyAfter, c.LoadedAfter)
	out, err := c.Swanctl("--list-conns")
	if err != nil || !strings.Contains(out, "c1:") {
		t.Errorf("--list-conns: %v\n%s\ncharon:\n%s", err, out, c.Output())
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "charon.pid")); err != nil {
		t.Errorf("charon's pid file is not in its private /run: %v", err)
	}
	if _, err := os.Stat("/run/charon.pid"); err == nil {
		t.Log("note: /run/charon.pid exists on this host (another charon?)")
	}
	c.Stop()
	c.Stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Stop left %s: %v", dir, err)
	}
	if err := syscall.Kill(c.Pid, 0); err == nil {
		t.Errorf("charon %d still running after Stop", c.Pid)
	}
}

func TestParseLogTime(t *testing.T) {
	at, rest, ok := parseLogTime("1764245678.042 09[IKE] <cc|1> initiating IKE_SA cc[1] to fd00:5::2")
	if !ok || at.Unix() != 1764245678 || at.Nanosecond() != 42e6 || rest != "09[IKE] <cc|1> initiating IKE_SA cc[1] to fd00:5::2" {
		t.Errorf("got %v %q %v", at, rest, ok)
	}
	for _, bad := range []string{"", "09[IKE] initiating", "1764245678 09[IKE] x", "17.4 x", "abc.123 x", "-5.123 x"} {
		if _, rest, ok := parseLogTime(bad); ok || rest != bad {
			t.Errorf("%q: parsed (%q, %v)", bad, rest, ok)
		}
	}
}

func TestTailWriterEvents(t *testing.T) {
	var sink strings.Builder
	w := &tailWriter{w: &sink}
	log := "1000.100 00[DMN] Starting IKE charon daemon (strongSwan 5.9.8, Linux 6.1.0-28-amd64, x86_64)\n" +
		"1000.200 09[IKE] initiating IKE_SA cc[1] to fd00:5::2\n" +
		"1000.250 09[NET] sending packet: from fd00:5::1[500] to fd00:5::2[500] (240 bytes)\n" +
		"1000.480 12[IKE] IKE_SA cc[1] established between fd00:5::1[mn@example]...fd00:5::2[ar@example]\n" +
		"1000.4"
	// Written in pieces that split lines.
	for i := 0; i < len(log); i += 7 {
		w.Write([]byte(log[i:min(i+7, len(log))]))
	}
	w.Write([]byte("90 12[IKE] CHILD_SA net{1} established with SPIs c1a2b3c4_i c5d6e7f8_o and TS fd00:a::/64 === fd00:b::/64\n"))
	if sink.String() != log+"90 12[IKE] CHILD_SA net{1} established with SPIs c1a2b3c4_i c5d6e7f8_o and TS fd00:a::/64 === fd00:b::/64\n" {
		t.Error("the output was not passed on unchanged")
	}
	ev := w.eventList()
	if len(ev) != 3 {
		t.Fatalf("events %v", ev)
	}
	d, ok := ExchangeTime(ev, time.Unix(1000, 0))
	if !ok || d != 290*time.Millisecond {
		t.Errorf("ExchangeTime = %v, %v; want 290ms", d, ok)
	}
	if _, ok := ExchangeTime(ev, time.Unix(1000, 300e6)); ok {
		t.Error("an exchange found after the initiation")
	}
	// Responder side.
	resp := []Event{
		{At: time.Unix(5, 0), Line: "05[IKE] fd00:5::1 is initiating an IKE_SA"},
		{At: time.Unix(5, 100e6), Line: "05[IKE] CHILD_SA net{1} established with SPIs"},
	}
	if d, ok := ExchangeTime(resp, time.Unix(4, 0)); !ok || d != 100*time.Millisecond {
		t.Errorf("responder ExchangeTime = %v, %v", d, ok)
	}
}

func TestTailWriterBounded(t *testing.T) {
	w := &tailWriter{}
	line := strings.Repeat("x", 99) + "\n"
	for i := 0; i < 1000; i++ {
		w.Write([]byte(line))
	}
	if n := len(w.tail()); n > tailMax || n < tailMax-100 {
		t.Errorf("tail %d bytes", n)
	}
	w.Write([]byte(strings.Repeat("y", 3*tailMax)))
	if len(w.partial) > tailMax || w.buf.Len() > 2*tailMax {
		t.Errorf("partial %d buf %d", len(w.partial), w.buf.Len())
	}
}

// A charon that cannot start (no such namespace) is reported with its
// output, and Start leaves nothing behind.
func TestStartFailureCleansUp(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	dir := filepath.Join(t.TempDir(), "charon")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Start(ctx, "swnosuchns"+strings.ReplaceAll(time.Now().Format("150405.000"), ".", ""), dir, "", nil)
	if err == nil {
		c.Stop()
		t.Fatal("Start succeeded in a namespace that does not exist")
	}
	if !strings.Contains(err.Error(), "exited before its vici socket answered") {
		t.Errorf("error: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Start left %s: %v", dir, err)
	}
	if _, err := Start(ctx, "", dir, "", nil); err == nil {
		t.Error("Start without a namespace succeeded")
	}
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	if _, err := Start(ctx, "x", long, "", nil); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("long dir: %v", err)
	}
}
