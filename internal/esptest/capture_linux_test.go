package esptest

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"
)

// frameOf serializes Ethernet / IP / (UDP to dport, or raw ESP) / payload.
func frameOf(t testing.TB, v6 bool, dport int, payload []byte) []byte {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	var ip gopacket.NetworkLayer
	var ls []gopacket.SerializableLayer
	proto := layers.IPProtocolUDP
	if dport < 0 {
		proto = layers.IPProtocolESP
	}
	if v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		i := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: net.ParseIP("fd00:5::1"), DstIP: net.ParseIP("fd00:5::2")}
		ip, ls = i, []gopacket.SerializableLayer{eth, i}
	} else {
		eth.EthernetType = layers.EthernetTypeIPv4
		i := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.IPv4(10, 57, 0, 1), DstIP: net.IPv4(10, 57, 0, 2)}
		ip, ls = i, []gopacket.SerializableLayer{eth, i}
	}
	if dport >= 0 {
		u := &layers.UDP{SrcPort: 4500, DstPort: layers.UDPPort(dport)}
		u.SetNetworkLayerForChecksum(ip)
		ls = append(ls, u)
	}
	ls = append(ls, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestESPFrame: which frames the capture keeps (RFC 3948 demultiplexing on
// port 4500: a zero first word is IKE, one 0xff octet a NAT-keepalive).
func TestESPFrame(t *testing.T) {
	esp := append([]byte{0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 7}, bytes.Repeat([]byte{0xab}, 40)...)
	ike := append([]byte{0, 0, 0, 0}, esp...)
	for _, c := range []struct {
		name  string
		v6    bool
		dport int
		data  []byte
		keep  bool
	}{
		{"udp-encapsulated ESP, IPv6", true, 4500, esp, true},
		{"udp-encapsulated ESP, IPv4", false, 4500, esp, true},
		{"raw ESP, IPv6", true, -1, esp, true},
		{"raw ESP, IPv4", false, -1, esp, true},
		{"IKE with the non-ESP marker", true, 4500, ike, false},
		{"NAT-keepalive", false, 4500, []byte{0xff}, false},
		{"UDP to another port", true, 500, esp, false},
	} {
		raw := frameOf(t, c.v6, c.dport, c.data)
		f, ok := espFrame(raw)
		if ok != c.keep {
			t.Errorf("%s: kept %v, want %v", c.name, ok, c.keep)
			continue
		}
		if !ok {
			continue
		}
		src, dst := netip.MustParseAddr("fd00:5::1"), netip.MustParseAddr("fd00:5::2")
		if !c.v6 {
			src, dst = netip.MustParseAddr("10.57.0.1"), netip.MustParseAddr("10.57.0.2")
		}
		if !bytes.Equal(f.ESP, esp) || f.UDP != (c.dport == 4500) || f.Size != len(raw) || f.Src != src || f.Dst != dst {
			t.Errorf("%s: %+v", c.name, f)
		}
	}
}

// FuzzESPFrame: any frame is kept or skipped, never a panic.
func FuzzESPFrame(f *testing.F) {
	f.Add(frameOf(f, true, 4500, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
	f.Add(frameOf(f, false, -1, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if fr, ok := espFrame(b); ok && len(fr.ESP) == 0 {
			t.Fatal("kept a frame with no ESP bytes")
		}
	})
}

// TestRxTime: the frame's time is the kernel's SO_TIMESTAMPNS control
// message when there is one, the time now otherwise.
func TestRxTime(t *testing.T) {
	want := time.Unix(1700000000, 123456789)
	ts := unix.NsecToTimespec(want.UnixNano())
	oob := make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(ts))))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level, h.Type = unix.SOL_SOCKET, unix.SO_TIMESTAMPNS
	h.SetLen(unix.CmsgLen(int(unsafe.Sizeof(ts))))
	*(*unix.Timespec)(unsafe.Pointer(&oob[unix.CmsgLen(0)])) = ts
	if got := rxTime(oob); !got.Equal(want) {
		t.Fatalf("rxTime %v, want %v", got, want)
	}
	before := time.Now()
	if got := rxTime(nil); got.Before(before) {
		t.Fatalf("no control message: %v, before %v", got, before)
	}
	h.Type = unix.SO_TIMESTAMP // another message only
	if got := rxTime(oob); got.Before(before) {
		t.Fatalf("no SO_TIMESTAMPNS: %v, before %v", got, before)
	}
}
