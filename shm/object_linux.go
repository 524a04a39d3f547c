package shm

import (
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// On Linux a POSIX shared memory object is a file in a tmpfs, /dev/shm by
// default (what glibc's shm_open does).

func objectPath(name, dir string) string { return filepath.Join(dir, name[1:]) }

// openObject creates the object (created true) or opens the existing one.
// It never follows a symbolic link, and refuses anything but a regular file.
func openObject(name, dir string) (fd int, created bool, err error) {
	p := objectPath(name, dir)
	const base = unix.O_RDWR | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err = unix.Open(p, base|unix.O_CREAT|unix.O_EXCL, 0o600)
	if err == nil {
		return fd, true, nil
	}
	if err != unix.EEXIST {
		return -1, false, fmt.Errorf("create %s: %w", p, err)
	}
	fd, err = unix.Open(p, base, 0)
	if err != nil {
		return -1, false, fmt.Errorf("open %s: %w", p, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, false, fmt.Errorf("fstat %s: %w", p, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, false, fmt.Errorf("%s is not a regular file (mode %#o)", p, st.Mode)
	}
	return fd, false, nil
}

func unlinkObject(name, dir string) error {
	return unix.Unlink(objectPath(name, dir))
}

// openReadOnly opens an existing object for reading.
func openReadOnly(name, dir string) (int, error) {
	p := objectPath(name, dir)
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", p, err)
	}
	return fd, nil
}
