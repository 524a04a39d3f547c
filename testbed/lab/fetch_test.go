package lab

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestListsUnchangedSince(t *testing.T) {
	dir := t.TempDir()
	lists := filepath.Join(dir, "lists")
	os.Mkdir(lists, 0o755)
	stamp := filepath.Join(dir, "latest")
	old := aptLists
	aptLists = lists
	defer func() { aptLists = old }()

	if listsUnchangedSince(stamp) {
		t.Error("no stamp yet, but lists count as unchanged")
	}
	os.WriteFile(stamp, []byte("linux-image-6.1.0-56-amd64 6.1.0-56-amd64\n"), 0o644)
	now := time.Now()
	os.Chtimes(lists, now.Add(-time.Hour), now.Add(-time.Hour))
	if !listsUnchangedSince(stamp) {
		t.Error("lists older than the stamp count as changed")
	}
	os.Chtimes(lists, now.Add(time.Hour), now.Add(time.Hour)) // apt-get update ran after the fetch
	if listsUnchangedSince(stamp) {
		t.Error("lists newer than the stamp count as unchanged")
	}
}

func TestCachedLayout(t *testing.T) {
	cache := t.TempDir()
	if _, err := Cached(cache); err == nil {
		t.Fatal("empty cache gave a kernel")
	}
	rel := "6.1.0-56-amd64"
	kd := filepath.Join(cache, "kernel", rel)
	mods := filepath.Join(kd, "root", "lib", "modules", rel)
	os.MkdirAll(mods, 0o755)
	os.WriteFile(filepath.Join(mods, "modules.dep"), nil, 0o644)
	os.WriteFile(filepath.Join(kd, "vmlinux"), []byte("\x7fELF"), 0o644)
	os.WriteFile(filepath.Join(cache, "kernel", "latest"), []byte("linux-image-"+rel+" "+rel+"\n"), 0o644)
	if _, err := Cached(cache); err == nil {
		t.Fatal("a kernel without its READY stamp was used")
	}
	os.WriteFile(filepath.Join(kd, readyStamp), nil, 0o644)
	k, err := Cached(cache)
	if err != nil {
		t.Fatal(err)
	}
	if k.Release != rel || k.Image != filepath.Join(kd, "vmlinux") || k.ModulesDir != mods || k.Package != "linux-image-"+rel {
		t.Errorf("kernel %+v", k)
	}
	os.Remove(filepath.Join(kd, "vmlinux"))
	if k, _ := Cached(cache); k.Image != filepath.Join(kd, "root", "boot", "vmlinuz-"+rel) {
		t.Errorf("without vmlinux the image is %s, want the vmlinuz", k.Image)
	}
}

func TestPruneKernels(t *testing.T) {
	kdir := t.TempDir()
	for _, d := range []string{"6.1.0-55-amd64", "6.1.0-56-amd64", "6.1.0-56-amd64.part-123"} {
		os.MkdirAll(filepath.Join(kdir, d, "root"), 0o755)
	}
	os.WriteFile(filepath.Join(kdir, "latest"), nil, 0o644)
	pruneKernels(kdir, "6.1.0-56-amd64", io.Discard)
	entries, _ := os.ReadDir(kdir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if fmt.Sprint(names) != "[6.1.0-56-amd64 latest]" {
		t.Errorf("after pruning: %v", names)
	}
}
