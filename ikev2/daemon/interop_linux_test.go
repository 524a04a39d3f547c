package daemon

// Interop with strongSwan's charon (an independent IKEv2/MOBIKE
// implementation) on the host: charon with kernel-libipsec in one network
// namespace, ikectx iked --no-kernel in another, joined by a veth pair
// (IPv6 only, as shared/notes/strongswan-peer.md advises for MOBIKE).
// Skipped unless root with charon, swanctl and the kernel-libipsec and
// vici plugins installed (scripts/deps.sh installs them).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ikectx/ikectx/internal/charontest"
	"github.com/ikectx/ikectx/internal/netnstest"
)

func needInterop(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("interop skipped in -short mode")
	}
	if why := charontest.Missing(); why != "" {
		t.Skip(why + "; see scripts/deps.sh")
	}
}

var sh = charontest.Run

// family holds one address plan: outer addresses (and the ones MOBIKE
// moves to), inner networks, charon's inner source address.
type family struct {
	name                             string
	swAddr, ikAddr, swAddr2, ikAddr2 string
	swNet, ikNet, swInner            string
	plen                             string
}

var (
	fam6 = family{"ipv6", "fd00:5::1", "fd00:5::2", "fd00:5::11", "fd00:5::12", "fd00:a::/64", "fd00:b::/64", "fd00:a::1/64", "/64"}
	fam4 = family{"ipv4", "10.57.0.1", "10.57.0.2", "10.57.0.11", "10.57.0.12", "10.58.1.0/24", "10.58.2.0/24", "10.58.1.1/24", "/24"}
)

// hostPort is how iked's status writes an address with a port.
func hostPort(a string) string {
	if strings.Contains(a, ":") {
		return "[" + a + "]"
	}
	return a
}

type lab struct {
	family
	sw, ik       string // namespaces
	swDev, ikDev string
}

var labCount atomic.Int32

func newLab(t *testing.T, f family) *lab {
	// pid and a per-process count, fixed width (so that no two pairs give
	// the same name): unique among concurrent test processes, short enough
	// for a link name (15 bytes).
	tag := fmt.Sprintf("%05d%02d", os.Getpid()%100000, labCount.Add(1)%100)
	l := &lab{family: f, sw: "ikv2-sw" + tag, ik: "ikv2-ik" + tag, swDev: "v2s" + tag, ikDev: "v2i" + tag}
	charontest.Veth(t, l.sw, l.swDev, l.ik, l.ikDev)
	for _, x := range []struct{ ns, dev, addr string }{{l.sw, l.swDev, f.swAddr}, {l.ik, l.ikDev, f.ikAddr}} {
		if !strings.Contains(x.addr, ":") {
			// Deleting an IPv4 primary address takes its secondaries
			// with it unless they are promoted (the MOBIKE move).
			sh(t, "ip", "netns", "exec", x.ns, "sysctl", "-qw", "net.ipv4.conf."+x.dev+".promote_secondaries=1")
		}
		l.addAddr(t, x.ns, x.dev, x.addr)
	}
	// charon routes the remote subnet through its TUN with a source from
	// its local subnet: give it one on lo.
	sh(t, "ip", "-n", l.sw, "addr", "add", f.swInner, "dev", "lo")
	return l
}

func (l *lab) addAddr(t *testing.T, ns, dev, a string) {
	args := []string{"-n", ns, "addr", "add", a + l.plen, "dev", dev}
	if strings.Contains(a, ":") {
		args = append(args, "nodad")
	}
	sh(t, "ip", args...)
}

func startCharon(t *testing.T, l *lab, ike, esp string) *charontest.Charon {
	ss := func(dir, vici string) string {
		return fmt.Sprintf(`charon {
  load_modular = no
  load = random nonce openssl pem pkcs1 x509 pubkey revocation gmp aes sha1 sha2 hmac kdf kernel-libipsec kernel-netlink socket-default vici updown
  install_virtual_ip = no
  retransmit_timeout = 1.0
  delete_rekeyed_delay = 0
  retransmit_tries = 3
  filelog { main { path = %[1]s/charon.log
                   time_add_ms = yes
                   flush_line = yes
                   default = 1
                   ike = 2
                   knl = 2 } }
  plugins { vici { socket = unix://%[2]s } }
}
`, dir, vici)
	}
	sw := fmt.Sprintf(`connections { ikx {
    version = 2
    mobike = yes
    local_addrs = %%any
    remote_addrs = %[1]s
    proposals = %[2]s
    rekey_time = 0
    dpd_delay = 0
    local { auth = psk
            id = sw@example }
    remote { auth = psk
             id = ik@example }
    children { net { mode = tunnel
                     local_ts = %[4]s
                     remote_ts = %[5]s
                     esp_proposals = %[3]s
                     rekey_time = 0
                     start_action = none } } } }
secrets { ike-psk { id-a = sw@example
                    id-b = ik@example
                    secret = "a-long-test-psk" } }
`, l.ikAddr, ike, esp, l.swNet, l.ikNet)
	return charontest.Start(t, l.sw, ss, sw)
}

var (
	ikedOnce sync.Once
	ikedBin  string
	ikedErr  error
)

func buildIked(t *testing.T) string {
	ikedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ikectx-iked")
		if err != nil {
			ikedErr = err
			return
		}
		ikedBin = filepath.Join(dir, "iked")
		goBin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if _, err := os.Stat(goBin); err != nil {
			goBin = "go"
		}
		if out, err := exec.Command(goBin, "build", "-o", ikedBin, "github.com/ikectx/ikectx/cmd/iked").CombinedOutput(); err != nil {
			ikedErr = fmt.Errorf("build iked: %v\n%s", err, out)
		}
	})
	if ikedErr != nil {
		t.Fatal(ikedErr)
	}
	return ikedBin
}

type iked struct {
	sock string
}

func (k *iked) ctl(args ...string) (string, error) { return Control(k.sock, args...) }

func startIked(t *testing.T, l *lab, ike, esp string) *iked {
	bin := buildIked(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "iked.sock")
	conf := fmt.Sprintf(`[global]
socket = %q
retransmit_base = "500ms"
retransmit_tries = 4

[[pad]]
id = "sw@example"
psk = "a-long-test-psk"

[[connection]]
name = "ikx"
remote_addr = %q
local_id = "ik@example"
remote_id = "sw@example"
ike_proposals = [%q]
esp_proposals = [%q]
local_ts = [%q]
remote_ts = [%q]
mobike = true
`, sock, l.swAddr, ike, esp, l.ikNet, l.swNet)
	path := filepath.Join(dir, "iked.toml")
	os.WriteFile(path, []byte(conf), 0o644)
	if out, err := exec.Command(bin, "-t", "-c", path).CombinedOutput(); err != nil {
		t.Fatalf("iked -t: %v\n%s", err, out)
	}
	out := netnstest.StartDaemon(t, "ip", l.ik, func(out string) { t.Logf("iked output:\n%s", out) },
		bin, "-c", path, "--no-kernel", "-v")
	k := &iked{sock: sock}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := k.ctl("status"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("iked's control socket did not appear:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return k
}

var (
	swChildRe = regexp.MustCompile(`in  ([0-9a-f]{8}),[^\n]*\n\s*out ([0-9a-f]{8}),`)
	ikSPIRe   = regexp.MustCompile(`spi ([0-9a-f]{16})_i ([0-9a-f]{16})_r`)
	ikChildRe = regexp.MustCompile(`in 0x([0-9a-f]{8}) out 0x([0-9a-f]{8})`)
)

// waitBoth polls both sides until cond holds.
func waitBoth(t *testing.T, c *charontest.Charon, k *iked, what string, cond func(sw, ik string) bool) (string, string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		sw, _ := c.Swanctl("--list-sas")
		ik, _ := k.ctl("status")
		if cond(sw, ik) {
			return sw, ik
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: timed out\nswanctl --list-sas:\n%s\niked status:\n%s", what, sw, ik)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sameChildren checks that every child SA iked has is in charon's list
// with crossed SPIs, and that the counts agree.
func sameChildren(sw, ik string) bool {
	sc := swChildRe.FindAllStringSubmatch(sw, -1)
	kc := ikChildRe.FindAllStringSubmatch(ik, -1)
	if len(sc) == 0 || len(sc) != len(kc) || !strings.Contains(sw, "INSTALLED") {
		return false
	}
	for _, k := range kc {
		found := false
		for _, s := range sc {
			found = found || (s[1] == k[2] && s[2] == k[1])
		}
		if !found {
			return false
		}
	}
	return true
}

func established(sw, ik string) bool {
	return strings.Contains(sw, "ESTABLISHED") && strings.Contains(ik, "ESTABLISHED") && sameChildren(sw, ik)
}

func TestInteropStrongSwanIKEv2(t *testing.T) {
	needInterop(t)
	suites := []struct {
		f        family
		ike, esp string
	}{
		{fam6, "aes128-sha256-modp2048", "aes128-sha256"},
		{fam6, "aes256gcm16-prfsha384-ecp256", "aes256gcm16"},
		{fam6, "aes128-sha256-x25519", "aes128-sha256"},
		{fam4, "aes128-sha256-ecp256", "aes128gcm16"},
		{fam6, "aes256-sha1-modp2048", "aes128-sha1"},
	}
	for _, s := range suites {
		for _, ikInit := range []bool{true, false} {
			who := map[bool]string{true: "ikectx-initiates", false: "strongswan-initiates"}[ikInit]
			t.Run(s.f.name+"/"+s.ike+"/"+who, func(t *testing.T) {
				t0 := time.Now()
				step := func(what string) { t.Logf("%8v %s", time.Since(t0).Round(time.Millisecond), what) }
				l := newLab(t, s.f)
				step("namespaces")
				c := startCharon(t, l, s.ike, s.esp)
				step("charon up")
				k := startIked(t, l, s.ike, s.esp)
				step("iked up")
				start := time.Now()
				if ikInit {
					if _, err := k.ctl("initiate", "ikx"); err != nil {
						sw, _ := c.Swanctl("--list-sas")
						t.Fatalf("initiate: %v\n%s", err, sw)
					}
				} else if out, err := c.Swanctl("--initiate", "--child", "net", "--ike", "ikx", "--timeout", "20"); err != nil {
					t.Fatalf("swanctl --initiate: %v\n%s", err, out)
				}
				sw, ik := waitBoth(t, c, k, "IKE_SA_INIT + IKE_AUTH", established)
				t.Logf("established in %v\nswanctl:\n%siked:\n%s", time.Since(start).Round(time.Millisecond), sw, ik)
				if !strings.Contains(ik, "mobike") {
					t.Errorf("MOBIKE not negotiated:\n%s", ik)
				}
				old := ikChildRe.FindStringSubmatch(ik)
				step("established")
				// A child rekey by ikectx, then one by charon.
				if _, err := k.ctl("rekey-child", old[1]); err != nil {
					t.Fatalf("rekey-child: %v", err)
				}
				sw, ik = waitBoth(t, c, k, "child rekey by ikectx", func(sw, ik string) bool {
					return established(sw, ik) && !strings.Contains(ik, old[1]) && !strings.Contains(sw, old[1])
				})
				step("rekeyed by ikectx")
				old = ikChildRe.FindStringSubmatch(ik)
				if out, err := c.Swanctl("--rekey", "--child", "net"); err != nil {
					t.Fatalf("swanctl --rekey: %v\n%s", err, out)
				}
				sw, ik = waitBoth(t, c, k, "child rekey by charon", func(sw, ik string) bool {
					return established(sw, ik) && !strings.Contains(ik, old[1]) && !strings.Contains(sw, old[1])
				})
				step("rekeyed by charon")
				// MOBIKE: the original initiator changes its address.
				if ikInit {
					l.addAddr(t, l.ik, l.ikDev, l.ikAddr2)
					spi := ikSPIRe.FindStringSubmatch(ik)[1]
					if _, err := k.ctl("move", spi, l.ikAddr2, "-"); err != nil {
						t.Fatalf("move: %v", err)
					}
					sw, ik = waitBoth(t, c, k, "MOBIKE move by ikectx", func(sw, ik string) bool {
						return established(sw, ik) && strings.Contains(sw, l.ikAddr2+"[") && strings.Contains(ik, "local  "+hostPort(l.ikAddr2)+":")
					})
				} else {
					l.addAddr(t, l.sw, l.swDev, l.swAddr2)
					sh(t, "ip", "-n", l.sw, "addr", "del", l.swAddr+l.plen, "dev", l.swDev)
					sw, ik = waitBoth(t, c, k, "MOBIKE move by charon", func(sw, ik string) bool {
						return established(sw, ik) && strings.Contains(ik, "remote "+hostPort(l.swAddr2)+":") && strings.Contains(sw, l.swAddr2+"[")
					})
				}
				step("moved")
				t.Logf("after MOBIKE:\nswanctl:\n%siked:\n%s", sw, ik)
				// The IKE SA still carries exchanges.
				spis := ikSPIRe.FindStringSubmatch(ik)
				local := spis[2]
				if ikInit {
					local = spis[1]
				}
				if _, err := k.ctl("liveness", local); err != nil {
					t.Fatalf("liveness after MOBIKE: %v", err)
				}
				step("liveness")
				t.Cleanup(func() { step("cleaned up") })
			})
		}
	}
}

// TestInteropStrongSwanResponderMOBIKE: the paper's section 3.2.4 case,
// where the original responder (an access router) starts the MOBIKE
// exchange after its own address changed, and adds UPDATE_SPI, which
// strongSwan does not implement: it must ignore it, and iked must notice
// that nothing changed.
func TestInteropStrongSwanResponderMOBIKE(t *testing.T) {
	needInterop(t)
	l := newLab(t, fam6)
	c := startCharon(t, l, "aes128-sha256-x25519", "aes128-sha256")
	k := startIked(t, l, "aes128-sha256-x25519", "aes128-sha256")
	if out, err := c.Swanctl("--initiate", "--child", "net", "--ike", "ikx", "--timeout", "20"); err != nil {
		t.Fatalf("swanctl --initiate: %v\n%s", err, out)
	}
	_, ik := waitBoth(t, c, k, "IKE_SA_INIT + IKE_AUTH", established)
	spi := ikSPIRe.FindStringSubmatch(ik)[2]
	l.addAddr(t, l.ik, l.ikDev, l.ikAddr2)
	_, moveErr := k.ctl("move", spi, l.ikAddr2, "-")
	sw, ik := waitBoth(t, c, k, "responder-initiated MOBIKE", func(sw, ik string) bool { return established(sw, ik) })
	t.Logf("responder-initiated UPDATE_SA_ADDRESSES: iked: %v\nswanctl:\n%siked:\n%s", moveErr, sw, ik)
	// Measured: charon 5.9.8 accepts it and moves (then, with libipsec,
	// rekeys the child).
	if moveErr != nil || !strings.Contains(sw, l.ikAddr2+"[") {
		t.Fatalf("charon did not follow the responder's UPDATE_SA_ADDRESSES (%v):\n%s", moveErr, sw)
	}
	child := ikChildRe.FindStringSubmatch(ik)
	_, err := k.ctl("update-spi", spi, "esp", child[1], "0c0ffee0")
	if err == nil || !strings.Contains(err.Error(), "did not acknowledge UPDATE_SPI") {
		t.Fatalf("update-spi towards strongSwan: %v", err)
	}
	sw, ik = waitBoth(t, c, k, "after UPDATE_SPI", established)
	if !strings.Contains(ik, child[1]) || strings.Contains(ik, "0c0ffee0") {
		t.Fatalf("iked changed its SPI although the peer ignored UPDATE_SPI:\n%s", ik)
	}
	if _, err := k.ctl("liveness", spi); err != nil {
		t.Fatalf("liveness: %v", err)
	}
}
