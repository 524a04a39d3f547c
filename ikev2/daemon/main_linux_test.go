package daemon

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the iked binary the interop tests build (buildIked, a
// temporary directory of about 6.5 MB per test run, which was left behind).
func TestMain(m *testing.M) {
	code := m.Run()
	if ikedBin != "" {
		os.RemoveAll(filepath.Dir(ikedBin))
	}
	os.Exit(code)
}
