package psk

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixturesDir finds shared/fixtures beside the repository (walking up).
func fixturesDir(t testing.TB) string {
	dir, _ := os.Getwd()
	for {
		for _, c := range []string{filepath.Join(dir, "shared", "fixtures"), filepath.Join(dir, "..", "shared", "fixtures")} {
			if _, err := os.Stat(filepath.Join(c, "MANIFEST.tsv")); err == nil {
				return c
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared/fixtures/MANIFEST.tsv not found beside the repository: fixture tests skipped")
		}
		dir = parent
	}
}

func mustKey(t *testing.T, f *File, id string) string {
	t.Helper()
	k, err := f.Lookup(id)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", id, err)
	}
	return string(k.Bytes())
}

func TestFixtures(t *testing.T) {
	dir := fixturesDir(t)
	read := func(name string) *File {
		b, err := os.ReadFile(filepath.Join(dir, "psk", name))
		if err != nil {
			t.Fatal(err)
		}
		return Parse(name, b)
	}

	f := read("01-ipsec-tools-psk.txt.sample")
	for id, want := range map[string]string{
		"10.160.94.3":                          "mekmitasdigoat",
		"172.16.1.133":                         "\x12\x34\x56\x78",
		"194.100.55.1":                         "whatcertificatereally",
		"3ffe:501:410:ffff:200:86ff:fe05:80fa": "mekmitasdigoat",
		"foo@kame.net":                         "mekmitasdigoat",
		"foo.kame.net":                         "hoge",
	} {
		if got := mustKey(t, f, id); got != want {
			t.Errorf("01 %s: got %q want %q", id, got, want)
		}
	}
	if len(f.Entries) != 7 {
		t.Errorf("01: %d entries, want 7", len(f.Entries))
	}
	if _, err := f.Lookup("# IPv4/v6 addresses"); !errors.Is(err, ErrNotFound) {
		t.Errorf("comment line matched: %v", err)
	}
	// main mode: by the numeric address
	k, err := f.LookupMain(netip.MustParseAddr("3ffe:501:410:ffff:210:4bff:fea2:8baa"))
	if err != nil || string(k.Bytes()) != "mekmitasdigoat" {
		t.Errorf("LookupMain: %v %v", k, err)
	}

	f = read("02-ipsec-tools-psk.txt.in")
	if got := mustKey(t, f, "kame"); got != "hoge" { // two tabs separate the fields
		t.Errorf("02 kame: %q", got)
	}
	if got := mustKey(t, f, "206.175.161.182"); got != "mekmitasdigoat" {
		t.Errorf("02: %q", got)
	}

	f = read("03-openmandriva-psk.txt")
	if len(f.Entries) != 0 {
		t.Errorf("03: comments only, got %d entries", len(f.Entries))
	}

	f = read("04-docker-aws-psk.txt")
	if got := mustKey(t, f, "52.11.135.168"); got != "mimamamemima" {
		t.Errorf("04: %q", got)
	}

	// the fixtures are stored read-only for everyone (0444): racoon's
	// safefile check refuses such a file
	if _, err := Load(filepath.Join(dir, "psk", "04-docker-aws-psk.txt")); err == nil || !strings.Contains(err.Error(), "weak file permission") {
		t.Errorf("a world-readable fixture was accepted: %v", err)
	}

	f = read("05-freebsd-psk.txt")
	if got := mustKey(t, f, "172.16.5.4"); got != "uThvJHRZmZ8pCplL0Bc5gL7NMmcM568rCVh+t-L0Afk6jgOduInOlDcj7ckxvYk" || len(got) != 63 {
		t.Errorf("05: %q", got)
	}
}

func TestQuirks(t *testing.T) {
	src := "" +
		"  # not a comment: column 0 is a space\n" +
		"#10.0.0.1 commented\n" +
		"10.0.0.1 key with  inner spaces \r\n" +
		"10.0.0.1 second line never reached\n" +
		"alone\n" +
		"blank   \n" +
		"hex 0x00ff 10\tAB\r\n" +
		"badhex 0x12z4\n" +
		"oddhex 0x123\n" +
		"quoted \"q\"\n" +
		"*\twild\n" +
		"after-wild never\n"
	f := Parse("t", []byte(src))
	if got := mustKey(t, f, "10.0.0.1"); got != "key with  inner spaces \r" {
		t.Errorf("key to end of line: %q", got)
	}
	if got := mustKey(t, f, "hex"); got != "\x00\xff\x10\xab" {
		t.Errorf("hex: %x", got)
	}
	if got := mustKey(t, f, "quoted"); got != `"q"` {
		t.Errorf("quotes kept: %q", got)
	}
	for _, id := range []string{"badhex", "oddhex"} {
		if _, err := f.Lookup(id); err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "t:") {
			t.Errorf("%s: want a line error, got %v", id, err)
		}
	}
	// "alone" and "blank" have no key: skipped, so the wildcard answers
	for _, id := range []string{"alone", "blank", "after-wild", "unknown"} {
		if got := mustKey(t, f, id); got != "wild" {
			t.Errorf("%s: %q, want the wildcard", id, got)
		}
	}
	// "  # not..." has an empty identifier
	if got := mustKey(t, f, ""); got != "# not a comment: column 0 is a space" {
		t.Errorf("empty id: %q", got)
	}
}

func TestAggressiveLookup(t *testing.T) {
	f := Parse("t", []byte("peer.example.com fqdnkey\nuser@example.com userkey\n2001:db8::1 addrkey\n"))
	peer := netip.MustParseAddr("2001:db8::1")
	for _, c := range []struct {
		id     string
		verify bool
		want   string
		err    bool
	}{
		{"peer.example.com", false, "fqdnkey", false},
		{"user@example.com", true, "userkey", false},
		{"other.example.com", false, "addrkey", false},
		{"other.example.com", true, "", true},
		{"", false, "addrkey", false},
	} {
		k, err := f.LookupAggressive([]byte(c.id), peer, c.verify)
		if c.err {
			if err == nil {
				t.Errorf("%+v: want an error", c)
			}
			continue
		}
		if err != nil || string(k.Bytes()) != c.want {
			t.Errorf("%+v: got %v %v", c, k, err)
		}
	}
	// main mode ignores identities; IPv6 is matched in compressed form
	if _, err := f.LookupMain(netip.MustParseAddr("2001:0db8:0:0::1")); err != nil {
		t.Errorf("compressed IPv6 lookup: %v", err)
	}
}

func TestLongLineChunks(t *testing.T) {
	long := "id " + strings.Repeat("k", 1100) + "\n"
	f := Parse("t", []byte(long))
	// fgets returns 1023 bytes, then the rest as a line of its own
	if len(f.Entries) != 1 || f.Entries[0].key.Len() != 1020 {
		t.Fatalf("entries %d", len(f.Entries))
	}
	f = Parse("t", []byte("id "+strings.Repeat("k", 1020)+" second 2\n"))
	if got := mustKey(t, f, "id"); len(got) != 1020 {
		t.Errorf("first chunk key length %d", len(got))
	}
}

func TestLoadPermissions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "psk.txt")
	if err := os.WriteFile(p, []byte("10.0.0.1 secret\n"), 0600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(p)
	if err != nil {
		t.Fatalf("0600: %v", err)
	}
	if got := mustKey(t, f, "10.0.0.1"); got != "secret" {
		t.Errorf("%q", got)
	}
	for _, mode := range []os.FileMode{0640, 0604, 0644, 0660, 0601} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), "weak file permission") || !strings.Contains(err.Error(), p) {
			t.Errorf("mode %o: %v", mode, err)
		}
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "regular") {
		t.Errorf("directory: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("missing file accepted")
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	f := Parse("t", []byte("a supersecretvalue\n"))
	k, _ := f.Lookup("a")
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), fmt.Sprintf("%v", f)} {
		if strings.Contains(s, "supersecretvalue") {
			t.Errorf("key printed: %s", s)
		}
	}
	b := k.Bytes()
	f.Wipe()
	if !bytes.Equal(b, make([]byte, len(b))) {
		t.Errorf("Wipe left %q", b)
	}
	if _, err := f.Lookup("a"); err == nil {
		t.Errorf("lookup after Wipe succeeded")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("10.0.0.1 key\n* 0x0102\n#c\n"))
	f.Add([]byte("a 0x\n\x00 b\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pf := Parse("fuzz", b)
		for _, e := range pf.Entries {
			if _, err := pf.Lookup(e.ID); err != nil && errors.Is(err, ErrNotFound) {
				t.Fatalf("entry %q not found", e.ID)
			}
		}
		pf.LookupAggressive(b, netip.MustParseAddr("10.0.0.1"), false)
		pf.Wipe()
	})
}

// TestAggressiveFallbackAsLogged: in aggr-transport.log, racoon looks the key
// up by the peer's ID payload (an IPV6_ADDR: 16 raw bytes), logs "couldn't
// find the proper pskey, try to get one by the peer's address", and finds it
// by address.
func TestAggressiveFallbackAsLogged(t *testing.T) {
	f := Parse("psk-A.txt", []byte("fd00::2\tlabkey\n"))
	peer := netip.MustParseAddr("fd00::2")
	raw := peer.As16()
	k, err := f.LookupAggressive(raw[:], peer, false)
	if err != nil || string(k.Bytes()) != "labkey" {
		t.Fatalf("%v %v", k, err)
	}
	if _, err := f.LookupAggressive(raw[:], peer, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("verify_identifier on: %v", err)
	}
}
