package main

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestParseLabFlags(t *testing.T) {
	f, rest, err := parseLabFlags("test", []string{"--host", "--timeout", "2m", "--mem", "256", "-v", "./pfkey", "./cxtp"}, time.Minute, true)
	if err != nil {
		t.Fatal(err)
	}
	if !f.host || f.timeout != 2*time.Minute || f.mem != 256 || !f.verbose || f.run != "^TestLab" || fmt.Sprint(rest) != "[./pfkey ./cxtp]" {
		t.Errorf("flags %+v rest %v", f, rest)
	}
	_, rest, err = parseLabFlags("run", []string{"--", "ls", "-la", "/"}, time.Minute, false)
	if err != nil || fmt.Sprint(rest) != "[ls -la /]" {
		t.Errorf("run args %v %v", rest, err)
	}
	if _, _, err := parseLabFlags("run", []string{"--host"}, time.Minute, false); err == nil {
		t.Error("--host accepted by run")
	}
	f, _, _ = parseLabFlags("fetch", nil, 7*time.Minute, false)
	if f.timeout != 7*time.Minute || f.mem != 512 || f.run != "" {
		t.Errorf("defaults %+v", f)
	}
}

func TestUsageErrors(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{nil, {"nope"}, {"lab"}, {"lab", "nope"}, {"lab", "run"}, {"lab", "fetch", "extra"}} {
		if code := run(ctx, args); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
}
