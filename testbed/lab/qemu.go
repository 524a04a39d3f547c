package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// KernelCmdline is the guest kernel's command line.
const KernelCmdline = "console=ttyS0 panic=-1 quiet"

// kernelCmdline is KernelCmdline plus $IKECTX_LAB_APPEND (for experiments).
func kernelCmdline() string {
	if a := strings.TrimSpace(os.Getenv("IKECTX_LAB_APPEND")); a != "" {
		return KernelCmdline + " " + a
	}
	return KernelCmdline
}

// Accel returns the qemu accelerator to use: "kvm" only when the CPU offers
// hardware virtualisation (vmx or svm in /proc/cpuinfo) and /dev/kvm opens,
// else "tcg". On some hosts /dev/kvm exists but guests hang (a PVM host);
// the cpuinfo check rules those out. IKECTX_LAB_ACCEL=tcg|kvm overrides.
func Accel() string {
	if a := os.Getenv("IKECTX_LAB_ACCEL"); a == "tcg" || a == "kvm" {
		return a
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "tcg"
	}
	hw := false
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "flags") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if f == "vmx" || f == "svm" {
				hw = true
			}
		}
		break
	}
	if !hw {
		return "tcg"
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return "tcg"
	}
	f.Close()
	return "kvm"
}

// qemuArgs is the qemu command line that boots kernel with initrd.
func qemuArgs(kernel, initrd string, memMB int, accel string) []string {
	cpu := "max" // with RDRAND the guest's random pool is ready at boot
	if accel == "kvm" {
		cpu = "host"
	}
	return []string{
		"-accel", accel, "-cpu", cpu,
		"-m", strconv.Itoa(memMB), "-smp", labSMP(),
		"-nographic", "-no-reboot",
		"-nic", "none", // no NIC: no option ROM to probe, no network outside
		"-kernel", kernel, "-initrd", initrd,
		"-append", kernelCmdline(),
	}
}

// labSMP is the guest's CPU count: 1, or $IKECTX_LAB_SMP (1-8).
func labSMP() string {
	if n, err := strconv.Atoi(os.Getenv("IKECTX_LAB_SMP")); err == nil && n >= 1 && n <= 8 {
		return strconv.Itoa(n)
	}
	return "1"
}

// qemuBinary finds qemu-system-x86_64.
func qemuBinary() (string, error) {
	p, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return "", fmt.Errorf("lab: qemu-system-x86_64 not found (install qemu-system-x86; scripts/deps.sh does): %w", err)
	}
	return p, nil
}

// qemuCommand prepares qemu; it is killed when ctx ends.
func qemuCommand(ctx context.Context, qemu string, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, qemu, args...)
	cmd.Stdin = nil // /dev/null: the console is output only
	return cmd
}
