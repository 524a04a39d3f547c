package daemon

// Interop with strongSwan's charon (an independent IKEv1 implementation)
// on the host: charon with kernel-libipsec in one network namespace, ikectx
// racoon --no-kernel in another, joined by a veth pair. Recipe:
// shared/notes/strongswan-peer.md. Skipped unless root with charon,
// swanctl and the kernel-libipsec and vici plugins installed (Debian:
// strongswan-charon strongswan-swanctl libcharon-extra-plugins
// libstrongswan-standard-plugins).

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ikectx/ikectx/internal/charontest"
	"github.com/ikectx/ikectx/internal/netnstest"
	"github.com/ikectx/ikectx/racoon/admin"
)

func needInterop(t *testing.T) {
	t.Helper()
	if why := charontest.Missing(); why != "" {
		t.Skip(why + ": apt-get install strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins iproute2")
	}
}

var run = charontest.Run

type ifamily struct {
	name            string
	sw, ik          string // outer addresses (charon, ikectx)
	swNet, ikNet    string // inner subnets
	swHost, ikHost  string // an address in each (ID selectors)
	prefix, netBits int
}

var fam6 = ifamily{"ipv6", "fd00:5::1", "fd00:5::2", "fd00:a::/64", "fd00:b::/64", "fd00:a::", "fd00:b::", 64, 64}
var fam4 = ifamily{"ipv4", "10.55.0.1", "10.55.0.2", "10.56.1.0/24", "10.56.2.0/24", "10.56.1.0", "10.56.2.0", 24, 24}

// testbedNS creates the two namespaces and returns their names.
func testbedNS(t *testing.T, f ifamily) (string, string) {
	tag := strconv.Itoa(os.Getpid() % 100000)
	sw, ik := "ikx-sw"+tag, "ikx-ik"+tag
	charontest.Veth(t, sw, "vsw"+tag, ik, "vik"+tag)
	for _, x := range []struct{ ns, dev, addr string }{{sw, "vsw" + tag, f.sw}, {ik, "vik" + tag, f.ik}} {
		if strings.Contains(x.addr, ":") {
			run(t, "ip", "-n", x.ns, "addr", "add", x.addr+"/64", "dev", x.dev, "nodad")
		} else {
			run(t, "ip", "-n", x.ns, "addr", "add", x.addr+"/24", "dev", x.dev)
		}
	}
	// charon routes the remote subnet through its TUN device with a source
	// address from its local subnet: put one on lo (no dummy links here)
	inner := f.swHost + "1"
	bits := "/64"
	if !strings.Contains(inner, ":") {
		inner, bits = strings.TrimSuffix(f.swHost, "0")+"1", "/24"
	}
	run(t, "ip", "-n", sw, "addr", "add", inner+bits, "dev", "lo")
	return sw, ik
}

func startCharon(t *testing.T, ns string, f ifamily, aggressive bool, ike, esp string) *charontest.Charon {
	ssconf := func(dir, vici string) string {
		return fmt.Sprintf(`charon {
  load_modular = no
  load = random nonce openssl pem pkcs1 x509 pubkey revocation gmp aes sha1 sha2 md5 hmac kdf kernel-libipsec kernel-netlink socket-default vici updown
  install_virtual_ip = no
  i_dont_care_about_security_and_use_aggressive_mode_psk = yes
  filelog { main { path = %[1]s/charon.log
                   time_add_ms = yes
                   default = 1
                   ike = 2 } }
  plugins { vici { socket = unix://%[2]s } }
}
`, dir, vici)
	}
	sw := fmt.Sprintf(`connections { ikx {
    version = 1
    aggressive = %[1]s
    local_addrs = %[2]s
    remote_addrs = %[3]s
    proposals = %[4]s
    rekey_time = 0
    dpd_delay = 0
    local { auth = psk
            id = %[2]s }
    remote { auth = psk
             id = %[3]s }
    children { net { mode = tunnel
                     local_ts = %[5]s
                     remote_ts = %[6]s
                     esp_proposals = %[7]s
                     rekey_time = 0
                     start_action = none } } } }
secrets { ike-psk { id-a = %[2]s
                    id-b = %[3]s
                    secret = "a-long-test-psk" } }
`, map[bool]string{true: "yes", false: "no"}[aggressive], f.sw, f.ik, ike, f.swNet, f.ikNet, esp)
	return charontest.Start(t, ns, ssconf, sw)
}

// buildRacoon builds cmd/racoon into dir.
func buildRacoon(t *testing.T, dir string) string {
	bin := filepath.Join(dir, "racoon")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/ikectx/ikectx/cmd/racoon").CombinedOutput(); err != nil {
		t.Fatalf("build racoon: %v\n%s", err, out)
	}
	return bin
}

type ikectx struct {
	cl   *admin.Client
	logf string
}

func startIkectx(t *testing.T, bin, ns string, f ifamily, mode, enc, hash, dh, p2enc, p2auth, pfs string) *ikectx {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "psk.txt"), []byte(f.sw+" a-long-test-psk\n"), 0600)
	pfsLine := ""
	if pfs != "" {
		pfsLine = "pfs_group " + pfs + ";"
	}
	cf := fmt.Sprintf(`path pre_shared_key "%[1]s/psk.txt";
listen { isakmp %[2]s [500]; adminsock "%[1]s/racoon.sock"; }
timer { counter 3; interval 2 sec; }
remote %[3]s {
	exchange_mode %[4]s;
	my_identifier address;
	nat_traversal on;
	proposal_check obey;
	proposal { encryption_algorithm %[5]s; hash_algorithm %[6]s; authentication_method pre_shared_key; dh_group %[7]s; }
}
sainfo anonymous {
	%[10]s
	lifetime time 8 hour;
	encryption_algorithm %[8]s;
	authentication_algorithm %[9]s;
	compression_algorithm deflate;
}
`, dir, f.ik, f.sw, mode, enc, hash, dh, p2enc, p2auth, pfsLine)
	os.WriteFile(filepath.Join(dir, "racoon.conf"), []byte(cf), 0644)
	pol := fmt.Sprintf("spdadd %[1]s %[2]s any -P out ipsec esp/tunnel/%[3]s-%[4]s/require;\nspdadd %[2]s %[1]s any -P in ipsec esp/tunnel/%[4]s-%[3]s/require;\n",
		f.ikNet, f.swNet, f.ik, f.sw)
	os.WriteFile(filepath.Join(dir, "policy.conf"), []byte(pol), 0644)
	logf := filepath.Join(dir, "racoon.log")
	out := netnstest.StartDaemon(t, "ip", ns, func(out string) {
		b, _ := os.ReadFile(logf)
		t.Logf("ikectx racoon output:\n%s\nlog:\n%s", out, b)
	}, bin, "-F", "-d", "-f", filepath.Join(dir, "racoon.conf"), "--no-kernel",
		"--policy", filepath.Join(dir, "policy.conf"), "-l", logf)
	sock := filepath.Join(dir, "racoon.sock")
	cl := &admin.Client{Path: sock}
	deadline := time.Now().Add(20 * time.Second)
	for {
		// the socket file exists between bind and listen: poll with a request
		if _, err := cl.Phase1s(context.Background()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("racoon's admin socket did not appear: %s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &ikectx{cl: cl, logf: logf}
}

func TestInteropStrongSwan(t *testing.T) {
	needInterop(t)
	bin := buildRacoon(t, t.TempDir())
	type entry struct {
		name                string
		f                   ifamily
		aggressive, ikeInit bool
		swIKE, swESP        string
		enc, hash, dh       string
		p2enc, p2auth, pfs  string
	}
	var matrix []entry
	for _, f := range []ifamily{fam6, fam4} {
		for _, aggr := range []bool{false, true} {
			for _, init := range []bool{true, false} {
				matrix = append(matrix,
					entry{"", f, aggr, init, "3des-sha1-modp1024", "3des-sha1", "3des", "sha1", "modp1024", "3des", "hmac_sha1", ""},
					entry{"", f, aggr, init, "aes128-sha256-modp2048", "aes128-sha256-modp2048", "aes 128", "sha256", "modp2048", "aes 128", "hmac_sha256", "modp2048"})
			}
		}
	}
	for _, e := range matrix {
		mode := map[bool]string{true: "aggressive", false: "main"}[e.aggressive]
		who := map[bool]string{true: "ikectx-initiates", false: "strongswan-initiates"}[e.ikeInit]
		name := fmt.Sprintf("%s/%s/%s/%s", e.f.name, mode, e.swIKE, who)
		t.Run(name, func(t *testing.T) {
			swNS, ikNS := testbedNS(t, e.f)
			c := startCharon(t, swNS, e.f, e.aggressive, e.swIKE, e.swESP)
			ik := startIkectx(t, bin, ikNS, e.f, mode, e.enc, e.hash, e.dh, e.p2enc, e.p2auth, e.pfs)
			ctx := context.Background()
			stopCapture := capture(t, ikNS, "vik"+strconv.Itoa(os.Getpid()%100000))
			start := time.Now()
			if e.ikeInit {
				err := ik.cl.EstablishSA(ctx, &admin.EstablishRequest{Proto: admin.ProtoESP, Indexes: admin.Indexes{
					PrefS: uint8(e.f.netBits), PrefD: uint8(e.f.netBits), ULProto: 255,
					Src: netip.AddrPortFrom(netip.MustParseAddr(e.f.ikHost), 0), Dst: netip.AddrPortFrom(netip.MustParseAddr(e.f.swHost), 0)}})
				if err != nil {
					t.Fatal(err)
				}
			} else {
				go c.Swanctl("--initiate", "--child", "net", "--ike", "ikx", "--timeout", "20")
			}
			var sas string
			deadline := time.Now().Add(30 * time.Second)
			for {
				sas, _ = c.Swanctl("--list-sas")
				ours, _ := ik.cl.SAs(ctx, admin.ProtoESP)
				p1, _ := ik.cl.Phase1s(ctx)
				if strings.Contains(sas, "ESTABLISHED") && strings.Contains(sas, "INSTALLED") && len(ours) == 2 &&
					len(p1) == 1 && p1[0].Status == admin.Ph1Established {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not established on both sides:\nswanctl --list-sas:\n%s\nikectx: %d SAs, phase 1s %+v", sas, len(ours), p1)
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("%s: established in %v", name, time.Since(start).Round(time.Millisecond))
			time.Sleep(100 * time.Millisecond) // late informationals
			summarize(t, name, stopCapture())
			// the SPIs charon installed are ours, crossed
			ours, _ := ik.cl.SAs(ctx, admin.ProtoESP)
			for _, s := range ours {
				if !strings.Contains(sas, fmt.Sprintf("%08x", s.SPI)) {
					t.Errorf("SPI %08x not in charon's SAs:\n%s", s.SPI, sas)
				}
			}
			// charon's ESP towards ikectx's subnet crosses, and ikectx's
			// inbound SA decrypts and authenticates it
			checkESPCrosses(t, ik, swNS, ikNS, "vik"+strconv.Itoa(os.Getpid()%100000), e.f)
		})
	}
}
