package traffic

import (
	"net"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Linux: SO_TIMESTAMPNS, one SCM_TIMESTAMPNS (struct timespec) per read.
type kernelStamper struct{}

func (kernelStamper) enable(c *net.UDPConn) bool { return setSockoptInt(c, unix.SO_TIMESTAMPNS) }

func (kernelStamper) oobLen() int { return unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))) }

func (kernelStamper) parse(oob []byte) (time.Time, bool) {
	var ts unix.Timespec
	if !findStamp(oob, unix.SCM_TIMESTAMPNS, &ts) {
		return time.Time{}, false
	}
	return time.Unix(ts.Unix()), true
}
