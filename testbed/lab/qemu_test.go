package lab

import (
	"strings"
	"testing"
)

func TestQemuArgs(t *testing.T) {
	t.Setenv("IKECTX_LAB_APPEND", "")
	t.Setenv("IKECTX_LAB_SMP", "")
	got := strings.Join(qemuArgs("/k/vmlinux", "/w/initrd.cpio", 512, "tcg"), " ")
	want := "-accel tcg -cpu max -m 512 -smp 1 -nographic -no-reboot -nic none -kernel /k/vmlinux -initrd /w/initrd.cpio -append " + KernelCmdline
	if got != want {
		t.Errorf("args\n %s\nwant\n %s", got, want)
	}
	if got := strings.Join(qemuArgs("k", "i", 256, "kvm"), " "); !strings.Contains(got, "-accel kvm -cpu host -m 256") {
		t.Errorf("kvm args %s", got)
	}
	for env, want := range map[string]string{"4": "-smp 4", "0": "-smp 1", "9": "-smp 1", "x": "-smp 1"} {
		t.Setenv("IKECTX_LAB_SMP", env)
		if got := strings.Join(qemuArgs("k", "i", 256, "tcg"), " "); !strings.Contains(got, want+" ") {
			t.Errorf("IKECTX_LAB_SMP=%s: %s, want %s", env, got, want)
		}
	}
	t.Setenv("IKECTX_LAB_APPEND", "cryptomgr.notests")
	if got := kernelCmdline(); got != KernelCmdline+" cryptomgr.notests" {
		t.Errorf("cmdline %q", got)
	}
}

func TestAccelOverride(t *testing.T) {
	t.Setenv("IKECTX_LAB_ACCEL", "tcg")
	if a := Accel(); a != "tcg" {
		t.Errorf("Accel() = %q with IKECTX_LAB_ACCEL=tcg", a)
	}
	t.Setenv("IKECTX_LAB_ACCEL", "")
	if a := Accel(); a != "tcg" && a != "kvm" {
		t.Errorf("Accel() = %q", a)
	}
}
