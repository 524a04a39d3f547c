package daemon

import (
	"errors"
	"net/netip"

	"github.com/ikectx/ikectx/cxtp/transport"
)

// listenSCTP opens the SCTP AR-AR endpoint.
func listenSCTP(at netip.AddrPort) (transport.Conn, error) {
	return nil, errors.New("sctp transport: not available in this build yet (use transport = \"udp\")")
}
