package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Kernel is a fetched and unpacked Debian kernel.
type Kernel struct {
	Release    string // kernel release, `uname -r` in the guest, e.g. "6.1.0-56-amd64"
	Package    string // the Debian package it came from
	Dir        string // cache directory of this kernel
	Image      string // the file qemu boots: vmlinux when it could be extracted, else vmlinuz
	ModulesDir string // <root>/lib/modules/<Release>, with a full modules.dep
}

// FetchOptions tunes Fetch. The zero value is fine.
type FetchOptions struct {
	// CacheDir overrides the cache; default CacheDir().
	CacheDir string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// CacheDir is where the lab keeps its downloads: $IKECTX_CACHE if set, else
// $HOME/.cache/ikectx/lab. It is outside the repository on purpose.
func CacheDir() string {
	if d := os.Getenv("IKECTX_CACHE"); d != "" {
		return d
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".cache", "ikectx", "lab")
	}
	return filepath.Join(os.TempDir(), "ikectx-lab-cache")
}

const readyStamp = "READY"

// Fetch makes sure the kernel that linux-image-amd64 currently depends on is
// downloaded, unpacked and prepared in the cache, and returns it. It is fast
// when the kernel is cached (no apt call at all while apt's package lists
// are older than the last fetch, else one apt-cache call), and safe to call
// from several processes at once. When apt cannot resolve the version (no package
// lists, offline), the last fetched kernel is used.
func Fetch(ctx context.Context, opt FetchOptions) (Kernel, error) {
	if runtime.GOOS != "linux" {
		return Kernel{}, fmt.Errorf("lab: the kernel lab needs Linux with apt and qemu (this is %s)", runtime.GOOS)
	}
	cache := opt.CacheDir
	if cache == "" {
		cache = CacheDir()
	}
	logw := opt.Log
	if logw == nil {
		logw = io.Discard
	}
	kdir := filepath.Join(cache, "kernel")
	if err := os.MkdirAll(kdir, 0o755); err != nil {
		return Kernel{}, fmt.Errorf("lab: cache: %w", err)
	}
	unlock, err := lockFile(filepath.Join(cache, "fetch.lock"))
	if err != nil {
		return Kernel{}, err
	}
	defer unlock()

	latest := filepath.Join(kdir, "latest")
	// apt-cache costs seconds here (no pkgcache.bin in container images):
	// when apt's package lists have not changed since the last fetch, the
	// answer cannot have changed either.
	if listsUnchangedSince(latest) {
		if k, err := Cached(cache); err == nil {
			return k, nil
		}
	}
	pkg, release, rerr := resolveKernel(ctx, logw)
	if rerr != nil {
		b, err := os.ReadFile(latest)
		if err != nil {
			return Kernel{}, rerr
		}
		f := strings.Fields(string(b))
		if len(f) != 2 {
			return Kernel{}, fmt.Errorf("lab: %s is malformed (%q); and: %w", latest, b, rerr)
		}
		fmt.Fprintf(logw, "lab: %v; using the cached kernel %s\n", rerr, f[1])
		pkg, release = f[0], f[1]
	}
	dir := filepath.Join(kdir, release)
	if _, err := os.Stat(filepath.Join(dir, readyStamp)); err == nil {
		if rerr == nil {
			// Record the answer (and its time) for listsUnchangedSince.
			if err := os.WriteFile(latest, []byte(pkg+" "+release+"\n"), 0o644); err != nil {
				return Kernel{}, fmt.Errorf("lab: cache: %w", err)
			}
		}
		return loadKernel(dir, pkg, release)
	}
	if rerr != nil {
		return Kernel{}, rerr
	}
	start := time.Now()
	if err := download(ctx, logw, kdir, dir, pkg, release); err != nil {
		return Kernel{}, err
	}
	if err := os.WriteFile(latest, []byte(pkg+" "+release+"\n"), 0o644); err != nil {
		return Kernel{}, fmt.Errorf("lab: cache: %w", err)
	}
	fmt.Fprintf(logw, "lab: fetched %s in %.1fs into %s\n", pkg, time.Since(start).Seconds(), dir)
	pruneKernels(kdir, release, logw)
	return loadKernel(dir, pkg, release)
}

// Cached returns the most recently fetched kernel in cacheDir (default
// CacheDir()) without asking apt or the network; an error if there is none.
func Cached(cacheDir string) (Kernel, error) {
	if cacheDir == "" {
		cacheDir = CacheDir()
	}
	latest := filepath.Join(cacheDir, "kernel", "latest")
	b, err := os.ReadFile(latest)
	if err != nil {
		return Kernel{}, fmt.Errorf("lab: no kernel fetched yet (run: go run ./cmd/testbed lab fetch): %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return Kernel{}, fmt.Errorf("lab: %s is malformed (%q)", latest, b)
	}
	dir := filepath.Join(cacheDir, "kernel", f[1])
	if _, err := os.Stat(filepath.Join(dir, readyStamp)); err != nil {
		return Kernel{}, fmt.Errorf("lab: cached kernel %s is incomplete: %w", f[1], err)
	}
	return loadKernel(dir, f[0], f[1])
}

// aptLists is where apt keeps its package lists; `apt-get update` renames
// new lists into it, which changes the directory's modification time.
var aptLists = "/var/lib/apt/lists"

// listsUnchangedSince reports whether apt's package lists are older than
// the file stamp.
func listsUnchangedSince(stamp string) bool {
	st, err := os.Stat(stamp)
	if err != nil {
		return false
	}
	lists, err := os.Stat(aptLists)
	if err != nil {
		return false
	}
	return lists.ModTime().Before(st.ModTime())
}

// pruneKernels removes the cached kernels other than keep (about 440 MB
// each) once a newer one is in place, and leftovers of interrupted fetches.
func pruneKernels(kdir, keep string, logw io.Writer) {
	entries, err := os.ReadDir(kdir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == keep {
			continue
		}
		if err := os.RemoveAll(filepath.Join(kdir, e.Name())); err == nil {
			fmt.Fprintf(logw, "lab: removed the old cached kernel %s\n", e.Name())
		}
	}
}

// resolveKernel asks apt which kernel package linux-image-amd64 depends on,
// running `apt-get update` once when the package lists do not know it.
func resolveKernel(ctx context.Context, logw io.Writer) (pkg, release string, err error) {
	out, err := runCmd(ctx, "", "apt-cache", "depends", KernelMeta)
	if err == nil {
		if pkg, release, err = parseKernelDepends(out); err == nil {
			return pkg, release, nil
		}
	}
	fmt.Fprintf(logw, "lab: apt does not know %s yet; running apt-get update\n", KernelMeta)
	if _, uerr := runCmd(ctx, "", "apt-get", "update"); uerr != nil {
		return "", "", fmt.Errorf("lab: resolving %s: %v; apt-get update: %w", KernelMeta, err, uerr)
	}
	out, err = runCmd(ctx, "", "apt-cache", "depends", KernelMeta)
	if err != nil {
		return "", "", fmt.Errorf("lab: resolving %s: %w", KernelMeta, err)
	}
	return parseKernelDepends(out)
}

// download fetches pkg with apt-get download, unpacks it with dpkg-deb,
// extracts vmlinux and runs depmod, in a temporary directory renamed to dir
// at the end, so that an interrupted fetch leaves nothing half-done.
func download(ctx context.Context, logw io.Writer, kdir, dir, pkg, release string) error {
	tmp, err := os.MkdirTemp(kdir, release+".part-")
	if err != nil {
		return fmt.Errorf("lab: cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(logw, "lab: apt-get download %s\n", pkg)
	if _, err := runCmd(ctx, tmp, "apt-get", "download", pkg); err != nil {
		return fmt.Errorf("lab: downloading %s: %w", pkg, err)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("lab: apt-get download %s left %d .deb files in %s", pkg, len(debs), tmp)
	}
	root := filepath.Join(tmp, "root")
	fmt.Fprintf(logw, "lab: unpacking %s\n", filepath.Base(debs[0]))
	if _, err := runCmd(ctx, "", "dpkg-deb", "-x", debs[0], root); err != nil {
		return fmt.Errorf("lab: unpacking %s: %w", debs[0], err)
	}
	if err := os.Remove(debs[0]); err != nil {
		return fmt.Errorf("lab: cache: %w", err)
	}
	vmlinuz := filepath.Join(root, "boot", "vmlinuz-"+release)
	if _, err := os.Stat(vmlinuz); err != nil {
		return fmt.Errorf("lab: %s has no kernel image: %w", pkg, err)
	}
	if err := extractVmlinux(ctx, vmlinuz, filepath.Join(tmp, "vmlinux")); err != nil {
		// Booting the compressed image works too, only slower.
		fmt.Fprintf(logw, "lab: %v; will boot vmlinuz instead\n", err)
	}
	base := root
	if _, err := os.Stat(filepath.Join(root, "lib", "modules", release)); err != nil {
		base = filepath.Join(root, "usr") // merged-/usr packages
	}
	fmt.Fprintf(logw, "lab: depmod %s\n", release)
	if _, err := runCmd(ctx, "", "depmod", "-b", base, release); err != nil {
		return fmt.Errorf("lab: depmod of %s: %w", pkg, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, readyStamp), []byte(pkg+"\n"), 0o644); err != nil {
		return fmt.Errorf("lab: cache: %w", err)
	}
	os.RemoveAll(dir) // a stale, unfinished copy
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("lab: cache: %w", err)
	}
	return nil
}

// loadKernel describes a prepared cache directory.
func loadKernel(dir, pkg, release string) (Kernel, error) {
	k := Kernel{Release: release, Package: pkg, Dir: dir}
	k.Image = filepath.Join(dir, "vmlinux")
	if _, err := os.Stat(k.Image); err != nil {
		k.Image = filepath.Join(dir, "root", "boot", "vmlinuz-"+release)
	}
	for _, m := range []string{
		filepath.Join(dir, "root", "lib", "modules", release),
		filepath.Join(dir, "root", "usr", "lib", "modules", release),
	} {
		if _, err := os.Stat(filepath.Join(m, "modules.dep")); err == nil {
			k.ModulesDir = m
			return k, nil
		}
	}
	return Kernel{}, fmt.Errorf("lab: cached kernel %s in %s has no modules.dep; delete that directory and fetch again", release, dir)
}

// xzMagic starts an xz stream.
var xzMagic = []byte{0xFD, '7', 'z', 'X', 'Z', 0x00}

// extractVmlinux finds the xz stream inside a bzImage and decompresses it to
// out, checking that the result is an ELF file. Booting the ELF directly
// (PVH) saves seconds per boot under emulation.
func extractVmlinux(ctx context.Context, vmlinuz, out string) error {
	data, err := os.ReadFile(vmlinuz)
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	off := 0
	for {
		i := bytes.Index(data[off:], xzMagic)
		if i < 0 {
			return fmt.Errorf("lab: no xz-compressed ELF kernel found in %s", vmlinuz)
		}
		off += i
		if err := xzToELF(ctx, data[off:], out); err == nil {
			return nil
		}
		off += len(xzMagic)
	}
}

func xzToELF(ctx context.Context, stream []byte, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "xz", "-dc", "--single-stream")
	cmd.Stdin = bytes.NewReader(stream)
	cmd.Stdout = f
	cmd.Stderr = &stderr
	err = cmd.Run()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		head := make([]byte, 4)
		if g, oerr := os.Open(out); oerr == nil {
			_, err = io.ReadFull(g, head)
			g.Close()
		} else {
			err = oerr
		}
		if err == nil && !bytes.Equal(head, []byte("\x7fELF")) {
			err = errors.New("decompressed data is not ELF")
		}
	}
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("xz: %v %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// runCmd runs a command and returns its standard output; the error carries
// the command line and its standard error.
func runCmd(ctx context.Context, dir, name string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C")
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(firstLines(stderr.String(), 10)))
	}
	return stdout.String(), nil
}
