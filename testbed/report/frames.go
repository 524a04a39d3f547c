package report

import (
	"errors"
	"fmt"
	"io"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Frame kinds: what a frame on the MN's access link does for security.
const (
	KindIKE  = "IKE"  // UDP 500 or 4500 (ISAKMP, NAT-T)
	KindCTAR = "CTAR" // CXTP over ICMPv6 type 150: activation request
	KindCTAA = "CTAA" // CXTP activation acknowledgement
	KindCXTP = "CXTP" // another CXTP message
)

// CXTP over ICMPv6 (RFC 4067 section 3.2): type 150, code 0, subtype 1.
const (
	icmpCXTP    = 150
	cxtpSubtype = 1
	cxtpCTAR    = 1
	cxtpCTAA    = 2
)

// Frame is one security set-up message seen on the MN's access link,
// counted as the paper does: the whole Ethernet frame.
type Frame struct {
	At   int64  `json:"at_ns"` // capture time, Unix ns
	Len  int    `json:"len"`   // Ethernet frame octets (the wire length)
	Kind string `json:"kind"`
	Src  string `json:"src"`
	Dst  string `json:"dst"`
}

// Classify returns the kind of an Ethernet frame, or "" when it does not
// set up security (data, ESP, neighbour discovery...).
func Classify(data []byte) (kind, src, dst string) {
	p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	if n := p.NetworkLayer(); n != nil {
		src, dst = n.NetworkFlow().Src().String(), n.NetworkFlow().Dst().String()
	}
	if u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
		for _, port := range []layers.UDPPort{u.SrcPort, u.DstPort} {
			if port == 500 || port == 4500 {
				return KindIKE, src, dst
			}
		}
		return "", src, dst
	}
	if ic, ok := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6); ok {
		if ic.TypeCode.Type() != icmpCXTP || ic.TypeCode.Code() != 0 {
			return "", src, dst
		}
		pl := ic.Payload // subtype(1) reserved(3) then the CXTP message
		if len(pl) < 5 || pl[0] != cxtpSubtype {
			return "", src, dst
		}
		switch pl[4] & 0x1f {
		case cxtpCTAR:
			return KindCTAR, src, dst
		case cxtpCTAA:
			return KindCTAA, src, dst
		}
		return KindCXTP, src, dst
	}
	return "", src, dst
}

// ReadFrames decodes a pcap (Ethernet link type) and returns the frames
// that set up security, in capture order.
func ReadFrames(r io.Reader) ([]Frame, error) {
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("report: pcap: %w", err)
	}
	if pr.LinkType() != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("report: pcap link type %v, want Ethernet", pr.LinkType())
	}
	var out []Frame
	for {
		data, ci, err := pr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("report: pcap: %w", err)
		}
		kind, src, dst := Classify(data)
		if kind == "" {
			continue
		}
		n := ci.Length
		if n == 0 {
			n = len(data)
		}
		out = append(out, Frame{At: ci.Timestamp.UnixNano(), Len: n, Kind: kind, Src: src, Dst: dst})
	}
}

// Count sums frames: how many and their total bytes, and per kind.
func Count(frames []Frame) (messages, bytes int, perKind map[string][2]int) {
	perKind = map[string][2]int{}
	for _, f := range frames {
		messages++
		bytes += f.Len
		k := perKind[f.Kind]
		k[0]++
		k[1] += f.Len
		perKind[f.Kind] = k
	}
	return
}
