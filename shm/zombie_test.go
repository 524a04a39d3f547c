//go:build linux || freebsd

package shm

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestZombieIsDead: a module that exited but was not reaped yet is dead
// for the segment, though kill(pid, 0) may still succeed (Linux:
// /proc/PID/stat; FreeBSD: sysctl kern.proc.pid, run there only).
func TestZombieIsDead(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := uint32(cmd.Process.Pid)
	defer cmd.Wait()
	for deadline := time.Now().Add(30 * time.Second); !isZombie(pid); {
		if time.Now().After(deadline) {
			t.Fatal("child never became a zombie")
		}
		time.Sleep(time.Millisecond)
	}
	if processAlive(pid) {
		t.Fatal("zombie counted as alive")
	}
	if !processAlive(uint32(os.Getpid())) {
		t.Fatal("this process counted as dead")
	}
}
