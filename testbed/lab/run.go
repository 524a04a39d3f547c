package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// File is something to put into the guest's initramfs.
type File struct {
	Guest string      // absolute path in the guest
	Host  string      // a host file, or a directory copied recursively (symlinks kept)
	Data  []byte      // the contents, when Host is empty
	Mode  fs.FileMode // permissions for Data (default 0644)
	// Executable also adds the shared libraries the Host file needs (an
	// executable or a shared object such as a plugin), at their host
	// paths, as ldd lists them; libraries loaded with dlopen (e.g.
	// libgcc_s.so.1 for pthread_cancel) must be listed as files of their own.
	Executable bool
}

// Spec describes one boot of the lab.
type Spec struct {
	// Kernel is the kernel to boot, from Fetch. Required.
	Kernel Kernel
	// Script is the payload: a busybox sh script run as root in /tmp with
	// IKECTX_LAB=1, stdin /dev/null, stderr merged into stdout. Its exit
	// status is Result.ExitCode. Call iproute2 as /sbin/ip and /sbin/tc:
	// busybox sh prefers its own applets.
	Script string
	// Env holds extra NAME=VALUE variables for the payload.
	Env []string
	// Files are added to the initramfs (project binaries, test binaries...).
	Files []File
	// Modules to load at boot; nil means DefaultModules.
	Modules []string
	// MemoryMB is the guest memory; 0 means 512.
	MemoryMB int
	// Output receives the payload's output while it runs, one Write per
	// line (with its "\n"). May be nil.
	Output io.Writer
	// BootLog receives the console lines outside the payload (kernel and
	// /init messages). May be nil.
	BootLog io.Writer
	// WorkDir holds the initramfs; default a temporary directory removed
	// after the run.
	WorkDir string
	// Gzip compresses the initramfs. Off by default: under emulation the
	// guest unpacks a plain cpio about 3 times faster than a gzip'd one
	// (0.7-3 s against 3.6-9 s for 10 MB of content, measured), which
	// outweighs reading twice the bytes. IKECTX_LAB_INITRD=gzip turns it on.
	Gzip bool
}

// Result is the outcome of a boot.
type Result struct {
	ExitCode   int           // the payload's exit status (valid when Finished)
	Finished   bool          // the @@RESULT marker came back
	Output     string        // the payload's console output ("\r\n" turned into "\n")
	ImageBytes int64         // size of the initramfs
	BuildTime  time.Duration // building the initramfs
	BootTime   time.Duration // qemu start to the payload's start (@@BEGIN)
	RunTime    time.Duration // qemu start to qemu exit
	CPUTime    time.Duration // qemu's user+system CPU time (less noisy than RunTime on a busy host)
	Accel      string        // "tcg" or "kvm"
}

// ErrNoPayloadResult means the VM ended without reporting the payload's
// exit status (boot failure, crash, timeout).
var ErrNoPayloadResult = errors.New("lab: the VM ended without a payload result")

// Run builds an initramfs for spec, boots it under qemu and returns the
// payload's output and exit status. The VM is killed when ctx ends; always
// give ctx a deadline. A non-zero payload exit status is not an error: read
// Result.ExitCode. The error is non-nil when the lab could not be built or
// booted, or the VM ended (or timed out) before the payload finished; the
// Result then holds what was seen, and the error quotes the console's last
// lines.
func Run(ctx context.Context, spec Spec) (Result, error) {
	var res Result
	if runtime.GOOS != "linux" {
		return res, fmt.Errorf("lab: the kernel lab needs Linux (this is %s)", runtime.GOOS)
	}
	if spec.Kernel.Image == "" || spec.Kernel.ModulesDir == "" {
		return res, errors.New("lab: Spec.Kernel is empty; call Fetch first")
	}
	qemu, err := qemuBinary()
	if err != nil {
		return res, err
	}
	work := spec.WorkDir
	if work == "" {
		work, err = os.MkdirTemp("", "ikectx-lab-")
		if err != nil {
			return res, fmt.Errorf("lab: %w", err)
		}
		defer os.RemoveAll(work)
	}
	t0 := time.Now()
	gz := spec.Gzip || os.Getenv("IKECTX_LAB_INITRD") == "gzip"
	initrd := filepath.Join(work, "initrd.cpio")
	if gz {
		initrd += ".gz"
	}
	if err := buildImage(ctx, spec, initrd, work, gz); err != nil {
		return res, err
	}
	res.BuildTime = time.Since(t0)
	if st, err := os.Stat(initrd); err == nil {
		res.ImageBytes = st.Size()
	}
	mem := spec.MemoryMB
	if mem == 0 {
		mem = 512
	}
	res.Accel = Accel()
	return boot(ctx, qemu, qemuArgs(spec.Kernel.Image, initrd, mem, res.Accel), spec, res)
}

// boot runs qemu and follows the console.
func boot(ctx context.Context, qemu string, args []string, spec Spec, res Result) (Result, error) {
	// After the result arrives, give the guest a moment to power off.
	vmCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := qemuCommand(vmCtx, qemu, args)
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return res, fmt.Errorf("lab: %w", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("lab: starting %s: %w", qemu, err)
	}
	con := &console{out: spec.Output, boot: spec.BootLog}
	br := bufio.NewReaderSize(stdout, 64<<10)
	var stopTimer *time.Timer
	for {
		// ReadString, not a Scanner: no line is too long to pass on, and
		// the pipe is always drained so qemu never blocks on it.
		line, rerr := br.ReadString('\n')
		if line != "" {
			con.line(strings.TrimSuffix(line, "\n"))
		}
		if con.ended && stopTimer == nil {
			stopTimer = time.AfterFunc(20*time.Second, cancel)
		}
		if rerr != nil {
			break
		}
	}
	if stopTimer != nil {
		stopTimer.Stop()
	}
	waitErr := cmd.Wait()
	res.RunTime = time.Since(start)
	if ps := cmd.ProcessState; ps != nil {
		res.CPUTime = ps.UserTime() + ps.SystemTime()
	}
	if con.began {
		res.BootTime = con.beganAt.Sub(start)
	}
	res.Output = con.payload.String()
	res.Finished = con.ended
	res.ExitCode = con.rc
	if con.ended {
		return res, nil
	}
	why := "qemu exited"
	if waitErr != nil {
		why = "qemu: " + waitErr.Error()
	}
	if ctx.Err() != nil {
		why = fmt.Sprintf("timed out after %s (%v)", res.RunTime.Round(time.Second), ctx.Err())
	}
	stage := "before the payload started (boot failure?)"
	if con.began {
		stage = "while the payload ran"
	}
	msg := strings.TrimSpace(stderr.String())
	if msg != "" {
		msg = "\nqemu stderr: " + msg
	}
	return res, fmt.Errorf("%w: %s %s; last console lines:\n%s%s", ErrNoPayloadResult, why, stage, con.lastLines(), msg)
}

// buildImage writes the initramfs (a newc cpio, gzip'd if gz): the base system (busybox, modules,
// iproute2), spec.Files, /init and the payload.
func buildImage(ctx context.Context, spec Spec, file, work string, gz bool) (err error) {
	idx, err := loadModIndex(spec.Kernel.ModulesDir)
	if err != nil {
		return err
	}
	want := spec.Modules
	if want == nil {
		want = DefaultModules
	}
	plan, err := idx.resolve(want)
	if err != nil {
		return err
	}
	initSh, err := initScript(plan.Load, spec.Env)
	if err != nil {
		return err
	}
	im, err := newImage(file, gz)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := im.Close(); err == nil {
			err = cerr
		}
	}()
	if err := addBase(ctx, im); err != nil {
		return err
	}
	if err := addModules(ctx, im, spec.Kernel, plan, filepath.Join(work, "modules")); err != nil {
		return err
	}
	for _, f := range spec.Files {
		if err := addFile(ctx, im, f); err != nil {
			return err
		}
	}
	if err := im.Data(GuestPayload, []byte(spec.Script+"\n"), 0o755); err != nil {
		return err
	}
	return im.Data(guestInit, []byte(initSh), 0o755)
}

// addFile adds one Spec file.
func addFile(ctx context.Context, im *image, f File) error {
	if !strings.HasPrefix(f.Guest, "/") {
		return fmt.Errorf("lab: guest path %q is not absolute", f.Guest)
	}
	if f.Host == "" {
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		return im.Data(f.Guest, f.Data, mode)
	}
	st, err := os.Stat(f.Host)
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if st.IsDir() {
		return im.Tree(f.Guest, f.Host)
	}
	if f.Executable {
		return im.addExecutable(ctx, f.Guest, f.Host)
	}
	return im.File(f.Guest, f.Host)
}

// addBase adds the skeleton: directories, /dev/console, busybox and its
// applet links, iproute2 with its libraries, a few /etc files.
func addBase(ctx context.Context, im *image) error {
	for _, d := range []string{"/proc", "/sys", "/dev", "/run", "/tmp", "/root", "/etc", "/var", "/lab", "/bin", "/sbin", "/usr/bin", "/usr/sbin", GuestBin, GuestTests} {
		if err := im.Dir(d, 0o755); err != nil {
			return err
		}
	}
	if err := im.CharDev("/dev/console", 5, 1, 0o600); err != nil {
		return err
	}
	if err := im.CharDev("/dev/null", 1, 3, 0o666); err != nil {
		return err
	}
	if err := im.Symlink("/var/run", "../run"); err != nil {
		return err
	}
	if err := im.Symlink("/var/tmp", "../tmp"); err != nil {
		return err
	}
	// iproute2 first, so that busybox does not take its names.
	for _, t := range []struct{ guest, name string }{{GuestIP, "ip"}, {GuestTC, "tc"}} {
		host, err := findHostTool(t.name)
		if err != nil {
			return err
		}
		if err := im.addExecutable(ctx, t.guest, host); err != nil {
			return err
		}
	}
	bb, err := findHostTool("busybox")
	if err != nil {
		return fmt.Errorf("%w (install busybox-static)", err)
	}
	if err := im.addExecutable(ctx, guestBusybox, bb); err != nil {
		return err
	}
	out, err := runCmd(ctx, "", bb, "--list-full")
	if err != nil {
		return fmt.Errorf("lab: listing busybox applets: %w", err)
	}
	for _, a := range strings.Fields(out) {
		g := "/" + strings.TrimPrefix(a, "/")
		if g == guestBusybox || im.has(g) || filepath.Base(g) == "ip" || filepath.Base(g) == "tc" {
			continue
		}
		if err := im.Symlink(g, guestBusybox); err != nil {
			return err
		}
	}
	etc := map[string]string{
		"/etc/passwd":   "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"/etc/group":    "root:x:0:\nnogroup:x:65534:\n",
		"/etc/hosts":    "127.0.0.1\tlocalhost lab\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		"/etc/hostname": guestHostname + "\n",
	}
	for _, p := range []string{"/etc/passwd", "/etc/group", "/etc/hosts", "/etc/hostname"} {
		if err := im.Data(p, []byte(etc[p]), 0o644); err != nil {
			return err
		}
	}
	for _, p := range []string{"/etc/protocols", "/etc/services"} {
		if _, err := os.Stat(p); err == nil {
			if err := im.File(p, p); err != nil {
				return err
			}
		}
	}
	for _, d := range []string{"/etc/iproute2", "/usr/share/iproute2"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			if err := im.Tree(d, d); err != nil {
				return err
			}
		}
	}
	// netem's delay distribution tables (tc ... netem delay 10ms 2ms distribution normal).
	dists, _ := filepath.Glob("/usr/lib/*/tc/*.dist")
	more, _ := filepath.Glob("/usr/lib/tc/*.dist")
	for _, d := range append(dists, more...) {
		if err := im.File(d, d); err != nil {
			return err
		}
	}
	return nil
}

// findHostTool finds a host program in PATH or the usual sbin directories.
func findHostTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("lab: %s not found on the host (scripts/deps.sh installs it)", name)
}

// addModules stages the planned modules with the kernel's module lists,
// regenerates modules.dep (and modules.alias) for that subset with depmod,
// and adds the tree.
func addModules(ctx context.Context, im *image, k Kernel, plan modPlan, stage string) error {
	rel := filepath.Join("lib", "modules", k.Release)
	dst := filepath.Join(stage, rel)
	for _, f := range plan.Files {
		if err := copyFile(filepath.Join(dst, f), filepath.Join(k.ModulesDir, f), 0o644); err != nil {
			return fmt.Errorf("lab: staging module: %w", err)
		}
	}
	for _, f := range []string{"modules.builtin", "modules.builtin.modinfo", "modules.order"} {
		src := filepath.Join(k.ModulesDir, f)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if err := copyFile(filepath.Join(dst, f), src, 0o644); err != nil {
			return fmt.Errorf("lab: staging module lists: %w", err)
		}
	}
	if _, err := runCmd(ctx, "", "depmod", "-b", stage, k.Release); err != nil {
		return fmt.Errorf("lab: depmod for the initramfs: %w", err)
	}
	// Only what busybox modprobe reads; the binary indexes are not needed.
	keep := map[string]bool{"modules.dep": true, "modules.alias": true, "modules.symbols": true, "modules.builtin": true, "modules.builtin.modinfo": true, "modules.order": true, "modules.softdep": true}
	entries, err := os.ReadDir(dst)
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "modules.") && !keep[e.Name()] {
			os.Remove(filepath.Join(dst, e.Name()))
		}
	}
	return im.Tree("/"+filepath.ToSlash(rel), dst)
}
