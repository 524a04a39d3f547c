//go:build !linux && !freebsd

package traffic

import (
	"net"
	"time"
)

// Elsewhere: no kernel time stamps; the sink reads its own clock.
type kernelStamper struct{}

func (kernelStamper) enable(*net.UDPConn) bool       { return false }
func (kernelStamper) oobLen() int                    { return 0 }
func (kernelStamper) parse([]byte) (time.Time, bool) { return time.Time{}, false }
