//go:build lab && linux

package lab

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// These run inside the lab VM (testbed lab test ./testbed/lab); they check
// that the guest offers what the other lab suites rely on.

func TestLabKernelHasPFKEY(t *testing.T) {
	fd, err := unix.Socket(unix.AF_KEY, unix.SOCK_RAW, 2 /* PF_KEY_V2 */)
	if err != nil {
		t.Fatalf("socket(AF_KEY, SOCK_RAW, PF_KEY_V2): %v", err)
	}
	unix.Close(fd)
}

func TestLabKernelHasSCTP(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_SEQPACKET, unix.IPPROTO_SCTP)
	if err != nil {
		t.Fatalf("socket(AF_INET6, SOCK_SEQPACKET, IPPROTO_SCTP): %v", err)
	}
	unix.Close(fd)
}

func TestLabGuestLayout(t *testing.T) {
	if os.Getenv("IKECTX_LAB") != "1" {
		t.Errorf("IKECTX_LAB = %q, want 1", os.Getenv("IKECTX_LAB"))
	}
	if os.Getenv("IKECTX_LAB_VM") != "1" {
		t.Skip("not in the lab VM (lab test --host): the guest layout does not apply")
	}
	for _, p := range []string{GuestIP, GuestTC, "/run/netns", "/var/run/netns", "/sbin/modprobe", "/dev/shm", "/proc/net/xfrm_stat"} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("guest: %v", err)
		}
	}
	for _, m := range []string{"af_key", "esp4", "esp6", "xfrm_user", "sctp", "veth", "sch_netem"} {
		if _, err := os.Stat("/sys/module/" + m); err != nil {
			t.Errorf("module %s not loaded: %v", m, err)
		}
	}
}
