package daemon

import (
	"net/netip"

	"github.com/ikectx/ikectx/cxtp/transport"
)

// listenSCTP opens the SCTP AR-AR endpoint: one one-to-many socket on the
// CXTP port, unordered delivery (RFC 4067 section 3.1). Where the kernel
// has no SCTP (no sctp module), this fails and names the cause; the peer
// can then be configured with transport = "udp".
func listenSCTP(at netip.AddrPort) (transport.Conn, error) {
	c, err := transport.ListenSCTP(at, transport.SCTPOptions{})
	if err != nil {
		return nil, err
	}
	return c, nil
}
