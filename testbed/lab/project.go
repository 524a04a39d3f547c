package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// RepoRoot returns the directory of the ikectx module containing the
// working directory (from `go env GOMOD`).
func RepoRoot(ctx context.Context) (string, error) {
	out, err := runCmd(ctx, "", "go", "env", "GOMOD")
	if err != nil {
		return "", fmt.Errorf("lab: finding the repository: %w", err)
	}
	gomod := strings.TrimSpace(out)
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("lab: the working directory is not inside the ikectx module")
	}
	return filepath.Dir(gomod), nil
}

// goEnv is the environment for building static Linux/amd64 binaries for
// the guest.
func goEnv() []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
}

// goBuildFlags strip symbol tables (stack traces keep function names) to
// keep the initramfs small.
var goBuildFlags = []string{"-trimpath", "-ldflags=-s -w"}

// ProjectFiles builds the project's binaries (every main package under
// ./cmd except testbed) statically into outDir and returns the files that
// put them at /usr/local/bin/NAME in the guest, plus the repository's
// examples/ tree at /ikectx/examples. A command that does not compile (work
// in progress) is left out with a warning on log; no commands at all is
// fine.
func ProjectFiles(ctx context.Context, root, outDir string, log io.Writer) ([]File, error) {
	if log == nil {
		log = io.Discard
	}
	var files []File
	if st, err := os.Stat(filepath.Join(root, "examples")); err == nil && st.IsDir() {
		files = append(files, File{Guest: GuestExamples, Host: filepath.Join(root, "examples")})
	}
	if _, err := os.Stat(filepath.Join(root, "cmd")); err != nil {
		return files, nil
	}
	out, err := runCmd(ctx, root, "go", "list", "-e", "-f", "{{.Name}} {{.ImportPath}}", "./cmd/...")
	if err != nil {
		return nil, fmt.Errorf("lab: listing commands: %w", err)
	}
	var pkgs []string
	for _, line := range strings.Split(out, "\n") {
		name, pkg, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || name != "main" || filepath.Base(pkg) == "testbed" {
			continue
		}
		pkgs = append(pkgs, pkg)
	}
	if len(pkgs) == 0 {
		return files, nil
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	built := pkgs
	if err := goBuild(ctx, root, outDir+string(filepath.Separator), pkgs...); err != nil {
		built = nil // build one by one to keep the good ones
		for _, p := range pkgs {
			if err := goBuild(ctx, root, filepath.Join(outDir, filepath.Base(p)), p); err != nil {
				fmt.Fprintf(log, "lab: warning: %s does not build, left out of the VM: %v\n", p, err)
				continue
			}
			built = append(built, p)
		}
	}
	for _, p := range built {
		name := filepath.Base(p)
		files = append(files, File{Guest: GuestBin + "/" + name, Host: filepath.Join(outDir, name)})
	}
	return files, nil
}

// goBuild runs a static go build.
func goBuild(ctx context.Context, root, out string, pkgs ...string) error {
	args := append([]string{"build"}, goBuildFlags...)
	args = append(args, "-o", out)
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = goEnv()
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, strings.TrimSpace(string(b)))
	}
	return nil
}
