// Package ikedlab starts iked with PF_KEY inside a network namespace of the
// kernel lab, for the lab tests (//go:build lab) of ikev2/daemon and
// ipsecmod. It is test support: only _test.go files import it. It builds
// with and without -tags lab, and on every GOOS.
package ikedlab

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ikectx/ikectx/internal/netnstest"
)

// Bin is where the lab image installs iked.
const Bin = "/usr/local/bin/iked"

// Conn is one iked's single connection: iked in namespace NS, connection
// Name from Local to Remote, identities LocalID and RemoteID (both in the
// PAD with the test PSK), traffic selectors LocalTS and RemoteTS, ESP
// proposal ESP, MOBIKE on or off.
type Conn struct {
	NS, Name          string
	Local, Remote     string
	LocalID, RemoteID string
	LocalTS, RemoteTS string
	ESP               string
	MOBIKE            bool
}

// Start writes iked.toml for c, runs iked (-v, with the kernel) in c.NS
// through ip (the path of the ip binary) and waits until control (the
// caller's daemon.Control) answers "status" on the socket, which it
// returns. It skips the test when iked is not installed; the cleanup stops
// iked and logs its output if the test failed.
func Start(t *testing.T, ip string, control func(sock string, args ...string) (string, error), c Conn) string {
	t.Helper()
	if _, err := os.Stat(Bin); err != nil {
		t.Skip("iked is not in the lab's /usr/local/bin")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "iked.sock")
	mobike := ""
	if c.MOBIKE {
		mobike = "mobike = true\n"
	}
	conf := fmt.Sprintf(`[global]
socket = %q
retransmit_base = "1s"

[[pad]]
id = %q
psk = "a-long-test-psk"

[[pad]]
id = %q
psk = "a-long-test-psk"

[[connection]]
name = %q
local_addr = %q
remote_addr = %q
local_id = %q
remote_id = %q
ike_proposals = ["aes128-sha256-ecp256"]
esp_proposals = [%q]
local_ts = [%q]
remote_ts = [%q]
%s`, sock, c.LocalID, c.RemoteID, c.Name, c.Local, c.Remote, c.LocalID, c.RemoteID, c.ESP, c.LocalTS, c.RemoteTS, mobike)
	path := filepath.Join(dir, "iked.toml")
	os.WriteFile(path, []byte(conf), 0o644)
	out := netnstest.StartDaemon(t, ip, c.NS, func(out string) { t.Logf("iked %s in %s:\n%s", c.Name, c.NS, out) },
		Bin, "-c", path, "-v")
	for i := 0; i < 1000; i++ {
		if _, err := control(sock, "status"); err == nil {
			return sock
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("iked %s in %s did not start:\n%s", c.Name, c.NS, out.String())
	return ""
}
