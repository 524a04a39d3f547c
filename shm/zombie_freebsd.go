package shm

import "golang.org/x/sys/unix"

// isZombie reports whether pid has exited but was not reaped yet: kill(pid,
// 0) may still succeed for it, yet it will never touch the segment again.
// On FreeBSD the state is ki_stat of the process's struct kinfo_proc, from
// sysctl kern.proc.pid.PID (layout in kinfo.go). A process the sysctl does
// not show (gone, or hidden from this user) or a record that does not
// decode counts as not a zombie, so its liveness is kill's answer alone.
func isZombie(pid uint32) bool {
	b, err := unix.SysctlRaw("kern.proc.pid", int(pid))
	if err != nil {
		return false
	}
	st, err := kinfoProcStat(b, pid)
	return err == nil && st == kinfoStatZombie
}
