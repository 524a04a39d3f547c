package admin_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
	"github.com/ikectx/ikectx/racoon/admin/admintest"
	"github.com/ikectx/ikectx/racoon/conf"
)

func startServer(t *testing.T, f *admintest.Fake, mod func(*admin.ServerConfig)) (*admin.Server, *admin.Client) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "racoon.sock")
	cfg := admin.ServerConfig{Path: path, UID: -1, GID: -1, Backend: f, Logf: t.Logf}
	if mod != nil {
		mod(&cfg)
	}
	s, err := admin.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s, &admin.Client{Path: path}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func samplePh1() admin.Phase1Info {
	return admin.Phase1Info{
		Index:   admin.Index{I: [8]byte{0xd9, 0xd9, 0x19, 0x84, 0x84, 0xa2, 0xf7, 0xe6}, R: [8]byte{0x51, 0x9b, 0x7a, 0x1f, 0x76, 0xdf, 0x89, 0x7b}},
		Status:  admin.Ph1Established,
		Side:    admin.Initiator,
		Remote:  netip.MustParseAddrPort("[fd00::2]:500"),
		Local:   netip.MustParseAddrPort("[fd00::1]:500"),
		Version: 0x10,
		EType:   2,
		Created: time.Unix(time.Date(2026, 11, 27, 7, 11, 34, 0, time.UTC).Unix(), 0),
		Ph2Cnt:  1,
	}
}

func sampleContext() *admin.Phase1Context {
	p := samplePh1()
	return &admin.Phase1Context{
		Index: p.Index, Version: 0x10, ExchangeType: 2, Side: admin.Initiator,
		EncAlg: 5, HashAlg: 2, AuthMethod: 1, DHGroup: 2,
		Lifetime: 8 * time.Hour, Created: p.Created,
		Local: p.Local, Remote: p.Remote,
		LocalID:  admin.Identity{Type: 5, Data: p.Local.Addr().AsSlice()},
		RemoteID: admin.Identity{Type: 5, Data: p.Remote.Addr().AsSlice()},
		NonceI:   bytes.Repeat([]byte{1}, 16), NonceR: bytes.Repeat([]byte{2}, 16),
		SKEYIDd: bytes.Repeat([]byte{3}, 20), SKEYIDa: bytes.Repeat([]byte{4}, 20), SKEYIDe: bytes.Repeat([]byte{5}, 20),
		EncKey: bytes.Repeat([]byte{6}, 24), IV: bytes.Repeat([]byte{7}, 8),
		MessageIDs: []uint32{0xdeadbeef},
		RemoteName: "fd00::2",
	}
}

func TestListenSocketFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "racoon.sock")
	// A stale file is unlinked first, as racoon does.
	if err := os.WriteFile(path, []byte("stale"), 0644); err != nil {
		t.Fatal(err)
	}
	s, err := admin.Listen(admin.ServerConfig{Path: path, UID: os.Getuid(), GID: os.Getgid(), Backend: &admintest.Fake{}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&fs.ModeSocket == 0 || st.Mode().Perm() != 0600 {
		t.Fatalf("mode %v, want a socket with 0600", st.Mode())
	}
	sys := st.Sys().(*syscall.Stat_t)
	if int(sys.Uid) != os.Getuid() || int(sys.Gid) != os.Getgid() {
		t.Fatalf("owner %d:%d", sys.Uid, sys.Gid)
	}
	s.Close()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket left after Close: %v", err)
	}
	s, err = admin.Listen(admin.ServerConfig{Path: path, UID: -1, GID: -1, Mode: 0660, Backend: &admintest.Fake{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0660 {
		t.Fatalf("mode %v", st.Mode())
	}
	if _, err := admin.Listen(admin.ServerConfig{Path: path}); err == nil {
		t.Fatal("no backend accepted")
	}
}

func TestServerConfigFromListen(t *testing.T) {
	l := &conf.Listen{AdminSock: "/tmp/x.sock", AdminOwner: "root", AdminGroup: "root", AdminMode: 0660}
	cfg, ok, err := admin.ServerConfigFromListen(l)
	if err != nil || !ok || cfg.Path != "/tmp/x.sock" || cfg.UID != 0 || cfg.GID != 0 || cfg.Mode != 0660 {
		t.Fatalf("%+v %v %v", cfg, ok, err)
	}
	if _, ok, _ := admin.ServerConfigFromListen(&conf.Listen{AdminDisabled: true}); ok {
		t.Fatal("disabled socket enabled")
	}
	cfg, ok, err = admin.ServerConfigFromListen(&conf.Listen{AdminSock: admin.DefaultSocketPath})
	if err != nil || !ok || cfg.Mode != 0600 || cfg.UID != 0 {
		t.Fatalf("%+v %v %v", cfg, ok, err)
	}
	if _, _, err := admin.ServerConfigFromListen(&conf.Listen{AdminSock: "/x", AdminOwner: "no-such-user-ikectx", AdminGroup: "root"}); err == nil {
		t.Fatal("unknown owner accepted")
	}
}

func TestShowSAAndCommands(t *testing.T) {
	f := &admintest.Fake{Ph1s: []admin.Phase1Info{samplePh1()}}
	s, c := startServer(t, f, nil)
	got, err := c.Phase1s(ctx(t))
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0].Index, samplePh1().Index) || got[0].Remote != samplePh1().Remote {
		t.Fatalf("%+v %v", got, err)
	}
	// No SAs: ENOENT dump, an empty list for the client.
	sas, err := c.SAs(ctx(t), admin.ProtoESP)
	if err != nil || len(sas) != 0 {
		t.Fatalf("%v %v", sas, err)
	}
	if err := c.FlushSA(ctx(t), admin.ProtoISAKMP); err != nil {
		t.Fatal(err)
	}
	if err := c.FlushSA(ctx(t), admin.ProtoInternal); !errors.Is(err, syscall.ENOTSUP) {
		t.Fatalf("flush internal: %v", err)
	}
	if err := c.DeleteSA(ctx(t), netip.MustParseAddrPort("[fd00::1]:0"), netip.MustParseAddrPort("[fd00::2]:0")); err != nil {
		t.Fatal(err)
	}
	er := &admin.EstablishRequest{Proto: admin.ProtoISAKMP, RemoteName: "peer",
		Indexes: admin.Indexes{PrefS: 32, PrefD: 32, Src: netip.MustParseAddrPort("[fd00::1]:0"), Dst: netip.MustParseAddrPort("[fd00::2]:0")}}
	if err := c.EstablishSA(ctx(t), er); err != nil {
		t.Fatal(err)
	}
	// Reload and the commands ikectx does not implement.
	for _, tc := range []struct {
		cmd   admin.Command
		proto admin.Proto
		errno syscall.Errno
	}{
		{admin.CmdReloadConf, 0, 0},
		{admin.CmdShowSched, 0, syscall.ENOTSUP},
		{admin.CmdLogoutUser, 0, syscall.ENOTSUP},
		{admin.CmdShowSA, admin.ProtoInternal, syscall.ENOTSUP},
		{admin.Command(0x0777), 0, syscall.ENOTSUP},
		{admin.CmdDeleteSA, admin.ProtoISAKMP, syscall.EINVAL}, // no indexes
		{admin.CmdGetSACert, admin.ProtoESP, syscall.ENOTSUP},
	} {
		_, err := c.Do(ctx(t), &admin.Request{Cmd: tc.cmd, Versioned: true, Version: 1, Proto: tc.proto})
		if tc.errno == 0 && err != nil || tc.errno != 0 && !errors.Is(err, tc.errno) {
			t.Errorf("%v %v: %v, want %v", tc.cmd, tc.proto, err, tc.errno)
		}
	}
	f.Lock()
	defer f.Unlock()
	if !reflect.DeepEqual(f.Flushed, []admin.Proto{admin.ProtoISAKMP}) || len(f.Deleted) != 1 ||
		f.Deleted[0].Remote != netip.MustParseAddrPort("[fd00::2]:0") || f.Reloads != 1 {
		t.Fatalf("backend saw flush %v delete %v reloads %d", f.Flushed, f.Deleted, f.Reloads)
	}
	if len(f.Established) != 1 || f.Established[0].RemoteName != "peer" || f.Established[0].Dst != er.Dst {
		t.Fatalf("establish %+v", f.Established)
	}
	st := s.Stats()
	if st.Malformed != 1 || st.Requests < 10 {
		t.Fatalf("stats %+v", st)
	}
}

func TestErrnoMapping(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int16
	}{
		{nil, 0},
		{fs.ErrNotExist, int16(syscall.ENOENT)},
		{fmt.Errorf("phase 1: %w", fs.ErrExist), int16(syscall.EEXIST)},
		{syscall.EEXIST, int16(syscall.EEXIST)},
		{errors.ErrUnsupported, int16(syscall.ENOTSUP)},
		{fs.ErrPermission, int16(syscall.EPERM)},
		{fmt.Errorf("%w: bad IV length", fs.ErrInvalid), int16(syscall.EINVAL)},
		{syscall.EHOSTUNREACH, int16(syscall.EHOSTUNREACH)},
		{errors.New("no remote configuration"), -1},
	} {
		if got := admin.Errno(tc.err); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.err, got, tc.want)
		}
	}
	f := &admintest.Fake{Err: fs.ErrExist}
	_, c := startServer(t, f, nil)
	er := &admin.EstablishRequest{Proto: admin.ProtoESP,
		Indexes: admin.Indexes{PrefS: 128, PrefD: 128, Src: netip.MustParseAddrPort("[fd00::1]:0"), Dst: netip.MustParseAddrPort("[fd00::2]:0")}}
	if err := c.EstablishSA(ctx(t), er); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("%v", err)
	}
}

func rawRequest(t *testing.T, path string, b []byte, closeWrite bool) []byte {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		c.(*net.UnixConn).CloseWrite()
	}
	out, _ := io.ReadAll(c)
	return out
}

func TestMalformedRequests(t *testing.T) {
	f := &admintest.Fake{Ph1s: []admin.Phase1Info{samplePh1()}}
	s, c := startServer(t, f, nil)
	le := binary.LittleEndian
	hdr := func(n, cmd, ver, proto uint16) []byte {
		b := make([]byte, 8)
		le.PutUint16(b, n)
		le.PutUint16(b[2:], cmd)
		le.PutUint16(b[4:], ver)
		le.PutUint16(b[6:], proto)
		return b
	}
	errnoOf := func(r []byte) int16 {
		if len(r) < 8 {
			return 0
		}
		return int16(le.Uint16(r[4:]))
	}
	cases := []struct {
		name  string
		b     []byte
		errno int16 // 0: no reply expected
	}{
		{"half header", []byte{8, 0, 1}, 0},
		{"ac_len 4", hdr(4, 0x8101, 1, 0x01ff), int16(syscall.EINVAL)},
		{"truncated body", append(hdr(300, 0x8201, 1, 0x01ff), make([]byte, 20)...), int16(syscall.EINVAL)},
		{"delete-sa short indexes", append(hdr(8+100, 0x8201, 1, 0x01ff), make([]byte, 100)...), int16(syscall.EINVAL)},
		{"establish-sa family 99", func() []byte {
			p := make([]byte, admin.IndexesLen)
			p[8] = 99
			return append(hdr(8+admin.IndexesLen, 0x8202, 1, 0x01ff), p...)
		}(), int16(syscall.EINVAL)},
		{"establish-sa no addresses", append(hdr(8+admin.IndexesLen, 0x8202, 1, 0x01ff), make([]byte, admin.IndexesLen)...), int16(syscall.EINVAL)},
		{"psk lengths too big", func() []byte {
			p := make([]byte, admin.IndexesLen+admin.PSKLen)
			le.PutUint64(p[admin.IndexesLen+8:], 1<<40)
			return append(hdr(uint16(8+len(p)), 0x8203, 1, 0x01ff), p...)
		}(), int16(syscall.EINVAL)},
		{"import garbage", append(hdr(8+admin.IndexesLen+5, 0x8c02, 1, 0x01ff), make([]byte, admin.IndexesLen+5)...), int16(syscall.EINVAL)},
	}
	for _, tc := range cases {
		r := rawRequest(t, s.Path(), tc.b, true)
		if tc.errno == 0 {
			if len(r) != 0 {
				t.Errorf("%s: reply % x", tc.name, r)
			}
			continue
		}
		if len(r) != 8 || errnoOf(r) != tc.errno {
			t.Errorf("%s: reply % x, want errno %d", tc.name, r, tc.errno)
		}
	}
	// Still serving.
	if _, err := c.Phase1s(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Malformed != uint64(len(cases)) {
		t.Fatalf("malformed %d, want %d (%+v)", st.Malformed, len(cases), st)
	}
}

func TestLongReply(t *testing.T) {
	f := &admintest.Fake{}
	// 600 SAs of ~200 bytes: more than 64 KiB.
	for i := 0; i < 600; i++ {
		f.IPsec = append(f.IPsec, &pfkey.SAEntry{
			Type: pfkey.SATypeESP, SPI: uint32(0x1000 + i),
			Src: netip.MustParseAddr("fd00::1"), Dst: netip.MustParseAddr("fd00::2"),
			Mode: pfkey.ModeTransport, State: pfkey.SAStateMature,
			Auth: pfkey.AuthSHA1HMAC, Enc: pfkey.Enc3DESCBC,
			Keys: pfkey.Keys{Auth: bytes.Repeat([]byte{0xaa}, 20), Enc: bytes.Repeat([]byte{0xbb}, 24)},
		})
	}
	s, c := startServer(t, f, nil)
	raw := rawRequest(t, s.Path(), []byte{8, 0, 0x01, 0x81, 1, 0, 0x02, 0x02}, false)
	if len(raw) <= 0xffff || binary.LittleEndian.Uint16(raw[2:])&admin.FlagLongReply == 0 {
		t.Fatalf("reply of %d bytes, cmd %#x: not a long reply", len(raw), binary.LittleEndian.Uint16(raw[2:]))
	}
	if n := admin.ReplyLen(pfkey.Linux, raw); n != len(raw) {
		t.Fatalf("announced %d, got %d", n, len(raw))
	}
	sas, err := c.SAs(ctx(t), admin.ProtoIPsec)
	if err != nil || len(sas) != 600 || sas[599].SPI != 0x1000+599 {
		t.Fatalf("%d %v", len(sas), err)
	}
}

func TestExportImport(t *testing.T) {
	var creds []admin.PeerCred
	f := &admintest.Fake{Contexts: []*admin.Phase1Context{sampleContext()}}
	_, c := startServer(t, f, func(cfg *admin.ServerConfig) {
		cfg.MayExport = func(p admin.PeerCred) bool {
			creds = append(creds, p)
			return p.Known && p.UID == 0
		}
	})
	if os.Getuid() != 0 {
		t.Skip("export needs root")
	}
	pc, err := c.ExportPhase1(ctx(t), admin.Selector{Local: netip.MustParseAddrPort("[fd00::1]:0"), Remote: netip.MustParseAddrPort("[fd00::2]:0")})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pc, sampleContext()) {
		t.Fatalf("exported %#v", pc)
	}
	if len(creds) != 1 || creds[0].PID != int32(os.Getpid()) || creds[0].UID != 0 {
		t.Fatalf("peer credentials %+v, pid %d", creds, os.Getpid())
	}
	// By cookies.
	if _, err := c.ExportPhase1(ctx(t), admin.Selector{Index: admin.Index{I: [8]byte{1}}}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("wrong cookies: %v", err)
	}
	if _, err := c.ExportPhase1(ctx(t), admin.Selector{Index: pc.Index}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExportPhase1(ctx(t), admin.Selector{Remote: netip.MustParseAddrPort("[fd00::3]:0")}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no such SA: %v", err)
	}
	// Import with new addresses.
	pc.Index.I[0] ^= 0xff
	nl, nr := netip.MustParseAddrPort("[fd00:1::1]:500"), netip.MustParseAddrPort("[fd00::2]:0")
	if err := c.ImportPhase1(ctx(t), pc, nl, nr); err != nil {
		t.Fatal(err)
	}
	// The same cookies as an existing SA: EEXIST.
	if err := c.ImportPhase1(ctx(t), sampleContext(), netip.AddrPort{}, netip.AddrPort{}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("duplicate import: %v", err)
	}
	f.Lock()
	defer f.Unlock()
	if len(f.Imports) != 1 || f.Imports[0].Local != nl || f.Imports[0].Remote != nr || !bytes.Equal(f.Imports[0].Ctx.EncKey, sampleContext().EncKey) {
		t.Fatalf("imports %+v", f.Imports)
	}
}

func TestExportRefused(t *testing.T) {
	f := &admintest.Fake{Contexts: []*admin.Phase1Context{sampleContext()}}
	s, c := startServer(t, f, func(cfg *admin.ServerConfig) {
		cfg.MayExport = func(admin.PeerCred) bool { return false }
	})
	_, err := c.ExportPhase1(ctx(t), admin.Selector{})
	if !errors.Is(err, syscall.EPERM) {
		t.Fatalf("%v", err)
	}
	if err := c.ImportPhase1(ctx(t), sampleContext(), netip.AddrPort{}, netip.AddrPort{}); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("%v", err)
	}
	if st := s.Stats(); st.Refused != 2 {
		t.Fatalf("%+v", st)
	}
}

// TestExportRefusedToNonRoot runs a client as uid 65534 against the default
// policy (root only), through SO_PEERCRED.
func TestExportRefusedToNonRoot(t *testing.T) {
	if os.Getenv("IKECTX_ADMIN_HELPER") != "" {
		return
	}
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	// A directory uid 65534 can enter, holding the socket and a copy of
	// the test binary (go test's own directory is 0700).
	dir, err := os.MkdirTemp("", "ikectx-admin-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0755); err != nil {
		t.Fatal(err)
	}
	f := &admintest.Fake{Contexts: []*admin.Phase1Context{sampleContext()}}
	sock := filepath.Join(dir, "racoon.sock")
	s, err := admin.Listen(admin.ServerConfig{Path: sock, UID: -1, GID: -1, Mode: 0666, Backend: f})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "admin.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestHelperNonRootClient$", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "IKECTX_ADMIN_HELPER="+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "EPERM-OK") {
		t.Fatalf("helper output:\n%s", out)
	}
	if st := s.Stats(); st.Refused != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestHelperNonRootClient(t *testing.T) {
	path := os.Getenv("IKECTX_ADMIN_HELPER")
	if path == "" {
		t.Skip("helper process only")
	}
	c := &admin.Client{Path: path}
	_, err := c.ExportPhase1(context.Background(), admin.Selector{})
	if !errors.Is(err, syscall.EPERM) {
		t.Fatalf("export as uid %d: %v", os.Getuid(), err)
	}
	// Showing SAs stays open to the socket's users.
	if _, err := c.Phase1s(context.Background()); err != nil {
		t.Fatal(err)
	}
	fmt.Println("EPERM-OK")
}

func TestEventsStream(t *testing.T) {
	f := &admintest.Fake{}
	_, c := startServer(t, f, nil)
	req, err := admin.EstablishRequestMessage(nil, &admin.EstablishRequest{Proto: admin.ProtoESP,
		Indexes: admin.Indexes{PrefS: 128, PrefD: 128, Src: netip.MustParseAddrPort("[fd00::1]:0"), Dst: netip.MustParseAddrPort("[fd00::2]:0")}})
	if err != nil {
		t.Fatal(err)
	}
	cn, _, err := c.Open(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	defer cn.Close()
	for f.Subscribers() == 0 {
		time.Sleep(time.Millisecond)
	}
	ev := admin.Event{Type: admin.EvtPhase2Up, Time: time.Unix(1795763494, 0), Ph1Src: netip.MustParseAddrPort("[fd00::1]:500"), Ph1Dst: netip.MustParseAddrPort("[fd00::2]:500"), Ph2MsgID: 7}
	f.Emit(ev)
	cn.SetDeadline(time.Now().Add(10 * time.Second))
	r, err := cn.Next()
	if err != nil {
		t.Fatal(err)
	}
	got, err := admin.ParseEvent(nil, r.Payload)
	if err != nil || r.Cmd != admin.CmdShowEvt || !reflect.DeepEqual(*got, ev) {
		t.Fatalf("%+v %+v %v", r, got, err)
	}
	cn.Close()
	// The server notices the client left and unsubscribes.
	deadline := time.Now().Add(10 * time.Second)
	for f.Subscribers() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("subscription not released")
		}
		time.Sleep(time.Millisecond)
	}
}

type panicky struct{ admintest.Fake }

func (*panicky) Phase1s() []admin.Phase1Info { panic("boom") }

func TestBackendPanic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	s, err := admin.Listen(admin.ServerConfig{Path: path, UID: -1, GID: -1, Backend: &panicky{}})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	c := &admin.Client{Path: path}
	_, err = c.Phase1s(ctx(t))
	var ee *admin.ErrnoError
	if !errors.As(err, &ee) || ee.Errno != -1 {
		t.Fatalf("%v", err)
	}
	if _, err := c.SAs(ctx(t), admin.ProtoESP); err != nil {
		t.Fatal(err)
	}
}

func TestClientEvents(t *testing.T) {
	f := &admintest.Fake{}
	_, c := startServer(t, f, nil)
	cctx, cancel := context.WithCancel(ctx(t))
	ch, err := c.Events(cctx)
	if err != nil {
		t.Fatal(err)
	}
	for f.Subscribers() == 0 {
		time.Sleep(time.Millisecond)
	}
	ev := admin.Event{Type: admin.EvtPhase1Up, Time: time.Unix(1795763494, 0), Ph1Src: netip.MustParseAddrPort("192.0.2.1:500"), Ph1Dst: netip.MustParseAddrPort("192.0.2.2:500")}
	f.Emit(ev)
	if got := <-ch; !reflect.DeepEqual(got, ev) {
		t.Fatalf("%+v", got)
	}
	cancel()
	for range ch {
	}
}
