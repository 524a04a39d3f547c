package traffic

import (
	"net"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// FreeBSD: SO_TIMESTAMP, one SCM_TIMESTAMP (struct timeval) per read.
type kernelStamper struct{}

func (kernelStamper) enable(c *net.UDPConn) bool { return setSockoptInt(c, unix.SO_TIMESTAMP) }

func (kernelStamper) oobLen() int { return unix.CmsgSpace(int(unsafe.Sizeof(unix.Timeval{}))) }

func (kernelStamper) parse(oob []byte) (time.Time, bool) {
	var tv unix.Timeval
	if !findStamp(oob, unix.SCM_TIMESTAMP, &tv) {
		return time.Time{}, false
	}
	return time.Unix(tv.Unix()), true
}
