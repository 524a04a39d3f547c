package daemon

// ESP from charon (kernel-libipsec) towards ikectx's protected subnet,
// captured on ikectx's interface and decrypted with the keys of the
// inbound SA ikectx negotiated (its admin dump in --no-kernel mode).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/ikectx/ikectx/internal/esptest"
	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
)

// decoderFor maps an SA of ikectx's dump to the test decoder.
func decoderFor(e *pfkey.SAEntry) (*esptest.SA, error) {
	sa := &esptest.SA{SPI: e.SPI, EncKey: e.Keys.Enc, AuthKey: e.Keys.Auth}
	switch e.Enc {
	case pfkey.EncDESCBC:
		sa.Cipher = esptest.DESCBC
	case pfkey.Enc3DESCBC:
		sa.Cipher = esptest.TripleDESCBC
	case pfkey.EncAESCBC:
		sa.Cipher = esptest.AESCBC
	default:
		return nil, fmt.Errorf("cipher %v not in the test decoder", e.Enc)
	}
	switch e.Auth {
	case pfkey.AuthMD5HMAC:
		sa.Auth = esptest.HMACMD596
	case pfkey.AuthSHA1HMAC:
		sa.Auth = esptest.HMACSHA196
	case pfkey.AuthSHA2_256HMAC:
		sa.Auth = esptest.HMACSHA256128
	default:
		return nil, fmt.Errorf("integrity %v not in the test decoder", e.Auth)
	}
	return sa, nil
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
	var conn *net.UDPConn
	if err := esptest.InNS(swNS, func() (err error) {
		conn, err = net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0)), net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lport := uint16(conn.LocalAddr().(*net.UDPAddr).Port)
	const want = 3
	var frames []esptest.Frame
	start := time.Now()
	for i := 0; i < want; i++ {
		conn.Write([]byte(fmt.Sprintf("ikectx-esp-interop-%d-%s", i, f.name)))
		time.Sleep(20 * time.Millisecond)
	}
	// wait for the last datagram to cross (libipsec's threads), 2 s at most
	for time.Since(start) < 2*time.Second {
		if frames = snap(); len(frames) >= want {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // anything unexpected after them
	frames = snap()
	t.Logf("ESP: %d packets captured on ikectx's side (%d datagrams sent 20 ms apart)", len(frames), want)
	if len(frames) < want {
		t.Fatalf("%d ESP packets captured on ikectx's side, want %d", len(frames), want)
	}
	seen := map[string]bool{}
	var lastSeq uint32
	for i, fr := range frames {
		if fr.Src != netip.MustParseAddr(f.sw) || fr.Dst != netip.MustParseAddr(f.ik) {
			t.Errorf("ESP #%d %v -> %v, want %s -> %s", i, fr.Src, fr.Dst, f.sw, f.ik)
		}
		if _, err := wrong.Decode(fr.ESP); !errors.Is(err, esptest.ErrICV) {
			t.Errorf("ESP #%d: the outbound SA's key gave %v, want an ICV mismatch", i, err)
		}
		p, err := dec.Decode(fr.ESP)
		if err != nil {
			t.Errorf("ESP #%d (udp %v, %d bytes): %v", i, fr.UDP, len(fr.ESP), err)
			continue
		}
		pk := gopacket.NewPacket(p.Payload, map[uint8]gopacket.LayerType{4: layers.LayerTypeIPv4, 41: layers.LayerTypeIPv6}[p.NextHeader], gopacket.Default)
		n, u := pk.NetworkLayer(), pk.Layer(layers.LayerTypeUDP)
		if n == nil || u == nil {
			t.Errorf("ESP #%d: next header %d, inner packet not IP/UDP: %v", i, p.NextHeader, pk)
			continue
		}
		isrc, _ := netip.AddrFromSlice(n.NetworkFlow().Src().Raw())
		idst, _ := netip.AddrFromSlice(n.NetworkFlow().Dst().Raw())
		ud := u.(*layers.UDP)
		pl := string(ud.Payload)
		if isrc != src || idst != dst || uint16(ud.SrcPort) != lport || ud.DstPort != 9 ||
			!strings.HasPrefix(pl, "ikectx-esp-interop-") || !strings.HasSuffix(pl, "-"+f.name) || seen[pl] {
			t.Errorf("ESP #%d seq %d: inner %v:%d -> %v:%d %q, want %v:%d -> %v:9, one of the datagrams sent",
				i, p.Seq, isrc, ud.SrcPort, idst, ud.DstPort, ud.Payload, src, lport, dst)
			continue
		}
		if p.Seq <= lastSeq {
			t.Errorf("ESP #%d: sequence number %d after %d", i, p.Seq, lastSeq)
		}
		lastSeq = p.Seq
		seen[pl] = true
		t.Logf("ESP #%d: SPI %08x seq %d, %s, frame %d bytes, ESP %d, pad %d, next header %d: %v:%d -> %v:9 %q",
			i, p.SPI, p.Seq, map[bool]string{true: "UDP 4500", false: "IP proto 50"}[fr.UDP], fr.Size, len(fr.ESP), p.PadLen, p.NextHeader, isrc, ud.SrcPort, idst, ud.Payload)
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
	var ln, conn *net.UDPConn
	if err := esptest.InNS(swNS, func() (err error) {
		ln, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 0)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := esptest.InNS(ikNS, func() (err error) {
		conn, err = net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(f.ik), 0)),
			net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(f.sw), 4500)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dport := layers.UDPPort(ln.LocalAddr().(*net.UDPAddr).Port)
	const want = 2
	for seq := uint32(0); seq <= want; seq++ {
		payload := fmt.Sprintf("ikectx-esp-to-charon-%d-%s", seq, f.name)
		sa := enc
		if seq == 0 {
			sa, payload = bad, "control, wrong keys"
		}
		udp := &layers.UDP{SrcPort: 9999, DstPort: dport}
		var ip gopacket.SerializableLayer
		var next uint8
		if src.Is4() {
			v4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), Id: uint16(seq)}
			udp.SetNetworkLayerForChecksum(v4)
			ip, next = v4, 4
		} else {
			v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
			udp.SetNetworkLayerForChecksum(v6)
			ip, next = v6, 41
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, udp, gopacket.Payload(payload)); err != nil {
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
		esp, err := sa.Encode(max(seq, 1), iv, next, buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(esp); err != nil {
			t.Fatal(err)
		}
		if seq == 0 {
			continue
		}
		ln.SetReadDeadline(time.Now().Add(2 * time.Second))
		b := make([]byte, 2048)
		n, from, err := ln.ReadFromUDPAddrPort(b)
		if err != nil {
			t.Fatalf("ESP seq %d from ikectx's outbound SA (SPI %08x): no datagram out of charon's tunnel: %v", seq, out.SPI, err)
		}
		if string(b[:n]) != payload || from.Addr().Unmap() != src || from.Port() != 9999 {
			t.Fatalf("out of charon's tunnel: %v %q, want %v:9999 %q", from, b[:n], src, payload)
		}
		t.Logf("ESP to charon: SPI %08x seq %d, ESP %d bytes: charon delivered %v -> %v:%d %q", out.SPI, seq, len(esp), from, dst, dport, b[:n])
	}
	ln.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	b := make([]byte, 2048)
	if n, from, err := ln.ReadFromUDPAddrPort(b); err == nil {
		t.Fatalf("out of charon's tunnel after the expected datagrams: %v %q", from, b[:n])
	}
}
