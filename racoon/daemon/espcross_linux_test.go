package daemon

// ESP from charon (kernel-libipsec) towards ikectx's protected subnet,
// captured on ikectx's interface and decrypted with the keys of the
// inbound SA ikectx negotiated (its admin dump in --no-kernel mode).

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ikectx/ikectx/internal/esptest"
	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
)

// decoderFor maps an SA of ikectx's dump to the test decoder.
func decoderFor(e *pfkey.SAEntry) (*esptest.SA, error) {
	return esptest.FromPFKEY(e.SPI, e.Enc, e.Auth, e.Keys.Enc, e.Keys.Auth)
}

// innerHost is the first host of a family's inner subnet (charon's side
// has it on lo; on ikectx's side it is only a destination).
func innerHost(net0 string) netip.Addr {
	if strings.Contains(net0, ":") {
		return netip.MustParseAddr(net0 + "1")
	}
	return netip.MustParseAddr(strings.TrimSuffix(net0, "0") + "1")
}

// checkESPCrosses sends UDP datagrams from charon's protected address to one
// in ikectx's protected subnet, captures them on ikectx's interface as ESP,
// and decrypts and authenticates them with ikectx's inbound SA.
func checkESPCrosses(t *testing.T, ik *ikectx, swNS, ikNS, dev string, f ifamily) {
	ctx := context.Background()
	ours, err := ik.cl.SAs(ctx, admin.ProtoESP)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, e := range ours {
			e.Keys.Wipe()
		}
	}()
	var in, out *pfkey.SAEntry
	for _, e := range ours {
		switch {
		case e.Dst == netip.MustParseAddr(f.ik):
			in = e
		case e.Src == netip.MustParseAddr(f.ik):
			out = e
		}
	}
	if in == nil || out == nil {
		t.Fatalf("no inbound (to %s) or outbound SA in ikectx's dump: %v", f.ik, ours)
	}
	dec, err := decoderFor(in)
	if err != nil {
		t.Fatal(err)
	}
	// control: the outbound SA's keys must not authenticate these packets
	wrong, err := decoderFor(out)
	if err != nil {
		t.Fatal(err)
	}
	wrong.SPI = in.SPI
	src, dst := innerHost(f.swHost), innerHost(f.ikHost)
	snap, stop := esptest.Capture(t, ikNS, dev)
	defer stop()
	conn, err := esptest.DialUDP(swNS, netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 9))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lport := uint16(conn.LocalAddr().(*net.UDPAddr).Port)
	const want = 3
	start := time.Now()
	for i := 0; i < want; i++ {
		conn.Write([]byte(fmt.Sprintf("ikectx-esp-interop-%d-%s", i, f.name)))
		time.Sleep(20 * time.Millisecond)
	}
	// wait for the last datagram to cross (libipsec's threads), 2 s at most
	esptest.WaitFrames(snap, want, start, 2*time.Second, 10*time.Millisecond)
	time.Sleep(20 * time.Millisecond) // anything unexpected after them
	frames := snap()
	t.Logf("ESP: %d packets captured on ikectx's side (%d datagrams sent 20 ms apart)", len(frames), want)
	if len(frames) < want {
		t.Fatalf("%d ESP packets captured on ikectx's side, want %d", len(frames), want)
	}
	seen := map[string]bool{}
	for _, o := range esptest.CheckInbound(t, frames, esptest.Inbound{
		Src: netip.MustParseAddr(f.sw), Dst: netip.MustParseAddr(f.ik),
		In: dec, Wrong: wrong,
		InnerSrc: netip.AddrPortFrom(src, lport), InnerDst: netip.AddrPortFrom(dst, 9),
		Prefix: "ikectx-esp-interop-", Suffix: "-" + f.name,
	}) {
		seen[o.Payload] = true
		p := o.Packet
		t.Logf("ESP #%d: SPI %08x seq %d, %s, frame %d bytes, ESP %d, pad %d, next header %d: %v -> %v %q",
			o.Index, p.SPI, p.Seq, map[bool]string{true: "UDP 4500", false: "IP proto 50"}[o.Frame.UDP], o.Frame.Size, len(o.Frame.ESP), p.PadLen, p.NextHeader, o.Src, o.Dst, o.Payload)
	}
	for i := 0; i < want; i++ {
		if pl := fmt.Sprintf("ikectx-esp-interop-%d-%s", i, f.name); !seen[pl] {
			t.Errorf("datagram %q not recovered from the ESP packets", pl)
		}
	}
	checkESPToCharon(t, in, out, swNS, ikNS, f)
}

// checkESPToCharon is the other direction, which ikectx cannot send itself
// without kernel ESP: the test encrypts UDP datagrams with the keys of
// ikectx's outbound SA (UDP-encapsulated, as the NAT charon pretends to see
// requires) and sends them from ikectx's outer address to charon's port
// 4500; charon's libipsec must authenticate and decrypt them and deliver
// the inner datagram to a socket on charon's protected address. A control
// packet with ikectx's outbound SPI but the inbound SA's keys, sent first,
// must not come out.
func checkESPToCharon(t *testing.T, in, out *pfkey.SAEntry, swNS, ikNS string, f ifamily) {
	enc, err := decoderFor(out)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := decoderFor(in)
	if err != nil {
		t.Fatal(err)
	}
	bad.SPI = out.SPI
	src, dst := innerHost(f.ikHost), innerHost(f.swHost)
	ln, err := esptest.ListenUDP(swNS, netip.AddrPortFrom(dst, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := esptest.DialUDP(ikNS, netip.AddrPortFrom(netip.MustParseAddr(f.ik), 0), netip.AddrPortFrom(netip.MustParseAddr(f.sw), 4500))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dport := uint16(ln.LocalAddr().(*net.UDPAddr).Port)
	const want = 2
	for seq := uint32(0); seq <= want; seq++ {
		payload := fmt.Sprintf("ikectx-esp-to-charon-%d-%s", seq, f.name)
		sa := enc
		if seq == 0 {
			sa, payload = bad, "control, wrong keys"
		}
		next, inner, err := esptest.BuildUDP(netip.AddrPortFrom(src, 9999), netip.AddrPortFrom(dst, dport), uint16(seq), []byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		bs := 16
		if enc.Cipher != esptest.AESCBC {
			bs = 8
		}
		iv := make([]byte, bs)
		for i := range iv {
			iv[i] = byte(seq)*31 + byte(i)
		}
		esp, err := sa.Encode(max(seq, 1), iv, next, inner)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(esp); err != nil {
			t.Fatal(err)
		}
		if seq == 0 {
			continue
		}
		b, from, err := esptest.ReadUDP(ln, 2*time.Second)
		if err != nil {
			t.Fatalf("ESP seq %d from ikectx's outbound SA (SPI %08x): no datagram out of charon's tunnel: %v", seq, out.SPI, err)
		}
		if string(b) != payload || from.Addr().Unmap() != src || from.Port() != 9999 {
			t.Fatalf("out of charon's tunnel: %v %q, want %v:9999 %q", from, b, src, payload)
		}
		t.Logf("ESP to charon: SPI %08x seq %d, ESP %d bytes: charon delivered %v -> %v:%d %q", out.SPI, seq, len(esp), from, dst, dport, b)
	}
	if b, from, err := esptest.ReadUDP(ln, 50*time.Millisecond); err == nil {
		t.Fatalf("out of charon's tunnel after the expected datagrams: %v %q", from, b)
	}
}
