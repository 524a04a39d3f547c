// Package netnstest runs a daemon under test inside a network namespace,
// for the namespace tests (strongSwan interop, kernel lab) of racoon/daemon,
// ikev2/daemon and ipsecmod. It is test support: only _test.go files (and
// the other internal test-support packages) import it.
package netnstest

import (
	"bytes"
	"os/exec"
	"syscall"
	"testing"
)

// StartDaemon starts args (args[0] the program) in network namespace ns
// through ip (the path of the ip binary), with stdout and stderr going to
// the returned buffer. The cleanup sends SIGTERM and waits; if the test
// failed it then calls onFail with the output.
func StartDaemon(t *testing.T, ip, ns string, onFail func(out string), args ...string) *bytes.Buffer {
	t.Helper()
	cmd := exec.Command(ip, append([]string{"netns", "exec", ns}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			onFail(out.String())
		}
	})
	return &out
}
