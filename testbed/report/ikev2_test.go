package report

import (
	"bytes"
	"encoding/json"
	"image/png"
	"strings"
	"testing"
)

// ikev2Runs adds the IKEv2 rows to synthetic(): full exchanges by iked
// (4 IKE frames) and charon, a context transfer (CTAR + CTAA + the
// nAR's MOBIKE request and response) and the same with a collision
// repaired by UPDATE_SPI.
func ikev2Runs() []Run {
	runs := synthetic()
	base := runs[0]
	mk := func(sc string, i int, delay float64, frames []Frame, x *IKEv2Run) Run {
		r := base
		r.Scenario, r.Index, r.DelayMS, r.Frames, r.IKEv2, r.Lost = sc, i, delay, frames, x, 0
		r.Restored = r.Attach + int64(delay*1e6)
		return r
	}
	ike := func(sizes ...int) []Frame {
		var f []Frame
		for _, s := range sizes {
			f = append(f, Frame{Kind: KindIKE, Len: s})
		}
		return f
	}
	ct := append([]Frame{{Kind: KindCTAR, Len: 106}, {Kind: KindCTAA, Len: 82}}, ike(254, 254)...)
	for i := 1; i <= 3; i++ {
		runs = append(runs,
			mk(IKEv2Iked, i, 200+float64(i)*10, ike(400, 420, 380, 300), nil),
			mk(IKEv2Charon, i, 300, ike(410, 430, 390, 310), nil),
			mk(IKEv2CT, i, 10, ct, &IKEv2Run{RoundTrips: 1, SADOK: true}),
			mk(IKEv2Collision, i, 20, append(append([]Frame(nil), ct...), Frame{Kind: KindIKE, Len: 30}), &IKEv2Run{RoundTrips: 1, Updated: 2,
				SPIChanges: []string{"esp 0x0000abcd -> 0x00001234", "ike 00000000000000aa -> 00000000000000bb"}, MN2Lost: 0, MN2MaxGapMS: 60, SADOK: i != 2}))
	}
	return runs
}

func TestIKEv2Rows(t *testing.T) {
	tb := Build(ikev2Runs(), nil)
	var md strings.Builder
	if err := tb.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	s := md.String()
	for _, want := range []string{
		"| IKEv2 full exchange (ikectx iked) | 3 | 220 (210–230) | 0 | 4 | 1500 | — | — | — |",
		"| IKEv2 full exchange (strongSwan charon) | 3 | 300 | 0 | 4 | 1540 | — | — | — |",
		"| IKEv2 with context transfer (predictive) + MOBIKE | 3 | 10 | 0 | 3 [1] | 614 [82] | — | — | — |",
		"| IKEv2 with context transfer + SPI collision (UPDATE_SPI) | 3 | 20 | 0 | 4 [1] | 644 [82] | — | — | — |",
		"- IKEv2 with context transfer (predictive) + MOBIKE: CTAR 106 bytes [CTAA 82] + the nAR's MOBIKE exchange 2 IKE frames / 508 bytes on the MN's link; Algorithm 1: 1 round trip(s), 0 SPI(s) changed by UPDATE_SPI\n",
		"- IKEv2 with context transfer + SPI collision (UPDATE_SPI): CTAR 106 bytes [CTAA 82] + the nAR's MOBIKE exchange 3 IKE frames / 538 bytes on the MN's link; Algorithm 1: 1 round trip(s), 2 SPI(s) changed by UPDATE_SPI in one request; MN2 (another MN on the nAR holding the transferred SPIs): 0 datagrams lost, longest gap 60 ms; nAR SAD checked (each SPI bound to its own MN, no SA lost) in 2/3 runs; SPIs changed (run 1): esp 0x0000abcd -> 0x00001234, ike 00000000000000aa -> 00000000000000bb\n",
		"- delay ratio ikev2-iked/ikev2-ct: 22.0 (paper: — (no IKEv2 figures))",
		"- delay ratio ikev2-charon/ikev2-ct: 30.0 (paper: — (no IKEv2 figures))",
		"- delay ratio ikev1-main/cxtp-predictive: 100.0 (paper: main/CT 75, aggressive/CT 65)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("markdown lacks %q:\n%s", want, s)
		}
	}
	var js bytes.Buffer
	if err := tb.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Table
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	col := back.row(IKEv2Collision)
	if col == nil || col.IKEv2 == nil || col.IKEv2.Updated.Median != 2 || col.IKEv2.SADOK != 2 || col.Paper != nil ||
		back.row(IKEv2Iked).IKEv2 != nil || back.Ratios["ikev2-iked/ikev2-ct"] != 22 {
		t.Errorf("json: %s", js.String())
	}
	// every IKEv2 row appears even when it did not run
	tb = Build(synthetic(), map[string]string{IKEv2Charon: "strongSwan is not in the lab image"})
	md.Reset()
	tb.Markdown(&md)
	if !strings.Contains(md.String(), "| IKEv2 full exchange (strongSwan charon) | 0 | not run (strongSwan is not in the lab image) |") ||
		!strings.Contains(md.String(), "| IKEv2 with context transfer + SPI collision (UPDATE_SPI) | 0 | not run (no runs) |") {
		t.Errorf("markdown:\n%s", md.String())
	}
}

// Figure 4 has one panel per scenario that ran: eight here.
func TestFigure4EightPanels(t *testing.T) {
	var b bytes.Buffer
	if err := Figure4(&b, ikev2Runs()); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dy() < 7*r.Dx()/4 {
		t.Errorf("image %v: want 7 panels (the IKEv1 reactive row did not run)", r)
	}
}

func TestIsIKEv2(t *testing.T) {
	for _, sc := range IKEv2Scenarios {
		if !IsIKEv2(sc) || Labels[sc] == "" {
			t.Errorf("%s", sc)
		}
		if _, ok := PaperTable1[sc]; ok {
			t.Errorf("%s has a paper figure", sc)
		}
	}
	if IsIKEv2(Main) || IsIKEv2(Predictive) {
		t.Error("IKEv1 rows")
	}
}
