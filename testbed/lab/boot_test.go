package lab

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// labKernel returns the cached kernel or skips: these tests boot the real
// lab and need `testbed lab fetch` to have run, and qemu.
func labKernel(t *testing.T) Kernel {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the kernel lab needs Linux")
	}
	if testing.Short() {
		t.Skip("boots a VM (tens of seconds under emulation); not in -short mode")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not installed (scripts/deps.sh)")
	}
	k, err := Cached("")
	if err != nil {
		t.Skipf("kernel not fetched: %v", err)
	}
	return k
}

func TestBootPayload(t *testing.T) {
	k := labKernel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var streamed strings.Builder
	res, err := Run(ctx, Spec{
		Kernel:  k,
		Script:  `echo hello; echo "lab=$IKECTX_LAB x=$X"; exit 3`,
		Env:     []string{"X=a b"},
		Modules: []string{"af_key"},
		Output:  &streamed,
		Files:   []File{{Guest: "/etc/ikectx-test", Data: []byte("data\n")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Finished || res.ExitCode != 3 {
		t.Errorf("finished %v exit %d, want true 3", res.Finished, res.ExitCode)
	}
	if want := "hello\nlab=1 x=a b\n"; res.Output != want || streamed.String() != want {
		t.Errorf("output %q, streamed %q, want %q", res.Output, streamed.String(), want)
	}
	if res.BootTime <= 0 || res.RunTime < res.BootTime {
		t.Errorf("times: boot %v run %v", res.BootTime, res.RunTime)
	}
	t.Logf("accel %s; initramfs %d bytes in %v; boot to payload %v; VM %v", res.Accel, res.ImageBytes, res.BuildTime, res.BootTime, res.RunTime)
}

func TestBootTimeout(t *testing.T) {
	k := labKernel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, Spec{Kernel: k, Script: "sleep 1000", Modules: []string{}})
	if res.BuildTime == 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Skipf("machine too loaded: the initramfs was not built within the 3s budget (%v)", err)
	}
	if !errors.Is(err, ErrNoPayloadResult) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if res.Finished {
		t.Error("a killed VM reported a result")
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("qemu not killed promptly: Run returned after %v", d)
	}
}

// TestBootTestPayload runs the lab test payload in the real VM with two
// fake test binaries: the first leaves a process, a namespace and an SA
// behind; the second checks that the reset between them removed all three.
func TestBootTestPayload(t *testing.T) {
	k := labKernel(t)
	dir := t.TempDir()
	first := filepath.Join(dir, "first.test")
	os.WriteFile(first, []byte(`#!/bin/sh
sleep 300 &
/sbin/ip netns add leftover
/sbin/ip xfrm state add src ::1 dst ::2 proto esp spi 5 mode tunnel enc "cbc(aes)" 0x00112233445566778899aabbccddeeff
echo "--- PASS: TestLabFirst (0.00s)"
`), 0o755)
	second := filepath.Join(dir, "second.test")
	os.WriteFile(second, []byte(`#!/bin/sh
echo "args: $*"
n=$(ps | grep -c "[s]leep 300"); ns=$(/sbin/ip netns list | wc -l); sa=$(/sbin/ip xfrm state | grep -c spi)
echo "left over: $n processes, $ns namespaces, $sa SAs"
if [ "$n$ns$sa" = 000 ]; then echo "--- PASS: TestLabClean (0.00s)"; else echo "--- FAIL: TestLabClean (0.00s)"; exit 1; fi
`), 0o755)
	bins := []TestBinary{{Name: "first.test", Path: first}, {Name: "second.test", Path: second}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out strings.Builder
	tl := &Tally{Out: &out}
	_, err := Run(ctx, Spec{Kernel: k, Script: TestScript(bins, TestArgs("^TestLab", time.Minute)), Files: TestFiles(bins), Output: tl})
	if err != nil {
		t.Fatal(err)
	}
	sum := tl.Summary(bins)
	if !sum.OK() || sum.Passed != 2 {
		t.Errorf("%s; output:\n%s", sum.Line(), out.String())
	}
	if !strings.Contains(out.String(), "args: -test.v -test.run ^TestLab -test.timeout 1m0s") {
		t.Errorf("test arguments not passed:\n%s", out.String())
	}
}
