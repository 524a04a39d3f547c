package transport

import (
	"context"
	"errors"
	"net/netip"
)

// Kind names a transport.
type Kind uint8

// Transport kinds.
const (
	KindICMPv6 Kind = iota + 1 // MN <-> AR, ICMPv6 type 150 subtype 1
	KindUDP                    // AR <-> AR fallback, UDP port 5091
	KindSCTP                   // AR <-> AR, SCTP port 5091
)

func (k Kind) String() string {
	switch k {
	case KindICMPv6:
		return "icmpv6"
	case KindUDP:
		return "udp"
	case KindSCTP:
		return "sctp"
	}
	return "unknown"
}

// ParseKind parses "icmpv6", "udp" or "sctp" (as used in configuration).
func ParseKind(s string) (Kind, error) {
	switch s {
	case "icmpv6", "icmp6", "icmp":
		return KindICMPv6, nil
	case "udp":
		return KindUDP, nil
	case "sctp":
		return KindSCTP, nil
	}
	return 0, errors.New("transport: unknown kind " + `"` + s + `"`)
}

// Packet is one received CXTP message with where it came from.
type Packet struct {
	Data     []byte         // the CXTP message (transport headers removed)
	From     netip.AddrPort // sender; port 0 for ICMPv6
	To       netip.Addr     // local destination address when known
	HopLimit int            // IPv6 hop limit of the packet, -1 if unknown
	IfIndex  int            // receiving interface, 0 if unknown
	Via      Kind
	// Unordered is set for an SCTP message delivered unordered
	// (SCTP_UNORDERED in its SCTP_RCVINFO); Stream is its SCTP stream.
	Unordered bool
	Stream    uint16
}

// Conn is what the engines send and receive CXTP messages through.
type Conn interface {
	// WriteTo sends one CXTP message. For ICMPv6 the port is ignored.
	WriteTo(b []byte, to netip.AddrPort) error
	// ReadFrom blocks for the next message that passed the transport's
	// checks (e.g. hop limit 255 for ICMPv6) or until ctx is done.
	ReadFrom(ctx context.Context) (Packet, error)
	// LocalAddr is the bound address.
	LocalAddr() netip.AddrPort
	// Kind tells which transport this is.
	Kind() Kind
	// Stats returns the counters of the connection.
	Stats() Stats
	// Close releases the socket; a blocked ReadFrom returns ErrClosed.
	Close() error
}

// Stats are counters a Conn keeps.
type Stats struct {
	Sent, Received uint64
	// DroppedHopLimit counts ICMPv6 messages dropped because their hop
	// limit was not 255.
	DroppedHopLimit uint64
	// DroppedMalformed counts packets dropped as not CXTP (wrong ICMPv6
	// type, code or subtype, too short).
	DroppedMalformed uint64
}

// ErrClosed is returned by operations on a closed Conn.
var ErrClosed = errors.New("transport: connection closed")

// MaxMessage is the largest CXTP message (16-bit length field).
const MaxMessage = 65535
