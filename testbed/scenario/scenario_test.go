package scenario

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ikectx/ikectx/testbed/report"
	"github.com/ikectx/ikectx/testbed/traffic"
)

func TestMarkersRoundTrip(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("lab: noise\n@@PROGRESS ikev1-main run 1/1: ok\r\n")
	pcap := bytes.Repeat([]byte{0xd4, 0xc3, 0xb2, 0xa1, 0, 1, 2}, 40)
	if err := WritePcap(&b, "ikev1-main-1.pcap", pcap); err != nil {
		t.Fatal(err)
	}
	run := report.Run{Scenario: report.Main, Index: 1, DelayMS: 12.5, Lost: 1, Pcap: "ikev1-main-1.pcap",
		Frames:  []report.Frame{{Kind: report.KindIKE, Len: 162}},
		Records: []traffic.Record{{Seq: 1, Sent: 5, Recv: 6, Src: "2001:db8:1::100"}}}
	if err := WriteRun(&b, run); err != nil {
		t.Fatal(err)
	}
	b.WriteString("@@NOTRUN cxtp-reactive ipsec-cxtpd is not in the tree yet\n")
	for _, l := range strings.Split(b.String(), "\n") {
		if len(l) > 80 && !strings.HasPrefix(l, MarkRun) {
			t.Errorf("long line %q", l)
		}
	}
	out, err := Parse(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Pcaps["ikev1-main-1.pcap"], pcap) {
		t.Error("pcap differs")
	}
	if len(out.Runs) != 1 || out.Runs[0].DelayMS != 12.5 || len(out.Runs[0].Records) != 1 || out.Runs[0].Frames[0].Len != 162 {
		t.Errorf("runs %+v", out.Runs)
	}
	if out.NotRun[report.Reactive] != "ipsec-cxtpd is not in the tree yet" {
		t.Errorf("not run %v", out.NotRun)
	}
	if len(out.Progress) != 1 || out.Progress[0] != "ikev1-main run 1/1: ok" {
		t.Errorf("progress %q", out.Progress)
	}
}

func TestParseCorruption(t *testing.T) {
	for _, in := range []string{
		"@@PCAP x.pcap\nAAAA\n",      // truncated
		"@@PCAP x\n!!!\n@@ENDPCAP\n", // base64
		"@@RUN {\"scenario\":\n",     // json
	} {
		out, err := Parse(strings.NewReader(in))
		if err != nil || out.Corrupt != 1 {
			t.Errorf("%q: corrupt %d, %v", in, out.Corrupt, err)
		}
	}
	if _, err := Parse(strings.NewReader("@@PCAP ../x\n@@ENDPCAP\n")); err == nil {
		t.Error("a pcap name with a path accepted")
	}
	// the second, good copy of a run and a pcap is used
	var b bytes.Buffer
	b.WriteString("@@RUN {\"scenario\":\"ikev1-main\",\"run\":1,\"delay_\n")
	WriteRun(&b, report.Run{Scenario: report.Main, Index: 1, DelayMS: 7})
	WriteRun(&b, report.Run{Scenario: report.Main, Index: 1, DelayMS: 8})
	b.WriteString("@@PCAP a.pcap\nAA!A\n@@ENDPCAP\n")
	WritePcap(&b, "a.pcap", []byte("abc"))
	out, err := Parse(&b)
	if err != nil || out.Corrupt != 2 || len(out.Runs) != 1 || out.Runs[0].DelayMS != 7 || string(out.Pcaps["a.pcap"]) != "abc" {
		t.Fatalf("%+v %v", out, err)
	}
}

func TestParseScenarios(t *testing.T) {
	s, err := ParseScenarios("main, aggressive,cxtp-predictive")
	if err != nil || strings.Join(s, " ") != "ikev1-main ikev1-aggressive cxtp-predictive" {
		t.Fatal(s, err)
	}
	if s, _ := ParseScenarios(""); len(s) != 8 {
		t.Fatal(s)
	}
	s, err = ParseScenarios("ikev2,charon, ikev2-ct,collision,iked,strongswan,ikev2-ct-collision")
	if err != nil || strings.Join(s, " ") != "ikev2-iked ikev2-charon ikev2-ct ikev2-ct-collision ikev2-iked ikev2-charon ikev2-ct-collision" {
		t.Fatal(s, err)
	}
	if _, err := ParseScenarios("main,ikev3"); err == nil {
		t.Fatal("ikev3 accepted")
	}
}

func TestLostAround(t *testing.T) {
	const iv = 50 * time.Millisecond
	var recs []traffic.Record
	attach := int64(10 * iv)
	// seqs 1..8 from the old address (sent at (seq-1)*50ms), 9..11 lost
	// around the link change (before attach = 500 ms: seq 9 at 400 ms, 10 at
	// 450 ms), 11..14 lost after it, 15.. from the new address
	for q := uint64(1); q <= 20; q++ {
		sent := int64(q-1) * int64(iv)
		switch {
		case q <= 8:
			recs = append(recs, traffic.Record{Seq: q, Sent: sent, Src: "old"})
		case q >= 15:
			recs = append(recs, traffic.Record{Seq: q, Sent: sent, Src: "new"})
		}
	}
	sec, link := LostAround(recs, "old", "new", attach, iv)
	if sec != 4 || link != 2 {
		t.Fatalf("security %d link %d, want 4 and 2", sec, link)
	}
	if s, l := LostAround(recs, "old", "none", attach, iv); s != 0 || l != 0 {
		t.Fatal("no new records must give 0")
	}
	// The last datagram before the gap left 60 ms late (a loaded
	// sender): the missing ones keep their places on the grid, so seq 10
	// (scheduled at 450 ms) stays before the attachment (extrapolated from
	// the late one it would be at 510 ms).
	late := append([]traffic.Record(nil), recs...)
	for i := range late {
		if late[i].Seq == 8 {
			late[i].Sent += int64(60 * time.Millisecond)
		}
	}
	if sec, link := LostAround(late, "old", "new", attach, iv); sec != 4 || link != 2 {
		t.Fatalf("late last datagram: security %d link %d, want 4 and 2", sec, link)
	}
	late = append(late, traffic.Record{Seq: traffic.ProbeBit, Sent: 0, Src: "new"})
	if sec, link := LostAround(late, "old", "new", attach, iv); sec != 4 || link != 2 {
		t.Fatalf("with a probe: security %d link %d, want 4 and 2", sec, link)
	}
}
