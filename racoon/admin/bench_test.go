package admin_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
	"github.com/ikectx/ikectx/racoon/admin/admintest"
)

// BenchmarkPhase1ContextEncode: encoding and decoding one 3des/sha1
// context (the figure the IPsec-CXTP module pays per IKE SA).
func BenchmarkPhase1ContextEncode(b *testing.B) {
	pc := sampleContext()
	buf, _ := pc.MarshalBinary()
	b.ReportAllocs()
	for b.Loop() {
		out, err := pc.AppendBinary(buf[:0])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := admin.ParsePhase1Context(out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf)), "bytes/context")
}

// BenchmarkExportOverSocket: one EXPORT_PH1 round trip over the Unix socket
// (connect, request, peer credentials, reply) against a fake daemon.
func BenchmarkExportOverSocket(b *testing.B) {
	f := &admintest.Fake{Contexts: []*admin.Phase1Context{sampleContext()}}
	path := b.TempDir() + "/s"
	s, err := admin.Listen(admin.ServerConfig{Path: path, UID: -1, GID: -1, Backend: f,
		MayExport: func(admin.PeerCred) bool { return true }})
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	c := &admin.Client{Path: path}
	sel := admin.Selector{Remote: netip.MustParseAddrPort("[fd00::2]:0")}
	ctx := context.Background()
	for b.Loop() {
		pc, err := c.ExportPhase1(ctx, sel)
		if err != nil {
			b.Fatal(err)
		}
		pc.Wipe()
	}
}

// BenchmarkShowSAESP: SHOW_SA esp with 100 SAs over the socket.
func BenchmarkShowSAESP(b *testing.B) {
	f := &admintest.Fake{}
	for i := 0; i < 100; i++ {
		f.IPsec = append(f.IPsec, &pfkey.SAEntry{Type: pfkey.SATypeESP, SPI: uint32(0x100 + i),
			Src: netip.MustParseAddr("fd00::1"), Dst: netip.MustParseAddr("fd00::2"), Mode: pfkey.ModeTransport,
			State: pfkey.SAStateMature, Auth: pfkey.AuthSHA1HMAC, Enc: pfkey.EncAESCBC,
			Keys: pfkey.Keys{Auth: make([]byte, 20), Enc: make([]byte, 16)}})
	}
	path := b.TempDir() + "/s"
	s, err := admin.Listen(admin.ServerConfig{Path: path, UID: -1, GID: -1, Backend: f})
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	c := &admin.Client{Path: path}
	ctx := context.Background()
	for b.Loop() {
		l, err := c.SAs(ctx, admin.ProtoESP)
		if err != nil || len(l) != 100 {
			b.Fatal(len(l), err)
		}
	}
}
