package lab

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readCpio is a test-only newc reader: it checks the magic, the hex fields,
// the 4-byte alignment and the trailer, and returns the entries with data.
func readCpio(t *testing.T, b []byte) ([]cpioHeader, map[string][]byte) {
	t.Helper()
	var hs []cpioHeader
	data := map[string][]byte{}
	off := 0
	field := func(i int) uint32 {
		s := string(b[off+6+8*i : off+6+8*i+8])
		v, err := strconv.ParseUint(s, 16, 32)
		if err != nil {
			t.Fatalf("offset %d: field %d %q: %v", off, i, s, err)
		}
		return uint32(v)
	}
	for {
		if off%4 != 0 {
			t.Fatalf("entry at offset %d not 4-aligned", off)
		}
		if off+110 > len(b) {
			t.Fatalf("truncated header at %d (len %d)", off, len(b))
		}
		if string(b[off:off+6]) != "070701" {
			t.Fatalf("bad magic %q at %d", b[off:off+6], off)
		}
		h := cpioHeader{Mode: field(1), UID: field(2), GID: field(3), Nlink: field(4), Mtime: field(5), Size: field(6), RdevMajor: field(9), RdevMinor: field(10)}
		namesize := int(field(11))
		nameStart := off + 110
		if b[nameStart+namesize-1] != 0 {
			t.Fatalf("name at %d not NUL-terminated", nameStart)
		}
		h.Name = string(b[nameStart : nameStart+namesize-1])
		off = nameStart + namesize
		off = (off + 3) &^ 3
		d := b[off : off+int(h.Size)]
		off += int(h.Size)
		off = (off + 3) &^ 3
		if h.Name == "TRAILER!!!" {
			if off != len(b) {
				t.Fatalf("%d bytes after the trailer", len(b)-off)
			}
			return hs, data
		}
		hs = append(hs, h)
		data[h.Name] = d
	}
}

func TestCpioWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := newCpioWriter(&buf)
	entries := []struct {
		h    cpioHeader
		data string
	}{
		{cpioHeader{Name: "bin", Mode: cpioDir | 0o755}, ""},
		{cpioHeader{Name: "/bin/a", Mode: cpioReg | 0o755, Size: 1}, "x"}, // odd sizes exercise padding
		{cpioHeader{Name: "bin/bb", Mode: cpioReg | 0o644, Size: 6}, "hello\n"},
		{cpioHeader{Name: "bin/sh", Mode: cpioSymlink | 0o777, Size: 7}, "busybox"},
		{cpioHeader{Name: "dev/console", Mode: cpioChar | 0o600, RdevMajor: 5, RdevMinor: 1}, ""},
	}
	for _, e := range entries {
		if err := w.WriteEntry(e.h, strings.NewReader(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEntry(cpioHeader{Name: "late", Mode: cpioReg}, nil); err == nil {
		t.Error("entry after the trailer accepted")
	}
	hs, data := readCpio(t, buf.Bytes())
	if len(hs) != len(entries) {
		t.Fatalf("read %d entries, want %d", len(hs), len(entries))
	}
	for i, e := range entries {
		want := e.h
		want.Name = strings.TrimPrefix(want.Name, "/")
		got := hs[i]
		if got.Name != want.Name || got.Mode != want.Mode || got.Size != want.Size || got.RdevMajor != want.RdevMajor || got.RdevMinor != want.RdevMinor {
			t.Errorf("entry %d = %+v, want %+v", i, got, want)
		}
		if string(data[want.Name]) != e.data {
			t.Errorf("%s data %q, want %q", want.Name, data[want.Name], e.data)
		}
	}
	if hs[0].Nlink != 2 || hs[1].Nlink != 1 {
		t.Errorf("nlink dir %d file %d, want 2 and 1", hs[0].Nlink, hs[1].Nlink)
	}

	// The system's cpio, where installed, must agree.
	if cpio, err := exec.LookPath("cpio"); err == nil {
		cmd := exec.Command(cpio, "-it", "--quiet")
		cmd.Stdin = bytes.NewReader(buf.Bytes())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("cpio -it: %v", err)
		}
		if got, want := strings.Fields(string(out)), []string{"bin", "bin/a", "bin/bb", "bin/sh", "dev/console"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("cpio -it lists %v, want %v", got, want)
		}
	} else {
		t.Log("cpio not installed: checked with the test's own reader only")
	}
}

func TestCpioWriterErrors(t *testing.T) {
	w := newCpioWriter(io.Discard)
	if err := w.WriteEntry(cpioHeader{Name: "", Mode: cpioReg}, nil); err == nil {
		t.Error("empty name accepted")
	}
	if err := w.WriteEntry(cpioHeader{Name: "a", Mode: cpioReg, Size: 4}, strings.NewReader("ab")); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("short data: err = %v, want one naming the entry", err)
	}
	if err := w.WriteEntry(cpioHeader{Name: "b", Mode: cpioReg, Size: 4}, nil); err == nil {
		t.Error("missing data accepted")
	}
}

func TestImageParentsAndDuplicates(t *testing.T) {
	dir := t.TempDir()
	host := filepath.Join(dir, "tree")
	os.MkdirAll(filepath.Join(host, "sub"), 0o755)
	os.WriteFile(filepath.Join(host, "sub", "f.txt"), []byte("data"), 0o600)
	os.Symlink("sub/f.txt", filepath.Join(host, "link"))
	exe := filepath.Join(dir, "exe")
	os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)

	file := filepath.Join(dir, "initrd.gz")
	im, err := newImage(file, true)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(im.Data("/a/b/c/file", []byte("abc"), 0o640))
	must(im.File("/usr/local/bin/exe", exe))
	must(im.Tree("/ikectx/examples", host))
	must(im.Symlink("/var/run", "../run"))
	must(im.Dir("/a/b", 0o755)) // already there: fine
	if err := im.Data("/a/b/c/file", nil, 0o644); err == nil {
		t.Error("duplicate path accepted")
	}
	if err := im.Data("/a/b/c/file/x", nil, 0o644); err == nil {
		t.Error("a file used as a directory accepted")
	}
	if err := im.Data("/", nil, 0o644); err == nil {
		t.Error("the root accepted as a file")
	}
	must(im.Close())

	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	hs, data := readCpio(t, raw)
	var names []string
	modes := map[string]uint32{}
	for _, h := range hs {
		names = append(names, h.Name)
		modes[h.Name] = h.Mode
	}
	want := []string{"a", "a/b", "a/b/c", "a/b/c/file", "usr", "usr/local", "usr/local/bin", "usr/local/bin/exe",
		"ikectx", "ikectx/examples", "ikectx/examples/link", "ikectx/examples/sub", "ikectx/examples/sub/f.txt", "var", "var/run"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("entries\n %v\nwant\n %v", names, want)
	}
	if modes["a/b/c/file"] != cpioReg|0o640 || modes["usr/local/bin/exe"] != cpioReg|0o755 || modes["var/run"]&cpioTypeMask != cpioSymlink {
		t.Errorf("modes %o %o %o", modes["a/b/c/file"], modes["usr/local/bin/exe"], modes["var/run"])
	}
	if string(data["ikectx/examples/link"]) != "sub/f.txt" || string(data["ikectx/examples/sub/f.txt"]) != "data" {
		t.Errorf("tree contents: link %q file %q", data["ikectx/examples/link"], data["ikectx/examples/sub/f.txt"])
	}
}

func TestImagePlain(t *testing.T) {
	file := filepath.Join(t.TempDir(), "initrd.cpio")
	im, err := newImage(file, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Data("/etc/x", []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := im.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	hs, data := readCpio(t, raw)
	if len(hs) != 2 || hs[0].Name != "etc" || string(data["etc/x"]) != "12345" {
		t.Errorf("entries %+v", hs)
	}
}
