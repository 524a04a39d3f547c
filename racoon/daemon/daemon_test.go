package daemon

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
	"github.com/ikectx/ikectx/racoon/conf"
	"github.com/ikectx/ikectx/racoon/ike"
	"github.com/ikectx/ikectx/racoon/isakmp"
)

type side struct {
	d      *Daemon
	cl     *admin.Client
	cancel context.CancelFunc
	done   chan struct{}
	logs   *bytes.Buffer
}

const testConf = `path pre_shared_key "%[1]s/psk.txt";
listen { isakmp %[2]s [%[3]d]; adminsock "%[1]s/racoon.sock"; }
timer { counter 5; interval 1 sec; }
remote %[4]s [%[5]d] {
	exchange_mode %[6]s;
	my_identifier %[7]s;
	nonce_size 16;
	proposal_check obey;
	lifetime time 1 hour;
	proposal { encryption_algorithm %[8]s; hash_algorithm %[9]s; authentication_method pre_shared_key; dh_group %[10]s; }
}
sainfo anonymous {
	pfs_group %[11]s;
	lifetime time 30 min;
	encryption_algorithm aes 128, 3des;
	authentication_algorithm hmac_sha1, hmac_sha256;
	compression_algorithm deflate;
}
`

func startSide(t *testing.T, me, peer netip.AddrPort, mode, myid, enc, hash, dh, pfs, pskLines string) *side {
	t.Helper()
	return startSideListen(t, me, nil, peer, mode, myid, enc, hash, dh, pfs, pskLines)
}

// startSideListen is startSide with more listen addresses (same port).
func startSideListen(t *testing.T, me netip.AddrPort, more []netip.Addr, peer netip.AddrPort, mode, myid, enc, hash, dh, pfs, pskLines string) *side {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "psk.txt"), []byte(pskLines), 0600); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(testConf, dir, me.Addr(), me.Port(), peer.Addr(), peer.Port(), mode, myid, enc, hash, dh, pfs)
	for _, a := range more {
		src = strings.Replace(src, "listen { ", fmt.Sprintf("listen { isakmp %s [%d]; ", a, me.Port()), 1)
	}
	c, err := conf.Parse(filepath.Join(dir, "racoon.conf"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	lw := &lockedWriter{w: logs}
	d, err := New(Options{Config: c, ConfigFile: "racoon.conf", NoKernel: true, Port: int(me.Port()), Log: lw, Debug: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &side{d: d, cl: &admin.Client{Path: filepath.Join(dir, "racoon.sock")}, cancel: cancel, done: make(chan struct{}), logs: logs}
	go func() { d.Run(ctx); close(s.done) }()
	t.Cleanup(func() {
		s.cancel()
		<-s.done
		if t.Failed() {
			lw.mu.Lock()
			t.Logf("log of %s:\n%s", me, logs.String())
			lw.mu.Unlock()
		}
	})
	return s
}

// poll waits for cond without a fixed sleep.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTwoDaemonsLoopback(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs 127.0.0.2 on loopback")
	}
	for i, c := range []struct{ mode, enc, hash, dh, pfs string }{
		{"main", "3des", "sha1", "modp1024", "modp1024"},
		{"aggressive", "aes 128", "sha256", "modp2048", "modp2048"},
		{"main", "aes 256", "sha512", "modp1536", "modp1024"},
	} {
		t.Run(c.mode+"-"+c.enc, func(t *testing.T) {
			a := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", 15500+2*i))
			b := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.2:%d", 15501+2*i))
			sa := startSide(t, a, b, c.mode, "address", c.enc, c.hash, c.dh, c.pfs, "127.0.0.2 a-long-test-psk\n")
			sb := startSide(t, b, a, c.mode, "address", c.enc, c.hash, c.dh, c.pfs, "127.0.0.1 a-long-test-psk\n")
			ctx := context.Background()
			err := sa.cl.EstablishSA(ctx, &admin.EstablishRequest{Proto: admin.ProtoESP, Indexes: admin.Indexes{
				PrefS: 32, PrefD: 32, ULProto: 255, Src: netip.AddrPortFrom(a.Addr(), 0), Dst: netip.AddrPortFrom(b.Addr(), 0)}})
			if err != nil {
				t.Fatal(err)
			}
			poll(t, "SAs on both sides", func() bool {
				x, _ := sa.cl.SAs(ctx, admin.ProtoESP)
				y, _ := sb.cl.SAs(ctx, admin.ProtoESP)
				return len(x) == 2 && len(y) == 2
			})
			x, _ := sa.cl.SAs(ctx, admin.ProtoESP)
			y, _ := sb.cl.SAs(ctx, admin.ProtoESP)
			for _, e := range x {
				found := false
				for _, f := range y {
					if e.SPI == f.SPI && e.Src == f.Src && e.Dst == f.Dst && bytes.Equal(e.Keys.Enc, f.Keys.Enc) && bytes.Equal(e.Keys.Auth, f.Keys.Auth) {
						found = true
					}
				}
				if !found || e.Mode != pfkey.ModeTransport || e.Enc != pfkey.EncAESCBC || e.Auth != pfkey.AuthSHA1HMAC {
					t.Errorf("SA %s has no twin with the same keys", e)
				}
			}
			p1, err := sa.cl.Phase1s(ctx)
			if err != nil || len(p1) != 1 || p1[0].Status != admin.Ph1Established || p1[0].Side != admin.Initiator || p1[0].Ph2Cnt != 1 {
				t.Fatalf("phase 1s %+v %v", p1, err)
			}
			// export from the initiator: the context carries the keys
			pc, err := sa.cl.ExportPhase1(ctx, admin.Selector{Remote: b})
			if err != nil {
				t.Fatal(err)
			}
			if len(pc.EncKey) == 0 || pc.Index != p1[0].Index {
				t.Fatalf("export %v", pc)
			}
			pc.Wipe()
			// delete-sa sends a DELETE: the peer drops its phase 1 too
			if err := sa.cl.DeleteSA(ctx, netip.AddrPort{}, b); err != nil {
				t.Fatal(err)
			}
			poll(t, "peer's phase 1 deleted", func() bool {
				l, _ := sb.cl.Phase1s(ctx)
				return len(l) == 0
			})
		})
	}
}

// Aggressive mode with FQDN identities: the pre-shared keys are found by
// the peer's ID payload (psk.txt keyed by name, not address).
func TestAggressiveFQDN(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs 127.0.0.2 on loopback")
	}
	a := netip.MustParseAddrPort("127.0.0.1:15900")
	b := netip.MustParseAddrPort("127.0.0.2:15901")
	sa := startSide(t, a, b, "aggressive", `fqdn "a.example"`, "aes 256", "sha384", "modp1536", "modp1536", "b.example fqdn-psk\n")
	sb := startSide(t, b, a, "aggressive", `fqdn "b.example"`, "aes 256", "sha384", "modp1536", "modp1536", "a.example fqdn-psk\n")
	ctx := context.Background()
	if err := sa.cl.EstablishSA(ctx, &admin.EstablishRequest{Proto: admin.ProtoESP, Indexes: admin.Indexes{
		PrefS: 32, PrefD: 32, ULProto: 255, Src: netip.AddrPortFrom(a.Addr(), 0), Dst: netip.AddrPortFrom(b.Addr(), 0)}}); err != nil {
		t.Fatal(err)
	}
	poll(t, "SAs on both sides", func() bool {
		x, _ := sa.cl.SAs(ctx, admin.ProtoESP)
		y, _ := sb.cl.SAs(ctx, admin.ProtoESP)
		return len(x) == 2 && len(y) == 2
	})
}

func TestWrongPSKFails(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs 127.0.0.2 on loopback")
	}
	a := netip.MustParseAddrPort("127.0.0.1:15600")
	b := netip.MustParseAddrPort("127.0.0.2:15601")
	sa := startSide(t, a, b, "main", "address", "3des", "sha1", "modp1024", "modp1024", "127.0.0.2 one-key\n")
	sb := startSide(t, b, a, "main", "address", "3des", "sha1", "modp1024", "modp1024", "127.0.0.1 another-key\n")
	ctx := context.Background()
	if err := sa.cl.EstablishSA(ctx, &admin.EstablishRequest{Proto: admin.ProtoISAKMP, Indexes: admin.Indexes{
		Src: netip.AddrPortFrom(a.Addr(), 0), Dst: netip.AddrPortFrom(b.Addr(), 0)}}); err != nil {
		t.Fatal(err)
	}
	poll(t, "the responder to drop message 5", func() bool { return sb.d.stats.dropped.Load() > 0 })
	l, _ := sa.cl.Phase1s(ctx)
	for _, p := range l {
		if p.Status == admin.Ph1Established {
			t.Fatal("established with a wrong key")
		}
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestExportImport moves B's phase-1 SA with A to a third daemon C at a new
// address; C then runs a quick mode with A over the imported SA, without a
// new phase 1.
func TestExportImport(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs 127.0.0.x on loopback")
	}
	a := netip.MustParseAddrPort("127.0.0.1:15700")
	b := netip.MustParseAddrPort("127.0.0.2:15701")
	c := netip.MustParseAddrPort("127.0.0.3:15702")
	sa := startSide(t, a, b, "main", "address", "aes 128", "sha256", "modp2048", "modp2048", "127.0.0.2 k-ab\n127.0.0.3 k-ab\n")
	sb := startSide(t, b, a, "main", "address", "aes 128", "sha256", "modp2048", "modp2048", "127.0.0.1 k-ab\n")
	sc := startSide(t, c, a, "main", "address", "aes 128", "sha256", "modp2048", "modp2048", "127.0.0.1 not-used\n")
	ctx := context.Background()
	if err := sa.cl.EstablishSA(ctx, &admin.EstablishRequest{Proto: admin.ProtoESP, Indexes: admin.Indexes{
		PrefS: 32, PrefD: 32, ULProto: 255, Src: netip.AddrPortFrom(a.Addr(), 0), Dst: netip.AddrPortFrom(b.Addr(), 0)}}); err != nil {
		t.Fatal(err)
	}
	poll(t, "A-B SAs", func() bool {
		x, _ := sb.cl.SAs(ctx, admin.ProtoESP)
		return len(x) == 2
	})
	pc, err := sb.cl.ExportPhase1(ctx, admin.Selector{Remote: netip.AddrPortFrom(a.Addr(), 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Wipe()
	if err := sc.cl.ImportPhase1(ctx, pc, c, a); err != nil {
		t.Fatal(err)
	}
	l, _ := sc.cl.Phase1s(ctx)
	if len(l) != 1 || l[0].Index != pc.Index || l[0].Status != admin.Ph1Established {
		t.Fatalf("imported phase 1s: %+v", l)
	}
	// quick mode from C to A over the imported SA
	if err := sc.cl.EstablishSA(ctx, &admin.EstablishRequest{Proto: admin.ProtoESP, Indexes: admin.Indexes{
		PrefS: 32, PrefD: 32, ULProto: 255, Src: netip.AddrPortFrom(c.Addr(), 0), Dst: netip.AddrPortFrom(a.Addr(), 0)}}); err != nil {
		t.Fatal(err)
	}
	poll(t, "C-A SAs", func() bool {
		x, _ := sc.cl.SAs(ctx, admin.ProtoESP)
		y, _ := sa.cl.SAs(ctx, admin.ProtoESP)
		return len(x) == 2 && len(y) == 4
	})
	x, _ := sc.cl.SAs(ctx, admin.ProtoESP)
	y, _ := sa.cl.SAs(ctx, admin.ProtoESP)
	for _, e := range x {
		ok := false
		for _, f := range y {
			if f.SPI == e.SPI && f.Src == e.Src && f.Dst == e.Dst && bytes.Equal(f.Keys.Enc, e.Keys.Enc) {
				ok = true
			}
		}
		if !ok || !(e.Src == c.Addr() || e.Dst == c.Addr()) {
			t.Errorf("SA %s on C has no twin on A", e)
		}
	}
	if n := sc.d.stats.p1up.Load(); n != 0 {
		t.Errorf("C negotiated %d phase 1s", n)
	}
	if n := sa.d.stats.p1up.Load(); n != 1 {
		t.Errorf("A negotiated %d phase 1s, want 1", n)
	}
}

// After a handover both ends of the phase 1 move: the MN (A) negotiated
// it from its old address with the pAR (B); B's export is imported into
// the nAR (C) at the MN's new address, and C's quick mode reaches A there.
// A answers from the new address and installs the SAs between it and C,
// with no new phase 1 on either side.
func TestImportedPhase1BothEndsMoved(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs 127.0.0.x on loopback")
	}
	a := netip.MustParseAddrPort("127.0.0.1:15710")
	a2 := netip.MustParseAddr("127.0.0.4")
	b := netip.MustParseAddrPort("127.0.0.2:15711")
	c := netip.MustParseAddrPort("127.0.0.3:15712")
	sa := startSideListen(t, a, []netip.Addr{a2}, b, "main", "address", "3des", "sha1", "modp1024", "modp1024", "127.0.0.2 k-ab\n127.0.0.3 k-ab\n")
	sb := startSide(t, b, a, "main", "address", "3des", "sha1", "modp1024", "modp1024", "127.0.0.1 k-ab\n")
	sc := startSide(t, c, netip.AddrPortFrom(a2, a.Port()), "main", "address", "3des", "sha1", "modp1024", "modp1024", "127.0.0.4 not-used\n")
	ctx := context.Background()
	if err := sa.cl.EstablishSA(ctx, &admin.EstablishRequest{Proto: admin.ProtoESP, Indexes: admin.Indexes{
		PrefS: 32, PrefD: 32, ULProto: 255, Src: netip.AddrPortFrom(a.Addr(), 0), Dst: netip.AddrPortFrom(b.Addr(), 0)}}); err != nil {
		t.Fatal(err)
	}
	poll(t, "A-B SAs", func() bool {
		x, _ := sa.cl.SAs(ctx, admin.ProtoESP)
		y, _ := sb.cl.SAs(ctx, admin.ProtoESP)
		return len(x) == 2 && len(y) == 2
	})
	old := map[uint32]bool{}
	x, _ := sa.cl.SAs(ctx, admin.ProtoESP)
	for _, e := range x {
		old[e.SPI] = true
	}
	pc, err := sb.cl.ExportPhase1(ctx, admin.Selector{Remote: netip.AddrPortFrom(a.Addr(), 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Wipe()
	if err := sc.cl.ImportPhase1(ctx, pc, c, netip.AddrPortFrom(a2, a.Port())); err != nil {
		t.Fatal(err)
	}
	if err := sc.cl.EstablishSA(ctx, &admin.EstablishRequest{Proto: admin.ProtoESP, Indexes: admin.Indexes{
		PrefS: 32, PrefD: 32, ULProto: 255, Src: netip.AddrPortFrom(c.Addr(), 0), Dst: netip.AddrPortFrom(a2, 0)}}); err != nil {
		t.Fatal(err)
	}
	// A's new SAs are between its new address and C, as C's
	var fresh []*pfkey.SAEntry
	poll(t, "C-A SAs at A's new address", func() bool {
		fresh = fresh[:0]
		y, _ := sa.cl.SAs(ctx, admin.ProtoESP)
		for _, e := range y {
			if !old[e.SPI] {
				fresh = append(fresh, e)
			}
		}
		z, _ := sc.cl.SAs(ctx, admin.ProtoESP)
		return len(fresh) == 2 && len(z) == 2
	})
	z, _ := sc.cl.SAs(ctx, admin.ProtoESP)
	for _, e := range fresh {
		if !(e.Src == a2 && e.Dst == c.Addr() || e.Src == c.Addr() && e.Dst == a2) {
			t.Errorf("A's new SA %s is not between %s and %s", e, a2, c.Addr())
		}
		twin := false
		for _, f := range z {
			twin = twin || f.SPI == e.SPI && f.Src == e.Src && f.Dst == e.Dst && bytes.Equal(f.Keys.Enc, e.Keys.Enc)
		}
		if !twin {
			t.Errorf("A's SA %s has no twin on C", e)
		}
	}
	for name, s := range map[string]*side{"A": sa, "C": sc} {
		l, _ := s.cl.Phase1s(ctx)
		if len(l) != 1 || l[0].Index != pc.Index {
			t.Errorf("%s's phase 1s: %+v, want only the exported one", name, l)
		}
	}
	if l, _ := sa.cl.Phase1s(ctx); len(l) == 1 && (l[0].Local.Addr() != a2 || l[0].Remote.Addr() != c.Addr()) {
		t.Errorf("A's phase 1 is %s <-> %s, want %s <-> %s", l[0].Local, l[0].Remote, a2, c.Addr())
	}
	if n := sa.d.stats.p1up.Load() + sc.d.stats.p1up.Load(); n != 1 {
		t.Errorf("%d phase 1s negotiated, want A-B's only", n)
	}
}

// A retransmitted first message gets the same answer and no second SA.
func TestResponderRetransmission(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs 127.0.0.2 on loopback")
	}
	a := netip.MustParseAddrPort("127.0.0.1:15800")
	b := netip.MustParseAddrPort("127.0.0.2:15801")
	sb := startSide(t, b, a, "main", "address", "3des", "sha1", "modp1024", "modp1024", "127.0.0.1 k\n")
	cfg := &ike.Phase1Config{Mode: isakmp.ExchangeIdentityProt, NonceSize: 16, MyID: isakmp.IDFromAddr(a.Addr(), 17, 500),
		Proposals: []ike.Proposal1{{Enc: isakmp.Enc3DES, Hash: isakmp.HashSHA, Auth: isakmp.AuthPreShared, Group: 2, Lifetime: time.Hour}},
		PSK:       func(*isakmp.ID) ([]byte, error) { return []byte("k"), nil }}
	_, m1, err := ike.NewInitiator(cfg, a, b)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(a))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var replies [][]byte
	for i := 0; i < 2; i++ {
		c.WriteToUDPAddrPort(m1, b)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 2048)
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, buf[:n])
	}
	if !bytes.Equal(replies[0], replies[1]) {
		t.Error("the retransmitted message 1 got a different answer")
	}
	// garbage and a truncated copy are dropped, counted, and do not kill the daemon
	c.WriteToUDPAddrPort([]byte("not isakmp at all"), b)
	c.WriteToUDPAddrPort(m1[:40], b)
	poll(t, "drops counted", func() bool { return sb.d.stats.dropped.Load() >= 2 })
	l, err := sb.cl.Phase1s(context.Background())
	if err != nil || len(l) != 1 {
		t.Fatalf("phase 1s after a retransmission: %+v %v", l, err)
	}
}

// A peer that restarts sends INITIAL-CONTACT: the SAs negotiated with its
// previous life are purged, the new ones stay.
func TestInitialContactPurges(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs 127.0.0.2 on loopback")
	}
	a := netip.MustParseAddrPort("127.0.0.1:16000")
	b := netip.MustParseAddrPort("127.0.0.2:16001")
	sa := startSide(t, a, b, "main", "address", "3des", "sha1", "modp1024", "modp1024", "127.0.0.2 k\n")
	sb := startSide(t, b, a, "main", "address", "3des", "sha1", "modp1024", "modp1024", "127.0.0.1 k\n")
	ctx := context.Background()
	esp := func(s *side, src, dst netip.AddrPort) {
		if err := s.cl.EstablishSA(ctx, &admin.EstablishRequest{Proto: admin.ProtoESP, Indexes: admin.Indexes{
			PrefS: 32, PrefD: 32, ULProto: 255, Src: netip.AddrPortFrom(src.Addr(), 0), Dst: netip.AddrPortFrom(dst.Addr(), 0)}}); err != nil {
			t.Fatal(err)
		}
	}
	esp(sa, a, b)
	poll(t, "first SAs", func() bool { x, _ := sa.cl.SAs(ctx, admin.ProtoESP); return len(x) == 2 })
	old, _ := sa.cl.SAs(ctx, admin.ProtoESP)
	sb.cancel()
	<-sb.done
	sb2 := startSide(t, b, a, "main", "address", "3des", "sha1", "modp1024", "modp1024", "127.0.0.1 k\n")
	esp(sb2, b, a)
	poll(t, "old SAs purged, new ones kept", func() bool {
		x, _ := sa.cl.SAs(ctx, admin.ProtoESP)
		y, _ := sb2.cl.SAs(ctx, admin.ProtoESP)
		if len(x) != 2 || len(y) != 2 {
			return false
		}
		for _, e := range x {
			for _, o := range old {
				if e.SPI == o.SPI {
					return false
				}
			}
		}
		return true
	})
	l, _ := sa.cl.Phase1s(ctx)
	if len(l) != 1 {
		t.Errorf("A keeps %d phase 1s after INITIAL-CONTACT, want 1", len(l))
	}
}
