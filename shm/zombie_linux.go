package shm

import (
	"bytes"
	"os"
	"strconv"
)

// isZombie reports whether pid has exited but was not reaped yet: kill(pid,
// 0) still succeeds for it, yet it will never touch the segment again. On
// Linux the state is the field after the command name in /proc/PID/stat
// (the name is in parentheses and may itself contain them).
func isZombie(pid uint32) bool {
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	if err != nil {
		return false
	}
	return zombieState(b)
}

// zombieState parses a /proc/PID/stat line.
func zombieState(b []byte) bool {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	st := b[i+2]
	return st == 'Z' || st == 'X'
}
