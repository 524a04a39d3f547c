package lab

import (
	"bufio"
	"fmt"
	"regexp"
	"strings"
)

// KernelMeta is the metapackage whose dependency names the current kernel.
const KernelMeta = "linux-image-amd64"

var kernelPkgRE = regexp.MustCompile(`^linux-image-([0-9][0-9A-Za-z.+~-]*)-amd64$`)

// parseKernelDepends reads the output of `apt-cache depends linux-image-amd64`
// and returns the versioned kernel package it depends on (e.g.
// "linux-image-6.1.0-56-amd64") and the kernel release, the name of its
// modules directory and `uname -r` (e.g. "6.1.0-56-amd64").
//
// The output looks like:
//
//	linux-image-amd64
//	  Depends: linux-image-6.1.0-56-amd64
//
// Signed (-unsigned) and debug packages, alternatives and virtual packages
// in angle brackets are handled; the first matching Depends wins.
func parseKernelDepends(out string) (pkg, release string, err error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimPrefix(line, "|")
		rest, ok := strings.CutPrefix(line, "Depends:")
		if !ok {
			continue
		}
		name := strings.Trim(strings.TrimSpace(rest), "<>")
		if i := strings.IndexAny(name, " :"); i >= 0 { // "pkg:amd64", "pkg (>= v)"
			name = name[:i]
		}
		name = strings.TrimSuffix(name, "-unsigned")
		if m := kernelPkgRE.FindStringSubmatch(name); m != nil {
			if strings.HasSuffix(m[1], "-dbg") || strings.Contains(name, "-dbg") {
				continue
			}
			return name, m[1] + "-amd64", nil
		}
	}
	return "", "", fmt.Errorf("lab: no linux-image-<version>-amd64 dependency in `apt-cache depends %s` output (%q)", KernelMeta, firstLines(out, 5))
}

// firstLines returns at most n lines of s, for error messages.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
