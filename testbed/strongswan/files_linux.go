package strongswan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ikectx/ikectx/testbed/lab"
)

// debianPackages is what to install for LabFiles and Start (scripts/deps.sh).
const debianPackages = "strongswan-charon strongswan-swanctl libstrongswan-standard-plugins (kernel-netlink, socket-default and vici are in libstrongswan, a dependency)"

// LabFiles lists what charon needs in the lab's guest, from this host's
// installation: charon and swanctl, the installed plugins of Plugins and
// SwanctlPlugins, each with the libraries ldd lists (lab.File.Executable),
// and libgcc_s.so.1, which glibc loads with dlopen for pthread_cancel.
// The guest paths are the host's (Debian's). It fails, naming the package,
// when charon, swanctl or a plugin of requiredPlugins is missing.
func LabFiles(ctx context.Context) ([]lab.File, error) {
	if err := hostAvailable(); err != nil {
		return nil, err
	}
	files := []lab.File{
		{Guest: CharonBin, Host: CharonBin, Executable: true},
		{Guest: SwanctlBin, Host: SwanctlBin, Executable: true},
	}
	seen := map[string]bool{}
	for _, p := range append(append([]string(nil), Plugins...), SwanctlPlugins...) {
		if seen[p] {
			continue
		}
		seen[p] = true
		if f := PluginFile(p); exists(f) {
			files = append(files, lab.File{Guest: f, Host: f, Executable: true})
		}
	}
	gcc, err := findLibgcc()
	if err != nil {
		return nil, err
	}
	files = append(files, lab.File{Guest: gcc, Host: gcc})
	return files, ctx.Err()
}

// hostAvailable checks that charon, swanctl and the required plugins are
// installed.
func hostAvailable() error {
	for _, f := range []string{CharonBin, SwanctlBin} {
		if !exists(f) {
			return fmt.Errorf("strongswan: %s is missing: install %s", f, debianPackages)
		}
	}
	for _, p := range requiredPlugins {
		if f := PluginFile(p); !exists(f) {
			return fmt.Errorf("strongswan: charon plugin %s is missing (%s): install %s", p, f, debianPackages)
		}
	}
	return nil
}

// findLibgcc finds libgcc_s.so.1 where the dynamic loader looks for it.
func findLibgcc() (string, error) {
	for _, pat := range []string{"/lib/*-linux-gnu/libgcc_s.so.1", "/usr/lib/*-linux-gnu/libgcc_s.so.1", "/lib64/libgcc_s.so.1", "/lib/libgcc_s.so.1", "/usr/lib/libgcc_s.so.1"} {
		m, _ := filepath.Glob(pat)
		for _, p := range m {
			if exists(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("strongswan: libgcc_s.so.1 not found (Debian package libgcc-s1); charon's threads need it for pthread_cancel")
}

func exists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// installedPlugins returns the plugins of list that are installed here.
func installedPlugins(list []string) []string {
	var out []string
	for _, p := range list {
		if exists(PluginFile(p)) {
			out = append(out, p)
		}
	}
	return out
}
