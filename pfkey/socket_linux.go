package pfkey

import "golang.org/x/sys/unix"

// socket opens the key socket: socket(PF_KEY, SOCK_RAW, PF_KEY_V2).
func socket() (int, error) {
	return unix.Socket(unix.AF_KEY, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, Version)
}
