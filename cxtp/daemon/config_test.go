package daemon

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestExampleConfigsAccepted(t *testing.T) {
	files, err := filepath.Glob("../../examples/cxtpd/*.toml")
	if err != nil || len(files) < 3 {
		t.Fatalf("example configs: %v %v", files, err)
	}
	for _, f := range files {
		c, err := LoadConfig(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if c.Role == "" || !c.Address.IsValid() {
			t.Errorf("%s: decoded nothing: %+v", f, c)
		}
	}
}

func TestBrokenConfigRejectedWithLine(t *testing.T) {
	_, err := LoadConfig("testdata/broken.toml")
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want ConfigError, got %v", err)
	}
	if ce.Line != 11 || !strings.Contains(err.Error(), "broken.toml:11:") || !strings.Contains(err.Error(), "transport") {
		t.Fatalf("error does not name line 11 and the key: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	base := `role = "ar"
address = "2001:db8:a::1"
interface = "i"
control = "/run/x.sock"
[shm]
name = "/x"
`
	peer := "[[peer]]\naddress = \"2001:db8:a::2\"\n"
	mod := "[[module]]\nname = \"m\"\nfpts = [1]\n"
	cases := []struct {
		name, text, wantKey string
		wantLine            int
	}{
		{"unknown key", "colour = 1\n" + base + peer + mod, "colour", 1},
		{"unknown key in table", base + peer + "protectd = true\n" + mod, "peer.protectd", 9},
		{"bad address", strings.Replace(base, "2001:db8:a::1", "2001:zz::1", 1) + peer + mod, "address", 2},
		{"bad role", strings.Replace(base, `"ar"`, `"router"`, 1) + peer + mod, "role", 1},
		{"no peer", base + mod, "peer", 0},
		{"dup peer", base + peer + peer + mod, "peer[1].address", 10},
		{"bad key hex", base + peer + mod + "[[mn]]\naddress = \"2001:db8::9\"\nkey = \"zz\"\n", "mn.key", 14},
		{"short key", base + peer + mod + "[[mn]]\naddress = \"2001:db8::9\"\nkey = \"0011\"\n", "mn.key", 14},
		{"dup fpt", base + peer + mod + "[[module]]\nname = \"n\"\nfpts = [1]\n", "module[1].fpts", 14},
		{"after_ack not in fpts", base + peer + "[[module]]\nname = \"m\"\nfpts = [1]\nafter_ack = [2]\n", "module[0].after_ack", 12},
		{"bad duration", base + "[timers]\ncontext_lifetime = \"soon\"\n" + peer + mod, "timers.context_lifetime", 8},
		{"negative after_ack_delay", base + "[timers]\nafter_ack_delay = \"-1s\"\n" + peer + mod, "timers.after_ack_delay", 8},
		{"syntax", base + "x = = 1\n", "", 7},
	}
	for _, tc := range cases {
		_, err := ParseConfig("t.toml", []byte(tc.text))
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: want ConfigError, got %v", tc.name, err)
			continue
		}
		if ce.Line != tc.wantLine || (tc.wantKey != "" && ce.Key != tc.wantKey) {
			t.Errorf("%s: got line %d key %q (%v); want line %d key %q", tc.name, ce.Line, ce.Key, err, tc.wantLine, tc.wantKey)
		}
	}
}

func TestKeyNeverInError(t *testing.T) {
	secret := "deadbeefdeadbeefdeadbeefdeadbeefXX"
	text := "role = \"mn\"\naddress = \"2001:db8::1\"\ninterface = \"i\"\ncontrol = \"/c\"\n[mobile]\nar = \"2001:db8::2\"\nkey = \"" + secret + "\"\n"
	_, err := ParseConfig("t.toml", []byte(text))
	if err == nil || strings.Contains(err.Error(), "deadbeef") {
		t.Fatalf("error must reject and not echo key text: %v", err)
	}
	c, err := ParseConfig("t.toml", []byte(strings.Replace(text, "XX", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Mobile.Key.String(); strings.Contains(s, "de") {
		t.Fatalf("String shows key: %s", s)
	}
}
