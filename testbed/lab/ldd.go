package lab

import (
	"context"
	"debug/elf"
	"fmt"
	"strings"
)

// parseLdd extracts the library paths (and the dynamic loader) from ldd's
// output. A library ldd cannot find is an error.
func parseLdd(out string) ([]string, error) {
	var libs []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.Contains(line, "statically linked") || strings.Contains(line, "not a dynamic executable") {
			continue
		}
		if name, rest, ok := strings.Cut(line, "=>"); ok {
			rest = strings.TrimSpace(rest)
			if strings.HasPrefix(rest, "not found") {
				return nil, fmt.Errorf("library %s not found", strings.TrimSpace(name))
			}
			if p := strings.Fields(rest); len(p) > 0 && strings.HasPrefix(p[0], "/") {
				libs = append(libs, p[0])
			}
			continue
		}
		if p := strings.Fields(line); len(p) > 0 && strings.HasPrefix(p[0], "/") {
			libs = append(libs, p[0]) // the loader: "/lib64/ld-linux-x86-64.so.2 (0x...)"
		}
	}
	return libs, nil
}

// isDynamic reports whether the ELF file at p asks for a dynamic loader
// (an executable) or has a dynamic section (a shared object, a plugin).
func isDynamic(p string) (bool, error) {
	f, err := elf.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP || prog.Type == elf.PT_DYNAMIC {
			return true, nil
		}
	}
	return false, nil
}

// addExecutable copies a host executable (or shared object) to guest and,
// if it is dynamically linked, the libraries ldd lists, at their host paths.
func (im *image) addExecutable(ctx context.Context, guest, host string) error {
	if err := im.File(guest, host); err != nil {
		return err
	}
	dyn, err := isDynamic(host)
	if err != nil {
		return fmt.Errorf("initramfs: %s: %w", host, err)
	}
	if !dyn {
		return nil
	}
	out, err := runCmd(ctx, "", "ldd", host)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	libs, err := parseLdd(out)
	if err != nil {
		return fmt.Errorf("initramfs: ldd %s: %w", host, err)
	}
	for _, l := range libs {
		if im.has(l) {
			continue
		}
		if err := im.File(l, l); err != nil {
			return err
		}
	}
	return nil
}
