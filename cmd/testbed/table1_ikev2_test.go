package main

import (
	"strings"
	"testing"

	"github.com/ikectx/ikectx/testbed/report"
	"github.com/ikectx/ikectx/testbed/scenario"
)

func TestCheckIKEv2Rows(t *testing.T) {
	ike := func(n int) []report.Frame {
		f := make([]report.Frame, n)
		for i := range f {
			f[i] = report.Frame{Kind: report.KindIKE, Len: 250}
		}
		return f
	}
	ct := append([]report.Frame{{Kind: report.KindCTAR, Len: 106}, {Kind: report.KindCTAA, Len: 82}}, ike(2)...)
	good := []report.Run{
		{Scenario: report.IKEv2Iked, Index: 1, DelayMS: 400, Restored: 1, Frames: ike(4)},
		{Scenario: report.IKEv2CT, Index: 1, DelayMS: 50, Restored: 1, Frames: ct, IKEv2: &report.IKEv2Run{RoundTrips: 1}},
		{Scenario: report.IKEv2Collision, Index: 1, DelayMS: 60, Restored: 1, Frames: ct,
			IKEv2: &report.IKEv2Run{RoundTrips: 1, Updated: 2, MN2Received: 80, SADOK: true}},
	}
	if p := checkTable1(scenario.Output{Runs: good}); len(p) != 0 {
		t.Fatalf("good runs: %q", p)
	}
	bad := []report.Run{
		{Scenario: report.IKEv2Iked, Index: 1, DelayMS: 400, Restored: 1, Frames: ike(2)},
		{Scenario: report.IKEv2CT, Index: 1, DelayMS: 50, Restored: 1, Frames: ct[:3], IKEv2: &report.IKEv2Run{RoundTrips: 2, Fallback: true}},
		{Scenario: report.IKEv2Collision, Index: 1, DelayMS: 60, Restored: 1, Frames: ct,
			IKEv2: &report.IKEv2Run{RoundTrips: 1, Updated: 1, MN2Received: 80, MN2Lost: 3, SADError: "2 SAs hold 0x1234"}},
		{Scenario: report.IKEv2CT, Index: 2, DelayMS: 50, Restored: 1, Frames: ct},
	}
	p := checkTable1(scenario.Output{Runs: bad})
	want := []string{
		"ikev2-iked run 1: 2 IKE messages, want IKE_SA_INIT and IKE_AUTH (4)",
		"ikev2-ct run 1: 1 IKE messages",
		"ikev2-ct run 1: Algorithm 1: 2 round trips, fallback true",
		"ikev2-ct-collision run 1: 1 SPIs updated",
		"ikev2-ct-collision run 1: MN2's flow: 80 received, 3 lost",
		"ikev2-ct-collision run 1: nAR SAD: 2 SAs hold 0x1234",
		"ikev2-ct run 2: no IKEv2 outcome",
	}
	if len(p) != len(want) {
		t.Fatalf("check: %q", p)
	}
	for i, w := range want {
		if !strings.Contains(p[i], w) {
			t.Errorf("problem %d: %q, want %q", i, p[i], w)
		}
	}
}
