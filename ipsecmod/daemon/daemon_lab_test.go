//go:build lab && linux

package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ikectx/ikectx/cxtp"
	cxtpd "github.com/ikectx/ikectx/cxtp/daemon"
	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/shm"
)

// The daemon binary in the kernel lab: two ipsec-cxtpd processes (pAR and
// nAR namespaces) driven through shm + signals by cxtpd's own Broker, then
// the MN's mn-rewrite command.

const ipPath = "/sbin/ip"

var (
	mnOld = netip.MustParseAddr("2001:db8:1::10")
	mnNew = netip.MustParseAddr("2001:db8:2::10")
	par   = netip.MustParseAddr("2001:db8:1::1")
	nar   = netip.MustParseAddr("2001:db8:2::1")
	ha    = netip.MustParseAddr("2001:db8:3::1")
)

func ipRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(ipPath, args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func keyIn(t *testing.T, ns string) *pfkey.Conn {
	t.Helper()
	type r struct {
		c   *pfkey.Conn
		err error
	}
	ch := make(chan r, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- r{err: err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			ch <- r{err: err}
			return
		}
		c, err := pfkey.Open()
		ch <- r{c, err}
	}()
	x := <-ch
	if x.err != nil {
		t.Fatal(x.err)
	}
	t.Cleanup(func() { x.c.Close() })
	return x.c
}

func tunnel(t *testing.T, k *pfkey.Conn, asAR bool) {
	ctx := context.Background()
	sa := func(spi uint32, src, dst netip.Addr) *pfkey.SAEntry {
		return &pfkey.SAEntry{Type: pfkey.SATypeESP, SPI: spi, Src: src, Dst: dst, Mode: pfkey.ModeTunnel,
			Replay: 32, Auth: pfkey.AuthSHA1HMAC, Enc: pfkey.EncAESCBC,
			Keys: pfkey.Keys{Auth: []byte("0123456789abcdef0123"), Enc: []byte("fedcba9876543210")},
			Hard: &pfkey.Lifetime{AddTime: 3600}, Soft: &pfkey.Lifetime{AddTime: 3000}}
	}
	for _, e := range []*pfkey.SAEntry{sa(0x1000, mnOld, par), sa(0x2000, par, mnOld)} {
		if err := k.Add(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	pol := func(dir pfkey.Direction, src, dst, ts, td netip.Addr) *pfkey.PolicyEntry {
		return &pfkey.PolicyEntry{Src: netip.PrefixFrom(src, 128), Dst: netip.PrefixFrom(dst, 128), Proto: pfkey.ProtoAny,
			Dir: dir, Type: pfkey.PolicyIPsec, Priority: 0x80000000,
			Requests: []pfkey.IPSecRequest{{Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelRequire,
				Src: netip.AddrPortFrom(ts, 0), Dst: netip.AddrPortFrom(td, 0)}}}
	}
	ps := []*pfkey.PolicyEntry{pol(pfkey.DirOutbound, mnOld, ha, mnOld, par), pol(pfkey.DirInbound, ha, mnOld, par, mnOld)}
	if asAR {
		ps = []*pfkey.PolicyEntry{pol(pfkey.DirInbound, mnOld, ha, mnOld, par), pol(pfkey.DirOutbound, ha, mnOld, par, mnOld)}
	}
	for _, p := range ps {
		if err := k.SPDAdd(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
}

// startModule runs /usr/local/bin/ipsec-cxtpd in a namespace.
func startModule(t *testing.T, ns, name string, addr netip.Addr, extra string) (cfgFile string) {
	dir := t.TempDir()
	cfgFile = filepath.Join(dir, ns+".toml")
	text := fmt.Sprintf("address = %q\nstatus = %q\n%s\n[shm]\nname = %q\nslots = 4\n", addr, filepath.Join(dir, ns+".sock"), extra, name)
	if err := os.WriteFile(cfgFile, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ipPath, "netns", "exec", ns, "ipsec-cxtpd", "-c", cfgFile)
	var logb strings.Builder
	cmd.Stderr, cmd.Stdout = &logb, &logb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(unix.SIGTERM)
		cmd.Wait()
		t.Logf("%s log:\n%s", ns, logb.String())
	})
	return cfgFile
}

func TestLabDaemonHandover(t *testing.T) {
	for _, ns := range []string{"dpar", "dnar", "dmn"} {
		exec.Command(ipPath, "netns", "del", ns).Run()
		ipRun(t, "netns", "add", ns)
		defer exec.Command(ipPath, "netns", "del", ns).Run()
	}
	pk, nk, mk := keyIn(t, "dpar"), keyIn(t, "dnar"), keyIn(t, "dmn")
	tunnel(t, pk, true)
	tunnel(t, mk, false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts := &shm.Options{Slots: 4}
	segP, segN := fmt.Sprintf("/ipsecmod-lab-par-%d", os.Getpid()), fmt.Sprintf("/ipsecmod-lab-nar-%d", os.Getpid())
	defer shm.Unlink(segP, nil)
	defer shm.Unlink(segN, nil)
	bp, err := cxtpd.OpenBroker(ctx, segP, opts, log)
	if err != nil {
		t.Fatal(err)
	}
	defer bp.Close()
	bn, err := cxtpd.OpenBroker(ctx, segN, opts, log)
	if err != nil {
		t.Fatal(err)
	}
	defer bn.Close()
	startModule(t, "dpar", segP, par, "")
	narCfg := startModule(t, "dnar", segN, nar, "")

	call := func(b *cxtpd.Broker, op shm.Op, fpt cxtp.FPT, data []byte) shm.Record {
		t.Helper()
		// The module may still be starting: retry while nobody answers.
		for {
			cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
			r, err := b.Call(cctx, op, fpt, mnOld, data)
			ccancel()
			if err == nil {
				return r
			}
			if ctx.Err() != nil {
				t.Fatalf("%v FPT %d: %v", op, fpt, err)
			}
		}
	}
	var ctxs [2][]byte
	for i, f := range []cxtp.FPT{cxtp.FPTIPsecSA, cxtp.FPTIPsecSP} {
		r := call(bp, shm.OpCapture, f, nil)
		if r.Status != shm.StatusOK || len(r.Data) == 0 {
			t.Fatalf("capture FPT %d: %v", f, r.Status)
		}
		ctxs[i] = r.Data
	}
	if r := call(bp, shm.OpCapture, cxtp.FPTIKEv1SA, nil); r.Status != shm.StatusUnsupported {
		t.Fatalf("IKEv1 without racoon: %v", r.Status)
	}
	for i, f := range []cxtp.FPT{cxtp.FPTIPsecSA, cxtp.FPTIPsecSP} {
		if r := call(bn, shm.OpPreinstall, f, ctxs[i]); r.Status != shm.StatusOK {
			t.Fatalf("pre-install FPT %d: %v", f, r.Status)
		}
	}
	if ps, _ := nk.PoliciesFor(ctx, mnNew); len(ps) != 0 {
		t.Fatalf("policies before activation: %v", ps)
	}
	for _, f := range []cxtp.FPT{cxtp.FPTIPsecSA, cxtp.FPTIPsecSP} {
		if r := call(bn, shm.OpActivate, f, mnNew.AsSlice()); r.Status != shm.StatusOK {
			t.Fatalf("activate FPT %d: %v", f, r.Status)
		}
	}
	sas, err := nk.SAsFor(ctx, mnNew)
	if err != nil || len(sas) != 2 {
		t.Fatalf("nAR SAs: %v %v", sas, err)
	}
	ps, err := nk.PoliciesFor(ctx, mnNew)
	if err != nil || len(ps) != 2 {
		t.Fatalf("nAR policies: %v %v", ps, err)
	}
	var out, errb strings.Builder
	if rc := Main([]string{"status", "-c", narCfg}, &out, &errb); rc != 0 || !strings.Contains(out.String(), "live mn "+mnOld.String()) {
		t.Fatalf("status rc %d:\n%s%s", rc, out.String(), errb.String())
	}
	t.Logf("nAR status:\n%s", out.String())
	if strings.Contains(out.String(), "30313233") || strings.Contains(out.String(), "0123456789") {
		t.Fatal("key bytes in the status output")
	}

	// The MN's side, through the command line.
	cmdOut, err := exec.Command(ipPath, "netns", "exec", "dmn", "ipsec-cxtpd", "mn-rewrite",
		"-old-coa", mnOld.String(), "-new-coa", mnNew.String(), "-old-ar", par.String(), "-new-ar", nar.String()).CombinedOutput()
	if err != nil || !strings.Contains(string(cmdOut), "2 SAs and 2 policies") {
		t.Fatalf("mn-rewrite: %v %s", err, cmdOut)
	}
	if sas, _ := mk.SAsFor(ctx, mnOld); len(sas) != 0 {
		t.Fatalf("MN SAs left at the old CoA: %v", sas)
	}
	if sas, _ := mk.SAsFor(ctx, mnNew); len(sas) != 2 {
		t.Fatalf("MN SAs at the new CoA: %v", sas)
	}
}
