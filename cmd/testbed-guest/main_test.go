package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"bogus"}, {"table1", "--scenarios", "ikev9"}, {"table1", "--runs", "x"}} {
		var o, e bytes.Buffer
		if rc := run(context.Background(), args, &o, &e); rc != 2 {
			t.Errorf("%q: rc %d", args, rc)
		}
		if args == nil && !strings.Contains(e.String(), "usage") {
			t.Errorf("no usage: %q", e.String())
		}
	}
}
