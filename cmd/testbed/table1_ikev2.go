package main

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/ikectx/ikectx/testbed/lab"
	"github.com/ikectx/ikectx/testbed/report"
	"github.com/ikectx/ikectx/testbed/scenario"
	"github.com/ikectx/ikectx/testbed/strongswan"
)

// checkIKEv2Run is the short run's acceptance of an IKEv2 row: a full
// exchange has IKE_SA_INIT and IKE_AUTH (at least 4 IKE frames); a context
// transfer one CTAR of 106 bytes, one CTAA of 82, the nAR's MOBIKE
// exchange (at least 2 IKE frames) done in one round trip without a
// fallback; the collision scenario 2 SPIs changed in that round trip,
// MN2's flow without a loss and the nAR's SAD checked.
func checkIKEv2Run(r report.Run, name string, kinds map[string][]int) []string {
	var p []string
	switch r.Scenario {
	case report.IKEv2Iked, report.IKEv2Charon:
		if n := len(kinds[report.KindIKE]); n < 4 {
			p = append(p, fmt.Sprintf("%s: %d IKE messages, want IKE_SA_INIT and IKE_AUTH (4)", name, n))
		}
	case report.IKEv2CT, report.IKEv2Collision:
		if fmt.Sprint(kinds[report.KindCTAR]) != "[106]" || fmt.Sprint(kinds[report.KindCTAA]) != "[82]" {
			p = append(p, fmt.Sprintf("%s: CTAR %v CTAA %v, want [106] and [82]", name, kinds[report.KindCTAR], kinds[report.KindCTAA]))
		}
		if n := len(kinds[report.KindIKE]); n < 2 {
			p = append(p, fmt.Sprintf("%s: %d IKE messages, want the nAR's MOBIKE request and the MN's response", name, n))
		}
		x := r.IKEv2
		if x == nil {
			return append(p, name+": no IKEv2 outcome (Algorithm 1)")
		}
		if x.RoundTrips != 1 || x.Fallback || x.MoveError != "" {
			p = append(p, fmt.Sprintf("%s: Algorithm 1: %d round trips, fallback %v %s, want 1 round trip", name, x.RoundTrips, x.Fallback, x.MoveError))
		}
		if r.Scenario == report.IKEv2Collision {
			if x.Updated != 2 {
				p = append(p, fmt.Sprintf("%s: %d SPIs updated, want the ESP and the IKE SPI in one request", name, x.Updated))
			}
			if x.MN2Received == 0 || x.MN2Lost != 0 {
				p = append(p, fmt.Sprintf("%s: MN2's flow: %d received, %d lost", name, x.MN2Received, x.MN2Lost))
			}
			if !x.SADOK {
				p = append(p, fmt.Sprintf("%s: nAR SAD: %s", name, x.SADError))
			}
		}
	}
	return p
}

// charonFiles are strongSwan's files for the lab image when the selected
// scenarios include the charon row (nil otherwise, or when this host has
// no strongSwan: the guest then reports the row as not run, with why).
func charonFiles(ctx context.Context, scenarios string) []lab.File {
	sel, _ := scenario.ParseScenarios(scenarios)
	if !slices.Contains(sel, report.IKEv2Charon) {
		return nil
	}
	files, err := strongswan.LabFiles(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testbed table1: strongSwan not put into the lab image, %s will not run: %v\n", report.IKEv2Charon, err)
		return nil
	}
	return files
}
