//go:build !linux && !freebsd

package admin

import (
	"errors"
	"net"
)

// peerCred is unknown on other systems: export and import are refused
// unless ServerConfig.MayExport allows unknown peers.
func peerCred(c *net.UnixConn) (PeerCred, error) {
	return PeerCred{}, errors.New("peer credentials are not implemented on this system")
}
