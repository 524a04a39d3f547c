//go:build !linux && !freebsd

package transport

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
)

// SCTPOptions tune an SCTP conn (see the Linux/FreeBSD implementation).
type SCTPOptions struct {
	Ordered bool
	PPID    uint32
	Backlog int
}

// SCTPConn is only implemented on Linux and FreeBSD.
type SCTPConn struct{}

// ListenSCTP reports that this OS has no SCTP support in this package.
func ListenSCTP(addr netip.AddrPort, opts SCTPOptions) (*SCTPConn, error) {
	return nil, fmt.Errorf("transport: sctp listen %v: %w", addr, errors.ErrUnsupported)
}

func (s *SCTPConn) Kind() Kind                                { return KindSCTP }
func (s *SCTPConn) LocalAddr() netip.AddrPort                 { return netip.AddrPort{} }
func (s *SCTPConn) Stats() Stats                              { return Stats{} }
func (s *SCTPConn) WriteTo(b []byte, to netip.AddrPort) error { return errors.ErrUnsupported }
func (s *SCTPConn) ReadFrom(ctx context.Context) (Packet, error) {
	return Packet{}, errors.ErrUnsupported
}
func (s *SCTPConn) Close() error { return nil }
