package lab

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultModules are the kernel modules the lab loads at boot: PF_KEY and
// XFRM, ESP and AH for IPv4 and IPv6 with every cipher setkey knows (AES
// CBC/CTR/GCM/CCM, 3DES, Blowfish, CAST, Camellia, Twofish, Serpent,
// ChaCha20-Poly1305, HMAC-SHA1/256/384/512, RIPEMD-160, XCBC, CMAC) and the
// RNG the IV generators need, IPComp, veth and dummy links, IP tunnels,
// SCTP, and netem. Names built into the kernel are skipped.
var DefaultModules = []string{
	// crc32c_generic first: busybox modprobe ignores libcrc32c's softdep.
	"crc32c_generic",
	"af_key", "xfrm_algo", "xfrm_user", "esp4", "esp6", "echainiv", "authenc",
	"drbg", "jitterentropy_rng", "sha3_generic", "ctr", "sha512_generic", "sha256",
	"cbc", "aes", "hmac", "veth",
	"libcrc32c", "udp_tunnel", "ip6_udp_tunnel", "sctp",
	"sch_netem",
	"gcm", "ghash-generic",
	"dummy",
	// Tunnel-mode XFRM and IP-in-IP tunnels (IPv6 mobility uses them).
	"xfrm4_tunnel", "xfrm6_tunnel", "tunnel4", "tunnel6", "ip6_tunnel",
	// AH, IPComp and the rest of setkey's algorithms, so that REGISTER
	// lists them (it shows only what is loaded).
	"ah4", "ah6", "ipcomp", "ipcomp6", "xfrm_ipcomp",
	"des_generic", "des3_ede", "xcbc", "cmac", "rmd160", "blowfish_generic",
	"camellia_generic", "twofish_generic", "cast5_generic", "serpent_generic",
	"chacha20poly1305", "ccm", "seqiv", "authencesn",
}

// modName is a module's canonical name: its file's base name without ".ko"
// (and any compression suffix), with '-' as '_', as modprobe treats them.
func modName(s string) string {
	s = path.Base(s)
	for _, suf := range []string{".xz", ".gz", ".zst"} {
		s = strings.TrimSuffix(s, suf)
	}
	s = strings.TrimSuffix(s, ".ko")
	return strings.ReplaceAll(s, "-", "_")
}

// modIndex is what depmod knows about a kernel's modules.
type modIndex struct {
	path    map[string]string   // module name -> path relative to the modules dir
	deps    map[string][]string // module name -> names it depends on (all of them, as depmod lists)
	alias   map[string][]string // alias (e.g. "crypto-aes") -> module names
	builtin map[string]bool     // names built into the kernel image
}

// parseModulesDep reads modules.dep lines "kernel/a.ko: kernel/b.ko kernel/c.ko".
func parseModulesDep(r io.Reader, idx *modIndex) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		mod, deps, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("modules.dep:%d: no ':' in %q", n, line)
		}
		name := modName(mod)
		idx.path[name] = strings.TrimSpace(mod)
		var dl []string
		for _, d := range strings.Fields(deps) {
			dl = append(dl, modName(d))
		}
		idx.deps[name] = dl
	}
	return sc.Err()
}

// parseModulesAlias reads modules.alias lines "alias crypto-aes aes_generic".
func parseModulesAlias(r io.Reader, idx *modIndex) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "alias" {
			idx.alias[f[1]] = append(idx.alias[f[1]], modName(f[2]))
		}
	}
	return sc.Err()
}

// parseModulesBuiltin reads modules.builtin lines "kernel/crypto/cbc.ko".
func parseModulesBuiltin(r io.Reader, idx *modIndex) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			idx.builtin[modName(l)] = true
		}
	}
	return sc.Err()
}

// loadModIndex reads modules.dep, modules.alias and modules.builtin from a
// kernel's modules directory (after depmod).
func loadModIndex(dir string) (*modIndex, error) {
	idx := &modIndex{path: map[string]string{}, deps: map[string][]string{}, alias: map[string][]string{}, builtin: map[string]bool{}}
	for _, p := range []struct {
		file     string
		parse    func(io.Reader, *modIndex) error
		required bool
	}{
		{"modules.dep", parseModulesDep, true},
		{"modules.alias", parseModulesAlias, false},
		{"modules.builtin", parseModulesBuiltin, false},
	} {
		f, err := os.Open(filepath.Join(dir, p.file))
		if err != nil {
			if !p.required && os.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("lab: %w", err)
		}
		err = p.parse(f, idx)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("lab: %s: %w", filepath.Join(dir, p.file), err)
		}
	}
	return idx, nil
}

// modPlan is the outcome of resolving the wanted modules.
type modPlan struct {
	Load    []string // names to modprobe at boot, in the wanted order (each resolved to a module)
	Files   []string // module files (relative paths) to ship, dependencies included, sorted
	Builtin []string // wanted names that are built into the kernel
}

// resolve maps wanted names (module names, with '-' or '_', or aliases such
// as "aes") to modules, adds every dependency, and reports the names built
// into the kernel. A name that is neither a module, an alias nor built in is
// an error.
func (idx *modIndex) resolve(want []string) (modPlan, error) {
	var plan modPlan
	need := map[string]bool{}
	var visit func(name, from string) error
	visit = func(name, from string) error {
		if need[name] {
			return nil
		}
		if _, ok := idx.path[name]; !ok {
			return fmt.Errorf("lab: module %s (needed by %s) is not in modules.dep", name, from)
		}
		need[name] = true
		for _, d := range idx.deps[name] {
			if err := visit(d, name); err != nil {
				return err
			}
		}
		return nil
	}
	loaded := map[string]bool{}
	for _, w := range want {
		name := modName(w)
		switch {
		case idx.path[name] != "":
		case idx.builtin[name]:
			plan.Builtin = append(plan.Builtin, w)
			continue
		default:
			targets := idx.alias[w]
			if len(targets) == 0 {
				targets = idx.alias[name]
			}
			if len(targets) == 0 {
				return modPlan{}, fmt.Errorf("lab: kernel module %q is neither a module, an alias of one, nor built into the kernel", w)
			}
			name = targets[0]
			if idx.path[name] == "" {
				if idx.builtin[name] {
					plan.Builtin = append(plan.Builtin, w)
					continue
				}
				return modPlan{}, fmt.Errorf("lab: kernel module %q: alias of %s, which is not in modules.dep", w, name)
			}
		}
		if err := visit(name, "the lab"); err != nil {
			return modPlan{}, err
		}
		if !loaded[name] {
			loaded[name] = true
			plan.Load = append(plan.Load, name)
		}
	}
	for n := range need {
		plan.Files = append(plan.Files, idx.path[n])
	}
	sort.Strings(plan.Files)
	return plan, nil
}
