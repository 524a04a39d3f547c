//go:build linux || freebsd

package daemon

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// bypassControl gives an IKE socket a per-socket BYPASS IPsec policy in
// both directions (struct sadb_x_policy through IP_IPSEC_POLICY or
// IPV6_IPSEC_POLICY), so IKE never matches the SPD it negotiates.
func bypassControl(network, _ string, c syscall.RawConn) error {
	level, opt := unix.IPPROTO_IPV6, unix.IPV6_IPSEC_POLICY
	if network == "udp4" {
		level, opt = unix.IPPROTO_IP, unix.IP_IPSEC_POLICY
	}
	var serr error
	for _, dir := range []uint8{1, 2} {
		pol := make([]byte, 16)
		binary.NativeEndian.PutUint16(pol[0:], 2)  // length in 8-octet units
		binary.NativeEndian.PutUint16(pol[2:], 18) // SADB_X_EXT_POLICY
		binary.NativeEndian.PutUint16(pol[4:], 4)  // IPSEC_POLICY_BYPASS
		pol[6] = dir
		if err := c.Control(func(fd uintptr) { serr = unix.SetsockoptString(int(fd), level, opt, string(pol)) }); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("IPsec bypass policy: %w", serr)
		}
	}
	return nil
}

// encapControl marks the NAT-T socket for ESP-in-UDP (UDP_ENCAP =
// UDP_ENCAP_ESPINUDP): the kernel takes the ESP packets and passes the
// IKE ones, those with the zero non-ESP marker, to the socket.
func encapControl(network, address string, c syscall.RawConn) error {
	if err := bypassControl(network, address, c); err != nil {
		return err
	}
	var serr error
	if err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, udpEncapOpt, 2) }); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("UDP_ENCAP: %w", serr)
	}
	return nil
}
