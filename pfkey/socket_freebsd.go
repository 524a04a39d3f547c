package pfkey

import "golang.org/x/sys/unix"

// pfKey is PF_KEY on FreeBSD (sys/socket.h pseudo_AF_KEY).
const pfKey = 27

// socket opens the key socket: socket(PF_KEY, SOCK_RAW, PF_KEY_V2).
func socket() (int, error) {
	return unix.Socket(pfKey, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, Version)
}
