package lab

import (
	"fmt"
	"strings"
	"testing"
)

const sampleDep = `kernel/net/key/af_key.ko: kernel/net/xfrm/xfrm_algo.ko
kernel/net/xfrm/xfrm_algo.ko:
kernel/net/ipv4/esp4.ko: kernel/net/xfrm/xfrm_algo.ko kernel/crypto/authenc.ko
kernel/crypto/authenc.ko:
kernel/net/sctp/sctp.ko: kernel/net/ipv6/ip6_udp_tunnel.ko kernel/net/ipv4/udp_tunnel.ko kernel/lib/libcrc32c.ko
kernel/net/ipv6/ip6_udp_tunnel.ko:
kernel/net/ipv4/udp_tunnel.ko:
kernel/lib/libcrc32c.ko:
kernel/crypto/crc32c_generic.ko:
kernel/crypto/aes_generic.ko:
kernel/crypto/ghash-generic.ko:
kernel/crypto/sha256_generic.ko:
`

const sampleAlias = `# Aliases extracted from modules themselves.
alias crypto-aes aes_generic
alias aes aes_generic
alias sha256 sha256_generic
alias net-pf-15 af_key
alias crypto-cbc cbc
`

const sampleBuiltin = `kernel/crypto/cbc.ko
kernel/crypto/hmac.ko
`

func sampleIndex(t *testing.T) *modIndex {
	t.Helper()
	idx := &modIndex{path: map[string]string{}, deps: map[string][]string{}, alias: map[string][]string{}, builtin: map[string]bool{}}
	if err := parseModulesDep(strings.NewReader(sampleDep), idx); err != nil {
		t.Fatal(err)
	}
	if err := parseModulesAlias(strings.NewReader(sampleAlias), idx); err != nil {
		t.Fatal(err)
	}
	if err := parseModulesBuiltin(strings.NewReader(sampleBuiltin), idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestModName(t *testing.T) {
	for in, want := range map[string]string{
		"kernel/crypto/ghash-generic.ko": "ghash_generic",
		"ghash-generic":                  "ghash_generic",
		"kernel/net/key/af_key.ko.xz":    "af_key",
		"esp4":                           "esp4",
	} {
		if got := modName(in); got != want {
			t.Errorf("modName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolveModules(t *testing.T) {
	idx := sampleIndex(t)
	plan, err := idx.resolve([]string{"crc32c_generic", "af_key", "esp4", "sctp", "cbc", "hmac", "aes", "sha256", "ghash-generic", "af_key"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(plan.Load), "[crc32c_generic af_key esp4 sctp aes_generic sha256_generic ghash_generic]"; got != want {
		t.Errorf("load %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(plan.Builtin), "[cbc hmac]"; got != want {
		t.Errorf("builtin %s, want %s", got, want)
	}
	want := []string{
		"kernel/crypto/aes_generic.ko", "kernel/crypto/authenc.ko", "kernel/crypto/crc32c_generic.ko",
		"kernel/crypto/ghash-generic.ko", "kernel/crypto/sha256_generic.ko", "kernel/lib/libcrc32c.ko",
		"kernel/net/ipv4/esp4.ko", "kernel/net/ipv4/udp_tunnel.ko", "kernel/net/ipv6/ip6_udp_tunnel.ko",
		"kernel/net/key/af_key.ko", "kernel/net/sctp/sctp.ko", "kernel/net/xfrm/xfrm_algo.ko",
	}
	if fmt.Sprint(plan.Files) != fmt.Sprint(want) {
		t.Errorf("files\n %v\nwant\n %v", plan.Files, want)
	}
}

func TestResolveModulesErrors(t *testing.T) {
	idx := sampleIndex(t)
	if _, err := idx.resolve([]string{"nosuchmod"}); err == nil || !strings.Contains(err.Error(), `"nosuchmod"`) {
		t.Errorf("unknown module: err = %v", err)
	}
	idx.deps["af_key"] = append(idx.deps["af_key"], "ghost")
	if _, err := idx.resolve([]string{"af_key"}); err == nil || !strings.Contains(err.Error(), "ghost") || !strings.Contains(err.Error(), "af_key") {
		t.Errorf("missing dependency: err = %v", err)
	}
	bad := &modIndex{path: map[string]string{}, deps: map[string][]string{}}
	if err := parseModulesDep(strings.NewReader("kernel/a.ko kernel/b.ko\n"), bad); err == nil || !strings.Contains(err.Error(), "modules.dep:1") {
		t.Errorf("malformed modules.dep: err = %v", err)
	}
}
