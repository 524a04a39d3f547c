package shm

import (
	"testing"
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
