package lab

import "testing"

func TestParseKernelDepends(t *testing.T) {
	for _, c := range []struct {
		name, out, pkg, release string
	}{
		{"bookworm", "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n", "linux-image-6.1.0-56-amd64", "6.1.0-56-amd64"},
		{"unsigned and arch", "linux-image-amd64\n  Depends: linux-image-6.12.9+bpo-amd64-unsigned:amd64\n", "linux-image-6.12.9+bpo-amd64", "6.12.9+bpo-amd64"},
		{"alternatives", "linux-image-amd64\n |Depends: <linux-image-6.1.0-99-amd64>\n  Depends: linux-image-6.1.0-56-amd64\n", "linux-image-6.1.0-99-amd64", "6.1.0-99-amd64"},
		{"other deps first", "linux-image-amd64\n  Depends: initramfs-tools\n  Recommends: firmware\n  Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)\n", "linux-image-6.1.0-56-amd64", "6.1.0-56-amd64"},
	} {
		pkg, rel, err := parseKernelDepends(c.out)
		if err != nil || pkg != c.pkg || rel != c.release {
			t.Errorf("%s: got %q %q %v, want %q %q", c.name, pkg, rel, err, c.pkg, c.release)
		}
	}
	for _, bad := range []string{"", "E: No packages found\n", "linux-image-amd64\n  Depends: linux-image-6.1.0-56-cloud-amd64-dbg\n  Depends: linux-base\n"} {
		if pkg, _, err := parseKernelDepends(bad); err == nil {
			t.Errorf("parseKernelDepends(%q) = %q, want an error", bad, pkg)
		}
	}
}
