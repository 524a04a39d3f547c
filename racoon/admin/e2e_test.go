//go:build linux

package admin_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ikectx/ikectx/racoon/admin"
	"github.com/ikectx/ikectx/racoon/admin/ctl"
	"github.com/ikectx/ikectx/racoon/conf"
	"github.com/ikectx/ikectx/racoon/daemon"
)

// The end-to-end test of phase-1 context transfer: three ikectx racoons
// over loopback, --no-kernel. The peer P (the mobile node's side) and A
// (the previous access router) run main mode and quick mode; racoonctl
// exports the phase 1 from A and imports it into C (the new access
// router) with C's address; then C runs a quick mode with P under the
// imported ISAKMP SA, and no new phase 1 happens anywhere.

const e2eConf = `path pre_shared_key "%[1]s/psk.txt";
listen { isakmp %[2]s [%[3]d]; adminsock "%[1]s/racoon.sock"; }
timer { counter 5; interval 1 sec; }
%[4]s
sainfo anonymous {
	pfs_group modp1024;
	lifetime time 30 min;
	encryption_algorithm aes 128, 3des;
	authentication_algorithm hmac_sha1;
	compression_algorithm deflate;
}
`

const e2eRemote = `remote %s [%d] {
	exchange_mode main;
	my_identifier address;
	nonce_size 16;
	proposal_check obey;
	lifetime time 1 hour;
	proposal { encryption_algorithm 3des; hash_algorithm sha1; authentication_method pre_shared_key; dh_group modp1024; }
}
`

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type racoon struct {
	name string
	addr netip.AddrPort
	sock string
	cl   *admin.Client
	logs *syncBuf
}

func startRacoon(t *testing.T, name string, me netip.AddrPort, peers ...netip.AddrPort) *racoon {
	t.Helper()
	dir := t.TempDir()
	var remotes, psk strings.Builder
	for _, p := range peers {
		fmt.Fprintf(&remotes, e2eRemote, p.Addr(), p.Port())
		fmt.Fprintf(&psk, "%s an-end-to-end-test-psk\n", p.Addr())
	}
	if err := os.WriteFile(filepath.Join(dir, "psk.txt"), []byte(psk.String()), 0600); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(e2eConf, dir, me.Addr(), me.Port(), remotes.String())
	c, err := conf.Parse(filepath.Join(dir, "racoon.conf"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuf{}
	d, err := daemon.New(daemon.Options{Config: c, ConfigFile: "racoon.conf", NoKernel: true, Port: int(me.Port()), Log: logs, Debug: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	r := &racoon{name: name, addr: me, sock: filepath.Join(dir, "racoon.sock"), logs: logs}
	r.cl = &admin.Client{Path: r.sock}
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("log of %s (%s):\n%s", name, me, logs.String())
		}
	})
	// Wait for the admin socket.
	waitFor(t, name+"'s admin socket", func() bool {
		_, err := r.cl.Phase1s(context.Background())
		return err == nil
	})
	return r
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// racoonctl runs the racoonctl command line against r.
func (r *racoon) racoonctl(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := ctl.Main(append([]string{"-s", r.sock}, args...), &ctl.Env{
		Stdin: bytes.NewReader(stdin), Stdout: &out, Stderr: &errb, Loc: time.UTC,
		IsTerminal: func(io.Writer) bool { return false }, Ctx: ctx,
	})
	if code != 0 {
		t.Fatalf("racoonctl %s on %s: exit %d\n%s%s", strings.Join(args, " "), r.name, code, out.String(), errb.String())
	}
	return out.String()
}

func (r *racoon) esp(t *testing.T) int {
	l, err := r.cl.SAs(context.Background(), admin.ProtoESP)
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	return len(l)
}

func TestEndToEndPhase1Transfer(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("phase-1 export needs root")
	}
	pAddr := netip.MustParseAddrPort("127.0.0.1:16500")
	aAddr := netip.MustParseAddrPort("127.0.0.2:16501")
	cAddr := netip.MustParseAddrPort("127.0.0.3:16502")
	p := startRacoon(t, "P (peer)", pAddr, aAddr, cAddr)
	a := startRacoon(t, "A (pAR)", aAddr, pAddr)
	c := startRacoon(t, "C (nAR)", cAddr, pAddr)
	ctx := context.Background()

	// 1. A and P: main mode + quick mode, started as racoonctl does.
	a.racoonctl(t, nil, "establish-sa", "esp", "inet", "127.0.0.2/32", "127.0.0.1/32", "any")
	waitFor(t, "ESP SAs between A and P", func() bool { return a.esp(t) == 2 && p.esp(t) == 2 })
	ph1P, err := p.cl.Phase1s(ctx)
	if err != nil || len(ph1P) != 1 || ph1P[0].Status != admin.Ph1Established {
		t.Fatalf("P's phase 1s: %+v %v", ph1P, err)
	}
	index := ph1P[0].Index

	// 2. Export from A, import into C with C's own address.
	blob := a.racoonctl(t, nil, "export-ph1", "127.0.0.2", "127.0.0.1")
	pc, err := admin.ParsePhase1Context([]byte(blob))
	if err != nil {
		t.Fatal(err)
	}
	if pc.Index != index || pc.Side != admin.Initiator || len(pc.SKEYIDd) == 0 || len(pc.EncKey) != 24 {
		t.Fatalf("exported %v", pc)
	}
	pc.Wipe()
	c.racoonctl(t, []byte(blob), "import-ph1", "--local", "127.0.0.3[16502]")
	show := c.racoonctl(t, nil, "-ll", "show-sa", "isakmp")
	wantRow := fmt.Sprintf("127.0.0.3.16502%s 127.0.0.1.16500%s %s ", strings.Repeat(" ", 45-15), strings.Repeat(" ", 45-15), index)
	if !strings.Contains(show, wantRow) {
		t.Fatalf("C's show-sa isakmp -ll:\n%s\nwant a row starting %q", show, wantRow)
	}

	// 3. C and P: a quick mode under the imported phase 1.
	c.racoonctl(t, nil, "establish-sa", "esp", "inet", "127.0.0.3/32", "127.0.0.1/32", "any")
	waitFor(t, "ESP SAs between C and P", func() bool { return c.esp(t) == 2 && p.esp(t) == 4 })

	// No new phase 1: P and C each know exactly the original ISAKMP SA.
	for _, r := range []*racoon{p, c} {
		l, err := r.cl.Phase1s(ctx)
		if err != nil || len(l) != 1 || l[0].Index != index || l[0].Status != admin.Ph1Established {
			t.Fatalf("%s's phase 1s after the transfer: %+v %v", r.name, l, err)
		}
	}
	// The new SAs: same keys on both ends, between C and P.
	cs, _ := c.cl.SAs(ctx, admin.ProtoESP)
	ps, _ := p.cl.SAs(ctx, admin.ProtoESP)
	for _, e := range cs {
		if e.Src.String() != "127.0.0.3" && e.Dst.String() != "127.0.0.3" {
			t.Errorf("C's SA %v is not with C's address", e)
		}
		twin := false
		for _, f := range ps {
			if e.SPI == f.SPI && e.Src == f.Src && e.Dst == f.Dst && bytes.Equal(e.Keys.Enc, f.Keys.Enc) && bytes.Equal(e.Keys.Auth, f.Keys.Auth) {
				twin = true
			}
		}
		if !twin {
			t.Errorf("C's SA %v has no twin at P", e)
		}
	}
	// C's log shows no phase-1 negotiation of its own.
	if l := c.logs.String(); strings.Contains(l, "ISAKMP-SA established") {
		t.Errorf("C negotiated a phase 1:\n%s", l)
	}
	t.Logf("P: %d ESP SAs, C: %d, one ISAKMP SA %s", len(ps), len(cs), index)
	if testing.Verbose() {
		t.Logf("log of C:\n%s", c.logs.String())
	}
}
