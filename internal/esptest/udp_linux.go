//go:build linux

package esptest

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// DialUDP opens a UDP socket in namespace ns from laddr (port 0: any) to
// raddr.
func DialUDP(ns string, laddr, raddr netip.AddrPort) (conn *net.UDPConn, err error) {
	err = InNS(ns, func() (err error) {
		conn, err = net.DialUDP("udp", net.UDPAddrFromAddrPort(laddr), net.UDPAddrFromAddrPort(raddr))
		return err
	})
	return conn, err
}

// ListenUDP opens a UDP socket on laddr (port 0: any) in namespace ns.
func ListenUDP(ns string, laddr netip.AddrPort) (ln *net.UDPConn, err error) {
	err = InNS(ns, func() (err error) {
		ln, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(laddr))
		return err
	})
	return ln, err
}

// WaitFrames polls snap every poll until it holds want frames or within
// has passed since start, and returns the last snapshot.
func WaitFrames(snap func() []Frame, want int, start time.Time, within, poll time.Duration) []Frame {
	var frames []Frame
	for time.Since(start) < within {
		if frames = snap(); len(frames) >= want {
			break
		}
		time.Sleep(poll)
	}
	return frames
}

// Inbound is what CheckInbound expects of captured ESP frames.
type Inbound struct {
	Label              string // prefixes every error ("" or "step: ")
	Src, Dst           netip.Addr
	UDP                bool // the frames must be UDP-encapsulated
	In                 *SA  // must open every frame
	Wrong              *SA  // must fail every frame with ErrICV
	InnerSrc, InnerDst netip.AddrPort
	Prefix, Suffix     string // of every inner payload
}

// Opened is a frame that CheckInbound accepted.
type Opened struct {
	Index    int // in the frames given
	Frame    Frame
	Packet   *Packet
	Src, Dst netip.AddrPort // the inner datagram's
	Payload  string
}

// CheckInbound checks every frame against x and reports each mismatch
// with t.Errorf: the outer addresses (and UDP encapsulation), an ICV
// mismatch with the wrong keys, the frame opening with x.In, the inner
// packet a UDP datagram from x.InnerSrc to x.InnerDst whose payload has
// x.Prefix and x.Suffix and was not seen in an earlier frame, sequence
// numbers increasing. It returns the frames that passed, in order.
func CheckInbound(t testing.TB, frames []Frame, x Inbound) []Opened {
	t.Helper()
	var ok []Opened
	seen := map[string]bool{}
	var lastSeq uint32
	for i, fr := range frames {
		if fr.Src != x.Src || fr.Dst != x.Dst || (x.UDP && !fr.UDP) {
			t.Errorf("%sESP #%d %v -> %v (UDP %v), want %v -> %v (UDP-encapsulated: %v)", x.Label, i, fr.Src, fr.Dst, fr.UDP, x.Src, x.Dst, x.UDP)
		}
		if _, err := x.Wrong.Decode(fr.ESP); !errors.Is(err, ErrICV) {
			t.Errorf("%sESP #%d: the wrong keys (the other direction's SA) gave %v, want an ICV mismatch", x.Label, i, err)
		}
		p, err := x.In.Decode(fr.ESP)
		if err != nil {
			t.Errorf("%sESP #%d (UDP %v, %d bytes) with inbound SA %08x: %v", x.Label, i, fr.UDP, len(fr.ESP), x.In.SPI, err)
			continue
		}
		isrc, idst, payload, err := ParseUDP(p.NextHeader, p.Payload)
		if err != nil {
			t.Errorf("%sESP #%d: %v", x.Label, i, err)
			continue
		}
		pl := string(payload)
		if isrc != x.InnerSrc || idst != x.InnerDst ||
			!strings.HasPrefix(pl, x.Prefix) || !strings.HasSuffix(pl, x.Suffix) || seen[pl] {
			t.Errorf("%sESP #%d seq %d: inner %v -> %v %q, want %v -> %v, one of the datagrams sent",
				x.Label, i, p.Seq, isrc, idst, pl, x.InnerSrc, x.InnerDst)
			continue
		}
		if p.Seq <= lastSeq {
			t.Errorf("%sESP #%d: sequence number %d after %d", x.Label, i, p.Seq, lastSeq)
		}
		lastSeq = p.Seq
		seen[pl] = true
		ok = append(ok, Opened{Index: i, Frame: fr, Packet: p, Src: isrc, Dst: idst, Payload: pl})
	}
	return ok
}

// ReadUDP reads one datagram from ln, waiting at most within.
func ReadUDP(ln *net.UDPConn, within time.Duration) ([]byte, netip.AddrPort, error) {
	ln.SetReadDeadline(time.Now().Add(within))
	b := make([]byte, 2048)
	n, from, err := ln.ReadFromUDPAddrPort(b)
	return b[:n], from, err
}
