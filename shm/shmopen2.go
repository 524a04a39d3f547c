package shm

import "fmt"

// FreeBSD's shm_open2(2), system call 571 (FreeBSD 13+):
//
//	int shm_open2(const char *path, int flags, mode_t mode, int shmflags, const char *name);
//
// path is the object's name ("/x") or SHM_ANON; flags accepts only
// O_ACCMODE, O_CREAT, O_EXCL, O_TRUNC and O_CLOEXEC; shmflags holds
// SHM_ALLOW_SEALING (1), SHM_GROW_ON_WRITE (2), SHM_LARGEPAGE (4); name is
// an optional label for anonymous objects (NULL here). The constants are
// FreeBSD's (sys/fcntl.h, sys/mman.h, sys/syscall.h), spelled out so the
// encoding can be unit-tested on any host.
const (
	fbsdSysShmOpen2  = 571
	fbsdSysShmUnlink = 483
	fbsdORDONLY      = 0x0000
	fbsdORDWR        = 0x0002
	fbsdOCreat       = 0x0200
	fbsdOExcl        = 0x0800
	fbsdOCloexec     = 0x00100000
	fbsdFlagsAllowed = 0x0003 | fbsdOCreat | fbsdOExcl | 0x0400 /* O_TRUNC */ | fbsdOCloexec
)

// shmOpen2Args are the arguments of one shm_open2 call, before the path is
// turned into a C string.
type shmOpen2Args struct {
	Path     string
	Flags    int
	Mode     uint32
	ShmFlags int
}

// shmOpen2For returns the arguments that create (create true: O_CREAT|O_EXCL)
// or open the named object read-write with mode 0600.
func shmOpen2For(name string, create bool) (shmOpen2Args, error) {
	if len(name) < 2 || name[0] != '/' {
		return shmOpen2Args{}, fmt.Errorf("shm_open2: name %q must be /name", name)
	}
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return shmOpen2Args{}, fmt.Errorf("shm_open2: name %q contains NUL", name)
		}
	}
	a := shmOpen2Args{Path: name, Flags: fbsdORDWR | fbsdOCloexec, Mode: 0o600}
	if create {
		a.Flags |= fbsdOCreat | fbsdOExcl
	}
	if a.Flags&^fbsdFlagsAllowed != 0 {
		return a, fmt.Errorf("shm_open2: flags %#x not accepted by the kernel", a.Flags)
	}
	return a, nil
}
