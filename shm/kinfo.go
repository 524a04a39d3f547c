package shm

import (
	"encoding/binary"
	"fmt"
)

// FreeBSD's struct kinfo_proc, one record of which sysctl kern.proc.pid.PID
// returns (sys/sys/user.h in freebsd/freebsd-src, as of commit
// 29363fb4463), in its 64-bit layout: KINFO_PROC_SIZE is 1088 on amd64 and
// arm64 (sys/amd64/include/proc.h, sys/arm64/include/proc.h), pointers and
// longs are 8 bytes, integers are in the host's byte order. The zombie
// check reads three fields:
//
//	off size field
//	  0   4  ki_structsize   int, 1088
//	  4   4  ki_layout
//	  8  64  ki_args, ki_paddr, ki_addr, ki_tracep, ki_textvp, ki_fd,
//	         ki_vmspace, ki_wchan (8 pointers)
//	 72   4  ki_pid          pid_t
//	 76 312  ki_ppid .. ki_traceflag (ki_groups end at 256, ki_runtime at
//	         328, ki_start 336, ki_childtime 352, ki_flag 368,
//	         ki_kiflag 376, ki_traceflag 384)
//	388   1  ki_stat         char: SIDL 1, SRUN 2, SSLEEP 3, SSTOP 4,
//	         SZOMB 5, SWAIT 6, SLOCK 7 (sys/sys/proc.h)
//	389 ...  ki_nice, ..., ki_comm at 447, ...
//
// fill_kinfo_proc (sys/kern/kern_proc.c) sets ki_stat to SZOMB for a
// process in state PRS_ZOMBIE, and kern.proc.pid finds zombies (pget
// without PGET_NOTWEXIT, so pfind_any). 32-bit FreeBSD (i386 768 bytes,
// armv7 816) has another layout, which kinfoProcStat refuses.
const (
	kinfoProcSize   = 1088
	kinfoOffPid     = 72
	kinfoOffStat    = 388
	kinfoStatZombie = 5 // SZOMB
)

// kinfoProcStat returns ki_stat from b, the struct kinfo_proc of process
// pid as sysctl kern.proc.pid.PID returns it. It refuses a record of
// another size or layout, or of another process; any input gives a state
// or an error, never a panic.
func kinfoProcStat(b []byte, pid uint32) (byte, error) {
	if len(b) != kinfoProcSize {
		return 0, fmt.Errorf("shm: kinfo_proc of %d bytes, want %d", len(b), kinfoProcSize)
	}
	if n := binary.NativeEndian.Uint32(b); n != kinfoProcSize {
		return 0, fmt.Errorf("shm: kinfo_proc ki_structsize %d, want %d", n, kinfoProcSize)
	}
	if p := binary.NativeEndian.Uint32(b[kinfoOffPid:]); p != pid {
		return 0, fmt.Errorf("shm: kinfo_proc of pid %d, want %d", p, pid)
	}
	return b[kinfoOffStat], nil
}
