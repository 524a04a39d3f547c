package daemon

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// freebind lets a socket bind an address the host does not have yet (a
// mobile node's next care-of address): IP_BINDANY / IPV6_BINDANY (root).
func freebind(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		if network == "udp6" {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_BINDANY, 1)
		} else {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BINDANY, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}
