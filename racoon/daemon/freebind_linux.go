package daemon

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// freebind lets a socket bind an address the host does not have yet (a
// mobile node's next care-of address): IP_FREEBIND / IPV6_FREEBIND.
func freebind(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
		if serr == nil && (network == "udp6" || network == "udp") {
			// best effort: IPv4 sockets refuse the IPv6 option
			unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_FREEBIND, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}
