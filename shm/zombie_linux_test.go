package shm

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestZombieState(t *testing.T) {
	for line, want := range map[string]bool{
		"1234 (cxtpd) S 1 1234 ...":          false,
		"1234 (ipsec-cxtpd) Z 1 1234 0":      true,
		"1234 (a) b) (c) Z 1 1234 0":         true,
		"1234 (weird) X 1":                   true,
		"1234 (no state)":                    false,
		"garbage":                            false,
		"1234 (sleep) R 1 1234 1234 0 -1 42": false,
	} {
		if got := zombieState([]byte(line)); got != want {
			t.Errorf("%q: %v, want %v", line, got, want)
		}
	}
}

// TestZombieIsDead: a module that exited but was not reaped yet is dead
// for the segment, though kill(pid, 0) still succeeds.
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
