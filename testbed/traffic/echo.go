package traffic

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"
)

// Echo answers every datagram on c with the same bytes until ctx ends or
// c is closed: the far end of a round trip between two processes
// (udpgen echo), as a protocol's request and answer make one.
func Echo(ctx context.Context, c *net.UDPConn) error {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		if _, err := c.WriteToUDPAddrPort(buf[:n], from); err != nil {
			return fmt.Errorf("traffic: echo to %v: %w", from, err)
		}
	}
}

// EchoRTT sends n datagrams to an Echo at to, one after the other answer,
// and returns the median round trip (each bounded by wait).
func EchoRTT(ctx context.Context, to netip.AddrPort, n int, wait time.Duration) (time.Duration, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		return 0, fmt.Errorf("traffic: echo %v: %w", to, err)
	}
	defer c.Close()
	buf := make([]byte, 64)
	var rtts []time.Duration
	for i := range n {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		req := Packet{Seq: uint64(i), Sent: time.Now()}.AppendBinary(nil, HeaderLen)
		t0 := time.Now()
		if _, err := c.Write(req); err != nil {
			return 0, fmt.Errorf("traffic: echo %v: %w", to, err)
		}
		c.SetReadDeadline(t0.Add(wait))
		for {
			m, err := c.Read(buf)
			if err != nil {
				return 0, fmt.Errorf("traffic: echo %v: no answer to %d: %w", to, i, err)
			}
			if p, err := Decode(buf[:m]); err == nil && p.Seq == uint64(i) {
				break
			}
		}
		rtts = append(rtts, time.Since(t0))
	}
	if len(rtts) == 0 {
		return 0, fmt.Errorf("traffic: echo %v: no round trip", to)
	}
	slices.Sort(rtts)
	return rtts[len(rtts)/2], nil
}
