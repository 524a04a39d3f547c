package admin

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerCred reads LOCAL_PEERCRED, which getpeereid(3) wraps: the effective
// uid and the first group (the effective gid).
func peerCred(c *net.UnixConn) (PeerCred, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return PeerCred{}, err
	}
	var xu *unix.Xucred
	var serr error
	if err := rc.Control(func(fd uintptr) {
		xu, serr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	}); err != nil {
		return PeerCred{}, err
	}
	if serr != nil {
		return PeerCred{}, serr
	}
	pc := PeerCred{UID: xu.Uid, Known: true}
	if xu.Ngroups > 0 {
		pc.GID = xu.Groups[0]
	}
	return pc, nil
}
