package lab

import (
	"strings"
	"testing"
)

func TestConsoleMarkers(t *testing.T) {
	var out, boot strings.Builder
	c := &console{out: &out, boot: &boot}
	for _, l := range []string{
		"[    0.000000] Linux version 6.1.0",
		"lab: modprobe foo failed\r",
		"@@BEGIN\r",
		"hello\r",
		"--- PASS: TestX (0.00s)",
		"@@RESULT rc=3\r",
		"[    9.1] reboot: Power down",
	} {
		c.line(l)
	}
	if !c.began || !c.ended || c.rc != 3 {
		t.Fatalf("began %v ended %v rc %d, want true true 3", c.began, c.ended, c.rc)
	}
	if got, want := c.payload.String(), "hello\n--- PASS: TestX (0.00s)\n"; got != want {
		t.Errorf("payload %q, want %q", got, want)
	}
	if out.String() != c.payload.String() {
		t.Errorf("streamed %q, kept %q", out.String(), c.payload.String())
	}
	if got := boot.String(); !strings.Contains(got, "Linux version") || !strings.Contains(got, "Power down") || strings.Contains(got, "hello") {
		t.Errorf("boot log %q", got)
	}
}

func TestConsoleResultAfterUnterminatedOutput(t *testing.T) {
	c := &console{}
	c.line("@@BEGIN")
	c.line("no newline at the end@@RESULT rc=0")
	if !c.ended || c.rc != 0 || c.payload.String() != "no newline at the end\n" {
		t.Errorf("ended %v rc %d payload %q", c.ended, c.rc, c.payload.String())
	}
}

func TestConsoleNoResult(t *testing.T) {
	c := &console{}
	c.line("Kernel panic - not syncing: VFS")
	if c.began || c.ended {
		t.Fatal("markers seen in a panic")
	}
	c.line("@@BEGIN")
	c.line("@@RESULT rc=notanumber")
	if c.ended {
		t.Error("a malformed result ended the payload")
	}
	if !strings.Contains(c.payload.String(), "notanumber") {
		t.Errorf("malformed marker not kept as output: %q", c.payload.String())
	}
	for i := 0; i < 2*consoleTail; i++ {
		c.line("x")
	}
	if n := len(strings.Split(c.lastLines(), "\n")); n != consoleTail {
		t.Errorf("tail keeps %d lines, want %d", n, consoleTail)
	}
}
