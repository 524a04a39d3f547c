package transport

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/ikectx/ikectx/cxtp"
)

type frame struct {
	ci   gopacket.CaptureInfo
	data []byte
}

// TestFrameSizes is the paper's figure (Table 1): a CTAR with IPv6
// addresses is a 106-byte Ethernet frame and a CTAA without failures an
// 82-byte one, measured on the wire of a veth while both cross the real
// ICMPv6 transport. The capture is written as pcap to $CXTP_PCAP_OUT, or
// to the test's temporary directory.
func TestFrameSizes(t *testing.T) {
	p := newNSPair(t)
	var mn, ar *ICMPv6Conn
	var h *pcapgo.EthernetHandle
	inNS(t, p.A, func() (err error) {
		if h, err = pcapgo.NewEthernetHandle(p.IfA); err != nil {
			return err
		}
		mn, err = ListenICMPv6(netip.MustParseAddr(p.A6))
		return err
	})
	defer mn.Close()
	inNS(t, p.B, func() (err error) { ar, err = ListenICMPv6(netip.MustParseAddr(p.B6)); return })
	defer ar.Close()

	// Capture on the MN's veth until both CXTP frames were seen; the
	// handle reads blocking, so it runs on its own goroutine.
	frames := make(chan frame, 64)
	go func() {
		defer close(frames)
		seen := 0
		for seen < 2 {
			data, ci, err := h.ReadPacketData()
			if err != nil {
				return
			}
			frames <- frame{ci, data}
			if isCXTP(data) {
				seen++
			}
		}
	}()

	prev := netip.MustParseAddr("2001:db8:1::10")
	key := []byte("mn-par-shared-token-key")
	ctarMsg := &cxtp.CTAR{PrevCoA: prev, PrevAR: netip.MustParseAddr("2001:db8:1::1"), Seq: 1}
	ctarMsg.Token = cxtp.Token(key, prev, ctarMsg.Seq, nil)
	ctar, _ := cxtp.Marshal(ctarMsg)
	if err := mn.WriteTo(ctar, netip.AddrPortFrom(netip.MustParseAddr(p.B6), 0)); err != nil {
		t.Fatal(err)
	}
	pkt, err := ar.ReadFrom(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctaa, _ := cxtp.Marshal(&cxtp.CTAA{PrevCoA: prev})
	if err := ar.WriteTo(ctaa, pkt.From); err != nil {
		t.Fatal(err)
	}
	if _, err := mn.ReadFrom(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}

	var all []frame
	var cx []frame
	timeout := time.After(5 * time.Second)
collect:
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				break collect
			}
			all = append(all, f)
			if isCXTP(f.data) {
				cx = append(cx, f)
			}
		case <-timeout:
			t.Fatalf("capture saw %d CXTP frames in 5 s", len(cx))
		}
	}
	h.Close()

	out := os.Getenv("CXTP_PCAP_OUT")
	if out == "" {
		out = filepath.Join(t.TempDir(), "cxtp-frames.pcap")
	}
	writePcap(t, out, all)
	t.Logf("capture (%d frames) written to %s", len(all), out)

	if len(cx) != 2 {
		t.Fatalf("%d CXTP frames captured, want 2", len(cx))
	}
	want := []struct {
		typ  cxtp.MsgType
		size int
	}{{cxtp.TypeCTAR, 106}, {cxtp.TypeCTAA, 82}}
	for i, w := range want {
		f := cx[i]
		pk := gopacket.NewPacket(f.data, layers.LayerTypeEthernet, gopacket.Default)
		ic := pk.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
		m, err := cxtp.Parse(ic.Payload[4:])
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		ip := pk.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		t.Logf("%v: Ethernet frame %d bytes = 14 + IPv6 40 + ICMPv6 8 + CXTP %d (hop limit %d)", m.Type(), len(f.data), len(ic.Payload)-4, ip.HopLimit)
		if m.Type() != w.typ || len(f.data) != w.size || f.ci.Length != w.size {
			t.Errorf("frame %d: %v of %d bytes (wire length %d), want %v of %d", i, m.Type(), len(f.data), f.ci.Length, w.typ, w.size)
		}
		if ip.HopLimit != 255 {
			t.Errorf("frame %d: hop limit %d", i, ip.HopLimit)
		}
	}
	checkWithDissector(t, out)
}

// checkWithDissector runs the project's Wireshark dissector over the
// capture, when tshark is installed: both frames must decode as CXTP with
// the kernel's ICMPv6 checksum verified.
func checkWithDissector(t *testing.T, pcap string) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Log("tshark not installed: capture not checked with the dissector")
		return
	}
	script, _ := filepath.Abs("../wireshark/cxtp.lua")
	cmd := exec.Command("tshark", "-X", "lua_script:"+script, "-r", pcap, "-Y", "cxtp",
		"-T", "fields", "-e", "frame.len", "-e", "cxtp.type", "-e", "cxtp_icmpv6.checksum.status")
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "106\t1\t1\n82\t2\t1" {
		t.Errorf("dissector on the capture: %q, want CTAR 106 and CTAA 82 with good checksums", got)
	}
}

// isCXTP tells whether an Ethernet frame is ICMPv6 type 150 subtype 1.
func isCXTP(data []byte) bool {
	pk := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.NoCopy)
	l := pk.Layer(layers.LayerTypeICMPv6)
	if l == nil {
		return false
	}
	ic := l.(*layers.ICMPv6)
	return ic.TypeCode.Type() == cxtp.ICMPv6Type && len(ic.Payload) >= 4 && ic.Payload[0] == cxtp.ICMPv6Subtype
}

func writePcap(t *testing.T, path string, frames []frame) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		if err := w.WritePacket(fr.ci, fr.data); err != nil {
			t.Fatal(err)
		}
	}
}
