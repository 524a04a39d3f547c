//go:build linux || freebsd

package daemon

import (
	"encoding/binary"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// bypassIPsec sets a per-socket BYPASS policy in both directions, as racoon
// does (setsockopt IP_IPSEC_POLICY / IPV6_IPSEC_POLICY with a struct
// sadb_x_policy), so that IKE packets never match the SPD they negotiate
// for (an `any` policy between the peers would otherwise capture them).
func bypassIPsec(c *net.UDPConn, v6 bool) error {
	level, opt := unix.IPPROTO_IP, unix.IP_IPSEC_POLICY
	if v6 {
		level, opt = unix.IPPROTO_IPV6, unix.IPV6_IPSEC_POLICY
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	for _, dir := range []uint8{1, 2} { // IPSEC_DIR_INBOUND, IPSEC_DIR_OUTBOUND
		// sadb_x_policy: len (8-byte units), exttype SADB_X_EXT_POLICY (18),
		// type IPSEC_POLICY_BYPASS (4), dir, reserved, id, priority
		b := make([]byte, 16)
		binary.NativeEndian.PutUint16(b[0:], 2)
		binary.NativeEndian.PutUint16(b[2:], 18)
		binary.NativeEndian.PutUint16(b[4:], 4)
		b[6] = dir
		err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), level, opt, string(b))
		})
		if err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("setsockopt IPSEC_POLICY bypass: %w", serr)
		}
	}
	return nil
}
