package shm

import (
	"os"
	"strings"
	"testing"
	"time"
)

// On Linux the objects are files, so bad ones can be planted directly.

// TestOpenRefusesBadObjects: an object that is not a segment, one of a
// newer layout, one whose creator died before finishing, and a symbolic
// link are all refused with an error naming the cause.
func TestOpenRefusesBadObjects(t *testing.T) {
	dir := t.TempDir()
	o := &Options{Dir: dir, InitTimeout: 50 * time.Millisecond}
	garbage := make([]byte, 4096)
	copy(garbage, "not a segment")
	if err := os.WriteFile(dir+"/garbage", garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open("/garbage", RoleCXTP, o); err == nil || !strings.Contains(err.Error(), "bad magic") {
		t.Fatalf("garbage: %v", err)
	}
	img := goldenImage()
	img[8] = 9
	if err := os.WriteFile(dir+"/newer", img, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open("/newer", RoleCXTP, o); err == nil || !strings.Contains(err.Error(), "layout version 9") {
		t.Fatalf("newer layout: %v", err)
	}
	if err := os.WriteFile(dir+"/empty", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open("/empty", RoleCXTP, o); err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("never initialized: %v", err)
	}
	if err := os.WriteFile(dir+"/half", make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open("/half", RoleCXTP, o); err == nil || !strings.Contains(err.Error(), "not initialized") {
		t.Fatalf("half initialized: %v", err)
	}
	if err := os.Symlink(dir+"/garbage", dir+"/link"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open("/link", RoleCXTP, o); err == nil {
		t.Fatal("symbolic link followed")
	}
	// A header that promises more than the object holds.
	img = goldenImage()[:200]
	if err := os.WriteFile(dir+"/short", img, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open("/short", RoleCXTP, o); err == nil || !strings.Contains(err.Error(), "needs 256") {
		t.Fatalf("short object: %v", err)
	}
	// The object is created with mode 0600.
	s, err := Open("/fresh", RoleCXTP, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := os.Stat(dir + "/fresh")
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&^0o600 != 0 {
		t.Fatalf("mode %v", st.Mode())
	}
	if err := Unlink("/fresh", o); err != nil {
		t.Fatal(err)
	}
	if err := Unlink("/fresh", o); err == nil {
		t.Fatal("second unlink succeeded")
	}
}
