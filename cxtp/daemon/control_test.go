package daemon

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestControlSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.sock")
	s, err := listenControl(path, func(ctx context.Context, args []string) (string, error) {
		switch args[0] {
		case "echo":
			return strings.Join(args[1:], " ") + "\n", nil
		}
		return "partial\n", errors.New("nope")
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v", fi.Mode())
	}
	out, err := Control(path, "echo", "a", "b")
	if err != nil || out != "a b\n" {
		t.Fatalf("%q %v", out, err)
	}
	out, err = Control(path, "bad")
	if err == nil || err.Error() != "nope" || out != "partial\n" {
		t.Fatalf("%q %v", out, err)
	}
	// A second daemon on the same socket is refused.
	if _, err := listenControl(path, nil, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("second listener accepted")
	}
}
