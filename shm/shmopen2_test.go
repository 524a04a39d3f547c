package shm

import "testing"

// TestShmOpen2Args checks the FreeBSD shm_open2(2) argument encoding with
// the values of FreeBSD's headers: O_RDWR 0x2, O_CREAT 0x200, O_EXCL 0x800,
// O_CLOEXEC 0x100000; system call 571.
func TestShmOpen2Args(t *testing.T) {
	if fbsdSysShmOpen2 != 571 || fbsdSysShmUnlink != 483 {
		t.Fatal("system call numbers")
	}
	a, err := shmOpen2For("/ikectx", true)
	if err != nil {
		t.Fatal(err)
	}
	if a.Path != "/ikectx" || a.Flags != 0x100a02 || a.Mode != 0o600 || a.ShmFlags != 0 {
		t.Fatalf("create: %+v", a)
	}
	a, err = shmOpen2For("/ikectx", false)
	if err != nil {
		t.Fatal(err)
	}
	if a.Flags != 0x100002 || a.Mode != 0o600 {
		t.Fatalf("open: %+v", a)
	}
	for _, bad := range []string{"", "/", "ikectx", "/a\x00b"} {
		if _, err := shmOpen2For(bad, true); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNormName(t *testing.T) {
	for in, want := range map[string]string{"x": "/x", "/x": "/x", "/ikectx.pAR": "/ikectx.pAR"} {
		if got, err := normName(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "/", "/a/b", "a/b", "/..", "/.", "/a\x00"} {
		if _, err := normName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
