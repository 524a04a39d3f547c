//go:build lab && linux

package ipsecmod

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ikectx/ikectx/pfkey"
)

// The kernel lab (testbed lab test ./ipsecmod): a real PF_KEY/ESP kernel.
//
// Namespaces: "par" holds only the pAR's SAD/SPD for the MN's tunnel
// (MN pCoA 2001:db8:1::10 <-> pAR 2001:db8:1::1, MN-HA traffic inside);
// "mn" -- "nar" -- "ha" are wired with veths: the MN at its nCoA
// 2001:db8:2::10 on the nAR's access link 2001:db8:2::/64, the HA at
// 2001:db8:3::1 behind the nAR (2001:db8:3::2). The nAR forwards and, by
// default, discards what the MNs' prefix sends and what the core sends to
// it (fwd and out discard policies, setkey's default priority).

const ipCmd = "/sbin/ip"

func sh(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command(ipCmd, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// inNS runs f on an OS thread switched into the named namespace; sockets
// opened by f stay in it.
func inNS[T any](t testing.TB, ns string, f func() (T, error)) T {
	t.Helper()
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is not unlocked: it dies with the goroutine, so it
		// never returns to the pool in the wrong namespace.
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			ch <- res{err: err}
			return
		}
		v, err := f()
		ch <- res{v, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("in netns %s: %v", ns, r.err)
	}
	return r.v
}

func openKey(t testing.TB, ns string) *pfkey.Conn {
	t.Helper()
	c := inNS(t, ns, pfkey.Open)
	t.Cleanup(func() { c.Close() })
	return c
}

func labNamespaces(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		exec.Command(ipCmd, "netns", "del", n).Run()
		sh(t, "netns", "add", n)
		sh(t, "-n", n, "link", "set", "lo", "up")
	}
	t.Cleanup(func() {
		for _, n := range names {
			exec.Command(ipCmd, "netns", "del", n).Run()
		}
	})
}

var (
	labKeyA1 = []byte("0123456789abcdef0123") // hmac-sha1, 160 bits
	labKeyE1 = []byte("fedcba9876543210")     // aes-cbc, 128 bits
	labKeyA2 = []byte("abcdefghijklmnopqrst")
	labKeyE2 = []byte("ponmlkjihgfedcba")
)

func labSA(spi uint32, src, dst netip.Addr, a, e []byte) *pfkey.SAEntry {
	return &pfkey.SAEntry{Type: pfkey.SATypeESP, SPI: spi, Src: src, Dst: dst, Mode: pfkey.ModeTunnel,
		Replay: 32, Auth: pfkey.AuthSHA1HMAC, Enc: pfkey.EncAESCBC,
		Keys: pfkey.Keys{Auth: append([]byte(nil), a...), Enc: append([]byte(nil), e...)},
		Hard: &pfkey.Lifetime{AddTime: 3600}, Soft: &pfkey.Lifetime{AddTime: 3000}}
}

func labPolicy(dir pfkey.Direction, src, dst, tsrc, tdst netip.Addr) *pfkey.PolicyEntry {
	return &pfkey.PolicyEntry{Src: netip.PrefixFrom(src, 128), Dst: netip.PrefixFrom(dst, 128), Proto: pfkey.ProtoAny,
		Dir: dir, Type: pfkey.PolicyIPsec, Priority: 0x80000000,
		Requests: []pfkey.IPSecRequest{{Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelRequire,
			Src: netip.AddrPortFrom(tsrc, 0), Dst: netip.AddrPortFrom(tdst, 0)}}}
}

// installTunnel puts the MN<->AR tunnel for MN-HA traffic in a kernel,
// seen from the AR (ar = true) or from the MN.
func installTunnel(t testing.TB, k *pfkey.Conn, mn, ar netip.Addr, asAR bool) {
	t.Helper()
	ctx := context.Background()
	for _, e := range []*pfkey.SAEntry{labSA(0x1000, mn, ar, labKeyA1, labKeyE1), labSA(0x2000, ar, mn, labKeyA2, labKeyE2)} {
		if err := k.Add(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	var pols []*pfkey.PolicyEntry
	if asAR {
		pols = []*pfkey.PolicyEntry{
			labPolicy(pfkey.DirInbound, mn, ha, mn, ar), labPolicy(pfkey.DirForward, mn, ha, mn, ar),
			labPolicy(pfkey.DirOutbound, ha, mn, ar, mn)}
	} else {
		pols = []*pfkey.PolicyEntry{labPolicy(pfkey.DirOutbound, mn, ha, mn, ar), labPolicy(pfkey.DirInbound, ha, mn, ar, mn)}
	}
	for _, p := range pols {
		if err := k.SPDAdd(ctx, p); err != nil {
			t.Fatal(p, err)
		}
	}
}

func narDiscards(t testing.TB, k *pfkey.Conn) {
	t.Helper()
	access, core, any6 := netip.MustParsePrefix("2001:db8:2::/64"), netip.MustParsePrefix("2001:db8:3::/64"), netip.MustParsePrefix("::/0")
	for _, p := range []*pfkey.PolicyEntry{
		{Src: access, Dst: any6, Proto: pfkey.ProtoAny, Dir: pfkey.DirForward, Type: pfkey.PolicyDiscard, Priority: 0x80000000},
		{Src: core, Dst: access, Proto: pfkey.ProtoAny, Dir: pfkey.DirOutbound, Type: pfkey.PolicyDiscard, Priority: 0x80000000},
	} {
		if err := k.SPDAdd(context.Background(), p); err != nil {
			t.Fatal(p, err)
		}
	}
}

// udpEcho runs a UDP echo on the HA and counts what reaches it.
type udpEcho struct {
	conn *net.UDPConn
	got  chan struct{}
}

func startEcho(t testing.TB) *udpEcho {
	c := inNS(t, "ha", func() (*net.UDPConn, error) {
		return net.ListenUDP("udp6", &net.UDPAddr{IP: ha.AsSlice(), Port: 9000})
	})
	e := &udpEcho{conn: c, got: make(chan struct{}, 100)}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			e.got <- struct{}{}
			c.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	return e
}

// roundTrip sends from the MN to the HA's echo and reports whether the
// answer came back within wait.
func roundTrip(t testing.TB, wait time.Duration) bool {
	c := inNS(t, "mn", func() (*net.UDPConn, error) {
		return net.ListenUDP("udp6", &net.UDPAddr{IP: mnNew.AsSlice()})
	})
	defer c.Close()
	deadline := time.Now().Add(wait)
	buf := make([]byte, 64)
	for time.Now().Before(deadline) {
		if _, err := c.WriteToUDPAddrPort([]byte("ping"), netip.AddrPortFrom(ha, 9000)); err != nil && !errors.Is(err, unix.EPERM) {
			t.Logf("send: %v", err)
		}
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, _, err := c.ReadFromUDPAddrPort(buf); err == nil && string(buf[:n]) == "ping" {
			return true
		}
	}
	return false
}

func labTopology(t testing.TB) {
	labNamespaces(t, "par", "mn", "nar", "ha")
	sh(t, "link", "add", "mn0", "netns", "mn", "type", "veth", "peer", "name", "nar-mn", "netns", "nar")
	sh(t, "link", "add", "ha0", "netns", "ha", "type", "veth", "peer", "name", "nar-ha", "netns", "nar")
	sh(t, "-n", "mn", "addr", "add", "2001:db8:2::10/64", "dev", "mn0", "nodad")
	sh(t, "-n", "nar", "addr", "add", "2001:db8:2::1/64", "dev", "nar-mn", "nodad")
	sh(t, "-n", "nar", "addr", "add", "2001:db8:3::2/64", "dev", "nar-ha", "nodad")
	sh(t, "-n", "ha", "addr", "add", "2001:db8:3::1/64", "dev", "ha0", "nodad")
	for _, l := range [][2]string{{"mn", "mn0"}, {"nar", "nar-mn"}, {"nar", "nar-ha"}, {"ha", "ha0"}} {
		sh(t, "-n", l[0], "link", "set", l[1], "up")
	}
	sh(t, "-n", "mn", "route", "add", "default", "via", "2001:db8:2::1")
	sh(t, "-n", "ha", "route", "add", "2001:db8:2::/64", "via", "2001:db8:3::2")
	inNS(t, "nar", func() (int, error) {
		return 0, os.WriteFile("/proc/sys/net/ipv6/conf/all/forwarding", []byte("1\n"), 0o644)
	})
}

// TestLabHandover: capture on the pAR, pre-install on the nAR with the
// addresses rewritten (predicted nCoA), check that nothing crosses the
// nAR before activation, rewrite the MN's own SAD/SPD, activate, and
// check that ESP traffic MN <-> HA crosses the nAR both ways.
func TestLabHandover(t *testing.T) {
	labTopology(t)
	ctx := context.Background()
	pk, nk, mk := openKey(t, "par"), openKey(t, "nar"), openKey(t, "mn")
	installTunnel(t, pk, mnOld, par, true)
	installTunnel(t, mk, mnOld, par, false)
	narDiscards(t, nk)
	echo := startEcho(t)

	pm, err := New(Config{Address: par, Kernel: pk})
	if err != nil {
		t.Fatal(err)
	}
	var data [numKinds][]byte
	for _, k := range []Kind{KindSA, KindSP} {
		if data[k], err = pm.Capture(ctx, k, mnOld); err != nil {
			t.Fatal(k, err)
		}
	}
	c, _, err := Unmarshal(data[KindSA])
	if err != nil || len(c.SAs) != 2 {
		t.Fatal(c, err)
	}
	for _, s := range c.SAs {
		if len(s.Entry.Keys.Auth) != 20 || len(s.Entry.Keys.Enc) != 16 {
			t.Fatalf("captured without keys: %v", s)
		}
	}

	nm, err := New(Config{Address: nar, Kernel: nk, Predict: netip.MustParsePrefix("2001:db8:2::/64")})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []Kind{KindSA, KindSP} {
		if err := nm.PreInstall(ctx, k, mnOld, netip.Addr{}, data[k]); err != nil {
			t.Fatal(k, err)
		}
	}
	for _, want := range [][2]netip.Addr{{mnNew, nar}, {nar, mnNew}} {
		spi := uint32(0x1000)
		if want[0] == nar {
			spi = 0x2000
		}
		if _, err := nk.Get(ctx, pfkey.SATypeESP, want[0], want[1], spi); err != nil {
			t.Fatalf("SA not pre-installed: %v", err)
		}
	}

	// The MN moves its own SAD/SPD to the nCoA and the nAR.
	res, err := RewriteMN(ctx, mk, MNMove{OldCoA: mnOld, NewCoA: mnNew, OldAR: par, NewAR: nar})
	if err != nil || res.SAs != 2 || res.Policies != 2 {
		t.Fatal(res, err)
	}

	// Before activation: the nAR forwards nothing of the MN's.
	if roundTrip(t, 2*time.Second) {
		t.Fatal("traffic crossed the nAR before activation")
	}
	if n := len(echo.got); n != 0 {
		t.Fatalf("the HA received %d packets before activation", n)
	}

	start := time.Now()
	for _, k := range []Kind{KindSA, KindSP} {
		if err := nm.Activate(ctx, k, mnOld, mnNew); err != nil {
			t.Fatal(k, err)
		}
	}
	t.Logf("activation (SAs already in place, %d policies) took %v", 3, time.Since(start))
	if !roundTrip(t, 10*time.Second) {
		out, _ := exec.Command(ipCmd, "-n", "nar", "xfrm", "policy").CombinedOutput()
		t.Fatalf("no traffic after activation; nAR policies:\n%s", out)
	}
	// It went through ESP: the nAR's SAs counted bytes.
	e, err := nk.Get(ctx, pfkey.SATypeESP, mnNew, nar, 0x1000)
	if err != nil || e.Current.Bytes == 0 {
		t.Fatalf("inbound SA at the nAR unused: %v %v", e, err)
	}
	e2, err := nk.Get(ctx, pfkey.SATypeESP, nar, mnNew, 0x2000)
	if err != nil || e2.Current.Bytes == 0 {
		t.Fatalf("outbound SA at the nAR unused: %v %v", e2, err)
	}
	e.Wipe()
	e2.Wipe()
}

// TestLabCollisionAndDiscard: the nAR already has another MN's inbound SA
// with the transferred SPI; the default rule (SPI + destination) reports
// it; DISCARD removes what was pre-installed.
func TestLabCollisionAndDiscard(t *testing.T) {
	labNamespaces(t, "par", "nar")
	ctx := context.Background()
	pk, nk := openKey(t, "par"), openKey(t, "nar")
	installTunnel(t, pk, mnOld, par, true)
	if err := nk.Add(ctx, labSA(0x1000, other, nar, labKeyA2, labKeyE2)); err != nil {
		t.Fatal(err)
	}
	pm, _ := New(Config{Address: par, Kernel: pk})
	sa, err := pm.Capture(ctx, KindSA, mnOld)
	if err != nil {
		t.Fatal(err)
	}
	nm, _ := New(Config{Address: nar, Kernel: nk})
	if err := nm.PreInstall(ctx, KindSA, mnOld, mnNew, sa); err != nil {
		t.Fatal(err)
	}
	err = nm.Activate(ctx, KindSA, mnOld, mnNew)
	if !errors.Is(err, ErrCollision) {
		t.Fatalf("want a collision, got %v", err)
	}
	t.Log(err)
	// The non-colliding SA is in; the other MN's SA untouched.
	if _, err := nk.Get(ctx, pfkey.SATypeESP, nar, mnNew, 0x2000); err != nil {
		t.Fatal(err)
	}
	if e, err := nk.Get(ctx, pfkey.SATypeESP, other, nar, 0x1000); err != nil || string(e.Keys.Auth) != string(labKeyA2) {
		t.Fatal("the other MN's SA was changed", err)
	}

	// A second MN's context pre-installed, then discarded.
	nm2, _ := New(Config{Address: nar, Kernel: nk})
	pk2 := pk
	if err := pk2.Add(ctx, labSA(0x5000, netip.MustParseAddr("2001:db8:1::20"), par, labKeyA1, labKeyE1)); err != nil {
		t.Fatal(err)
	}
	mn2 := netip.MustParseAddr("2001:db8:1::20")
	sa2, err := pm.Capture(ctx, KindSA, mn2)
	if err != nil {
		t.Fatal(err)
	}
	ncoa2 := netip.MustParseAddr("2001:db8:2::20")
	if err := nm2.PreInstall(ctx, KindSA, mn2, ncoa2, sa2); err != nil {
		t.Fatal(err)
	}
	if _, err := nk.Get(ctx, pfkey.SATypeESP, ncoa2, nar, 0x5000); err != nil {
		t.Fatal(err)
	}
	if err := nm2.Discard(ctx, KindSA, mn2); err != nil {
		t.Fatal(err)
	}
	if _, err := nk.Get(ctx, pfkey.SATypeESP, ncoa2, nar, 0x5000); err == nil {
		t.Fatal("discarded SA still installed")
	}
}

// TestLabBenchCaptureInstall prints capture and install time per context
// against the real kernel for 1, 2, 8 and 32 SAs (IKECTX_LAB_BENCH=1).
func TestLabBenchCaptureInstall(t *testing.T) {
	if os.Getenv("IKECTX_LAB_BENCH") != "1" {
		t.Skip("set IKECTX_LAB_BENCH=1")
	}
	ctx := context.Background()
	const rounds = 20
	for _, n := range []int{1, 2, 8, 32} {
		labNamespaces(t, "bpar", "bnar")
		pk, nk := openKey(t, "bpar"), openKey(t, "bnar")
		for i := range n {
			src, dst := mnOld, par
			if i%2 == 1 {
				src, dst = par, mnOld
			}
			if err := pk.Add(ctx, labSA(0x1000+uint32(i), src, dst, labKeyA1, labKeyE1)); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < max(1, n/2); i++ {
			p := labPolicy(pfkey.DirInbound, mnOld, ha, mnOld, par)
			p.SrcPort = uint16(1000 + i)
			if err := pk.SPDAdd(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		pm, _ := New(Config{Address: par, Kernel: pk})
		var capT, preT, actT time.Duration
		for range rounds {
			s := time.Now()
			sa, err := pm.Capture(ctx, KindSA, mnOld)
			if err != nil {
				t.Fatal(err)
			}
			sp, err := pm.Capture(ctx, KindSP, mnOld)
			if err != nil {
				t.Fatal(err)
			}
			capT += time.Since(s)
			nm, _ := New(Config{Address: nar, Kernel: nk})
			s = time.Now()
			if err := nm.PreInstall(ctx, KindSA, mnOld, mnNew, sa); err != nil {
				t.Fatal(err)
			}
			if err := nm.PreInstall(ctx, KindSP, mnOld, mnNew, sp); err != nil {
				t.Fatal(err)
			}
			preT += time.Since(s)
			s = time.Now()
			for _, k := range []Kind{KindSA, KindSP} {
				if err := nm.Activate(ctx, k, mnOld, mnNew); err != nil {
					t.Fatal(err)
				}
			}
			actT += time.Since(s)
			if err := nk.Flush(ctx, pfkey.SATypeUnspec); err != nil {
				t.Fatal(err)
			}
			if err := nk.SPDFlush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Printf("bench: ipsecmod sas=%d policies=%d capture=%v preinstall=%v activate=%v (per context, mean of %d)\n",
			n, max(1, n/2), capT/rounds, preT/rounds, actT/rounds, rounds)
		pk.Close()
		nk.Close()
		for _, ns := range []string{"bpar", "bnar"} {
			exec.Command(ipCmd, "netns", "del", ns).Run()
		}
	}
}
