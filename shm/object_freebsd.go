package shm

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On FreeBSD the object lives in the kernel's shm namespace and is opened
// with shm_open2(2) (see shmopen2.go for the argument encoding).

func shmOpen2(a shmOpen2Args) (int, error) {
	p, err := unix.BytePtrFromString(a.Path)
	if err != nil {
		return -1, err
	}
	r, _, e := unix.Syscall6(fbsdSysShmOpen2, uintptr(unsafe.Pointer(p)), uintptr(a.Flags),
		uintptr(a.Mode), uintptr(a.ShmFlags), 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

func openObject(name, _ string) (fd int, created bool, err error) {
	a, err := shmOpen2For(name, true)
	if err != nil {
		return -1, false, err
	}
	fd, err = shmOpen2(a)
	if err == nil {
		return fd, true, nil
	}
	if err != unix.EEXIST {
		return -1, false, fmt.Errorf("shm_open2 %s create: %w", name, err)
	}
	a, _ = shmOpen2For(name, false)
	fd, err = shmOpen2(a)
	if err != nil {
		return -1, false, fmt.Errorf("shm_open2 %s: %w", name, err)
	}
	return fd, false, nil
}

func unlinkObject(name, _ string) error {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	_, _, e := unix.Syscall(fbsdSysShmUnlink, uintptr(unsafe.Pointer(p)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// openReadOnly opens an existing object for reading.
func openReadOnly(name, _ string) (int, error) {
	a, err := shmOpen2For(name, false)
	if err != nil {
		return -1, err
	}
	a.Flags = a.Flags&^0x3 | fbsdORDONLY
	fd, err := shmOpen2(a)
	if err != nil {
		return -1, fmt.Errorf("shm_open2 %s read-only: %w", name, err)
	}
	return fd, nil
}
