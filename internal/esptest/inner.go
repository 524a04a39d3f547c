package esptest

import (
	"fmt"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// BuildUDP serializes the IPv4 or IPv6 packet (by src's family) that
// carries payload in a UDP datagram from src to dst, with lengths and
// checksums filled in, as the inner packet of a tunnel-mode ESP packet;
// next is its ESP next header (4 IPv4, 41 IPv6). id is the IPv4
// identification (unused with IPv6).
func BuildUDP(src, dst netip.AddrPort, id uint16, payload []byte) (next uint8, pkt []byte, err error) {
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	var ip gopacket.SerializableLayer
	if src.Addr().Is4() {
		v4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(), Id: id}
		udp.SetNetworkLayerForChecksum(v4)
		ip, next = v4, 4
	} else {
		v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		udp.SetNetworkLayerForChecksum(v6)
		ip, next = v6, 41
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, udp, gopacket.Payload(payload)); err != nil {
		return 0, nil, err
	}
	return next, buf.Bytes(), nil
}

// ParseUDP reads the inner packet of an opened tunnel-mode ESP packet
// (next header 4 or 41) as an IP/UDP datagram: its addresses, ports and
// payload.
func ParseUDP(next uint8, pkt []byte) (src, dst netip.AddrPort, payload []byte, err error) {
	pk := gopacket.NewPacket(pkt, map[uint8]gopacket.LayerType{4: layers.LayerTypeIPv4, 41: layers.LayerTypeIPv6}[next], gopacket.Default)
	n, u := pk.NetworkLayer(), pk.Layer(layers.LayerTypeUDP)
	if n == nil || u == nil {
		return src, dst, nil, fmt.Errorf("next header %d, inner packet not IP/UDP: %v", next, pk)
	}
	isrc, _ := netip.AddrFromSlice(n.NetworkFlow().Src().Raw())
	idst, _ := netip.AddrFromSlice(n.NetworkFlow().Dst().Raw())
	ud := u.(*layers.UDP)
	return netip.AddrPortFrom(isrc, uint16(ud.SrcPort)), netip.AddrPortFrom(idst, uint16(ud.DstPort)), ud.Payload, nil
}
