package shm

import (
	"testing"

	"golang.org/x/sys/unix"
)

// On FreeBSD the spelled-out constants must be the system's.
func TestShmOpen2Constants(t *testing.T) {
	if fbsdORDWR != unix.O_RDWR || fbsdOCreat != unix.O_CREAT || fbsdOExcl != unix.O_EXCL ||
		fbsdOCloexec != unix.O_CLOEXEC || fbsdSysShmUnlink != unix.SYS_SHM_UNLINK {
		t.Fatal("FreeBSD constants differ from x/sys/unix")
	}
}
