package traffic

import (
	"net"
	"time"
)

// rxStamper asks the kernel to time-stamp each datagram as it arrives
// (stamp_*.go) and reads that time back from the control message: the
// sink's records then say when a datagram reached the HA, not when the
// sink's process got the CPU to read it (which, with the stations sharing
// one emulated CPU, could be milliseconds later).
type rxStamper interface {
	// enable turns the socket option on; false when the system has none.
	enable(c *net.UDPConn) bool
	// oobLen is the control buffer a read needs.
	oobLen() int
	// parse finds the arrival time in a read's control data.
	parse(oob []byte) (time.Time, bool)
}
