//go:build linux || freebsd

package traffic

import (
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

func setSockoptInt(c *net.UDPConn, opt int) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, 1) }); err != nil {
		return false
	}
	return serr == nil
}

// findStamp copies into *T (a timespec or timeval) the data of the first
// SOL_SOCKET control message of type typ that is large enough.
func findStamp[T any](oob []byte, typ int32, v *T) bool {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return false
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == typ && len(m.Data) >= len(dst) {
			copy(dst, m.Data)
			return true
		}
	}
	return false
}
