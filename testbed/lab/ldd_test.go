package lab

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

func TestParseLdd(t *testing.T) {
	out := "\tlinux-vdso.so.1 (0x00007ffd)\n" +
		"\tlibbpf.so.1 => /lib/x86_64-linux-gnu/libbpf.so.1 (0x00007f96)\n" +
		"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f96)\n" +
		"\t/lib64/ld-linux-x86-64.so.2 (0x00007f96)\n"
	libs, err := parseLdd(out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(libs), "[/lib/x86_64-linux-gnu/libbpf.so.1 /lib/x86_64-linux-gnu/libc.so.6 /lib64/ld-linux-x86-64.so.2]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if libs, err := parseLdd("\tnot a dynamic executable\n"); err != nil || len(libs) != 0 {
		t.Errorf("static: %v %v", libs, err)
	}
	if _, err := parseLdd("\tlibmissing.so.3 => not found\n"); err == nil {
		t.Error("missing library accepted")
	}
}

// A File marked Executable brings the libraries ldd lists, also for a
// shared object (no PT_INTERP, only PT_DYNAMIC), at their host paths.
func TestAddFileExecutableLibraries(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ldd and ELF shared objects: Linux")
	}
	if _, err := exec.LookPath("ldd"); err != nil {
		t.Skip("no ldd")
	}
	so, err := filepath.Glob("/lib/x86_64-linux-gnu/libm.so.6")
	if err != nil || len(so) == 0 {
		t.Skip("no /lib/x86_64-linux-gnu/libm.so.6 to try")
	}
	file := filepath.Join(t.TempDir(), "initrd.cpio")
	im, err := newImage(file, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := addFile(ctx, im, File{Guest: "/x/libm-copy.so", Host: so[0], Executable: true}); err != nil {
		t.Fatal(err)
	}
	if !im.has("/x/libm-copy.so") {
		t.Error("the shared object itself is missing")
	}
	// libm needs libc; ldd lists it by the path it resolves.
	libs, _ := runCmd(ctx, "", "ldd", so[0])
	want, err := parseLdd(libs)
	if err != nil || len(want) == 0 {
		t.Fatalf("ldd %s: %v %q", so[0], err, libs)
	}
	for _, l := range want {
		if !im.has(l) {
			t.Errorf("library %s not added", l)
		}
	}
	if err := im.Close(); err != nil {
		t.Fatal(err)
	}
	// Without the flag only the file itself.
	im2, err := newImage(filepath.Join(t.TempDir(), "initrd.cpio"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer im2.Close()
	if err := addFile(ctx, im2, File{Guest: "/x/libm-copy.so", Host: so[0]}); err != nil {
		t.Fatal(err)
	}
	if im2.has(want[0]) {
		t.Errorf("%s added without Executable", want[0])
	}
}
