package shm

import (
	"fmt"
	"syscall"
)

// Role is which of the two modules a process is.
type Role uint8

const (
	// RoleCXTP is the CXTP module (cxtpd): it posts requests and reads results.
	RoleCXTP Role = 0
	// RoleContext is the context module (e.g. ipsec-cxtpd): it performs requests.
	RoleContext Role = 1
)

func (r Role) String() string {
	switch r {
	case RoleCXTP:
		return "CXTP module"
	case RoleContext:
		return "context module"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

func (r Role) valid() bool { return r == RoleCXTP || r == RoleContext }

// Peer is the other module.
func (r Role) Peer() Role { return r ^ 1 }

// WakeSignal is the signal that wakes a module of this role: SIGUSR1 for the
// context module, SIGUSR2 for the CXTP module.
func (r Role) WakeSignal() syscall.Signal {
	if r == RoleContext {
		return syscall.SIGUSR1
	}
	return syscall.SIGUSR2
}
