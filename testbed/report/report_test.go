package report

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/ikectx/ikectx/testbed/traffic"
)

var (
	mnMAC = net.HardwareAddr{2, 0, 0, 0, 2, 0x64}
	arMAC = net.HardwareAddr{2, 0, 0, 0, 2, 1}
	mnIP  = net.ParseIP("2001:db8:2::100")
	arIP  = net.ParseIP("2001:db8:2::1")
	haIP  = net.ParseIP("2001:db8:3::1")
)

func frame(t *testing.T, l ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, l...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func eth() *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: mnMAC, DstMAC: arMAC, EthernetType: layers.EthernetTypeIPv6}
}

func ip6(next layers.IPProtocol, dst net.IP) *layers.IPv6 {
	return &layers.IPv6{Version: 6, NextHeader: next, HopLimit: 255, SrcIP: mnIP, DstIP: dst}
}

// cxtpICMP is an ICMPv6 type 150 message: subtype 1, reserved, then a CXTP
// message of cxtpLen octets of type typ.
func cxtpICMP(t *testing.T, typ byte, cxtpLen int) []byte {
	ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(150, 0)}
	ic.SetNetworkLayerForChecksum(ip6(layers.IPProtocolICMPv6, arIP))
	body := make([]byte, 4+cxtpLen)
	body[0] = 1
	body[4] = 1<<5 | typ
	body[6], body[7] = byte(cxtpLen>>8), byte(cxtpLen)
	return frame(t, eth(), ip6(layers.IPProtocolICMPv6, arIP), ic, gopacket.Payload(body))
}

func udp(t *testing.T, sport, dport int, payload int, dst net.IP) []byte {
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	ip := ip6(layers.IPProtocolUDP, dst)
	u.SetNetworkLayerForChecksum(ip)
	return frame(t, eth(), ip, u, gopacket.Payload(make([]byte, payload)))
}

func TestReadFramesPaperSizes(t *testing.T) {
	var pc bytes.Buffer
	w := pcapgo.NewWriter(&pc)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	frames := [][]byte{
		cxtpICMP(t, 1, 44),            // CTAR: 14+40+8+44 = 106
		udp(t, 40000, 9000, 64, haIP), // data: not counted
		cxtpICMP(t, 2, 20),            // CTAA: 14+40+8+20 = 82
		udp(t, 500, 500, 100, arIP),   // IKE
		udp(t, 4500, 4500, 104, arIP), // NAT-T
		cxtpICMP(t, 3, 16),            // another CXTP message
	}
	// neighbour solicitation: ICMPv6 but not CXTP
	ns := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(135, 0)}
	ns.SetNetworkLayerForChecksum(ip6(layers.IPProtocolICMPv6, arIP))
	frames = append(frames, frame(t, eth(), ip6(layers.IPProtocolICMPv6, arIP), ns, gopacket.Payload(make([]byte, 20))))
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadFrames(&pc)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind string
		n    int
	}{{KindCTAR, 106}, {KindCTAA, 82}, {KindIKE, 14 + 40 + 8 + 100}, {KindIKE, 14 + 40 + 8 + 104}, {KindCXTP, 14 + 40 + 8 + 16}}
	if len(got) != len(want) {
		t.Fatalf("got %d frames %+v", len(got), got)
	}
	for i, w := range want {
		if got[i].Kind != w.kind || got[i].Len != w.n {
			t.Errorf("frame %d: %s %d, want %s %d", i, got[i].Kind, got[i].Len, w.kind, w.n)
		}
	}
	if got[0].Src != "2001:db8:2::100" || got[0].Dst != "2001:db8:2::1" || got[0].At != t0.UnixNano() {
		t.Errorf("frame 0 %+v", got[0])
	}
	m, b, per := Count(got)
	if m != 5 || b != 106+82+162+166+78 || per[KindCTAR] != [2]int{1, 106} {
		t.Errorf("count %d %d %v", m, b, per)
	}
	if _, err := ReadFrames(strings.NewReader("not a pcap")); err == nil {
		t.Error("garbage pcap accepted")
	}
}

func synthetic() []Run {
	var runs []Run
	mk := func(sc string, i int, delayMS float64, frames []Frame) Run {
		attach := int64(1_000_000_000_000)
		r := Run{Scenario: sc, Index: i, Attach: attach, DelayMS: delayMS, Frames: frames}
		r.Restored = attach + int64(delayMS*1e6)
		seq := uint64(1)
		for tt := int64(-2e9); tt < 3e9; tt += 50e6 {
			if tt < 0 || tt >= int64(delayMS*1e6) {
				r.Records = append(r.Records, traffic.Record{Seq: seq, Sent: attach + tt, Recv: attach + tt + 1e6})
			} else {
				r.Lost++
			}
			seq++
		}
		return r
	}
	ike := func(n, size int) []Frame {
		f := make([]Frame, n)
		for i := range f {
			f[i] = Frame{Kind: KindIKE, Len: size}
		}
		return f
	}
	for i := 0; i < 3; i++ {
		runs = append(runs, mk(Main, i, 400+float64(i)*100, ike(11, 200)))
		runs = append(runs, mk(Aggressive, i, 300, ike(8, 230)))
		runs = append(runs, mk(Predictive, i, 4+float64(i), []Frame{{Kind: KindCTAR, Len: 106}, {Kind: KindCTAA, Len: 82}}))
	}
	runs = append(runs, Run{Scenario: Predictive, Index: 3, Error: "no CTAA"})
	return runs
}

func TestTable(t *testing.T) {
	tb := Build(synthetic(), map[string]string{Reactive: "ipsec-cxtpd not in the tree"})
	var md bytes.Buffer
	if err := tb.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	s := md.String()
	for _, want := range []string{
		"| IKEv1 main mode | 3 | 500 (400–600) | 10 (8–12) | 11 | 2200 | 1500 | 11 | 2182 |",
		"| IKEv1 aggressive mode | 3 | 300 | 6 | 8 | 1840 | 1300 | 8 | 1896 |",
		"| IKEv1 with context transfer (predictive) | 3 (+1 failed) | 5 (4–6) | 1 | 1 [1] | 106 [82] | 20 | 1 [1] | 106 [82] |",
		"| IKEv1 with context transfer (reactive) | 0 | not run (ipsec-cxtpd not in the tree) |",
		"delay ratio ikev1-main/cxtp-predictive: 100.0",
		"delay ratio ikev1-aggressive/cxtp-predictive: 60.0",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("markdown lacks %q:\n%s", want, s)
		}
	}
	var js bytes.Buffer
	if err := tb.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Rows []struct {
			Scenario string
			DelayMS  Stat `json:"delay_ms"`
			Lost     Stat `json:"lost_packets"`
			Messages Stat
			Bytes    Stat
			NotRun   string `json:"not_run"`
			Paper    *Paper
		}
		Ratios map[string]float64
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != len(Scenarios) || len(Scenarios) != 8 || back.Rows[0].Scenario != Main || back.Rows[0].DelayMS != (Stat{500, 400, 600}) ||
		back.Rows[0].Messages.Median != 11 || back.Rows[0].Paper.Bytes != 2182 || back.Rows[3].NotRun == "" ||
		back.Rows[2].Bytes.Median != 106 || back.Ratios["ikev1-main/cxtp-predictive"] != 100 {
		t.Errorf("json: %s", js.String())
	}
}

func TestStatEven(t *testing.T) {
	if s := stat([]float64{4, 1, 3, 2}); s != (Stat{2.5, 1, 4}) {
		t.Fatal(s)
	}
	if s := stat(nil); s != (Stat{}) {
		t.Fatal(s)
	}
}

func TestFigure4PNG(t *testing.T) {
	var b bytes.Buffer
	if err := Figure4(&b, synthetic()); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() < 500 || r.Dy() < 3*r.Dx()/4 {
		t.Errorf("image %v: want one panel per scenario that ran (3)", r)
	}
	b.Reset()
	if err := Figure4(&b, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&b); err != nil {
		t.Fatal(err)
	}
}

func TestPhases(t *testing.T) {
	r := Run{Attach: 1e9, Restored: 1e9 + 300e6, Frames: []Frame{{At: 1e9 + 250e6}, {At: 1e9 + 100e6}}}
	f, e, ok := r.Phases()
	if !ok || f != 100 || e != 200 {
		t.Fatal(f, e, ok)
	}
	if _, _, ok := (Run{Restored: 1}).Phases(); ok {
		t.Fatal("no frames must give ok=false")
	}
}

func TestRekeyRow(t *testing.T) {
	runs := []Run{
		{Scenario: Predictive, Index: 1, DelayMS: 100, Rekey: true, RekeyOK: true, RekeyMS: 200, RekeyFrames: 3, RekeyBytes: 862},
		{Scenario: Predictive, Index: 2, DelayMS: 120, Rekey: true, RekeyError: "no new ESP SAs"},
		{Scenario: Main, Index: 1, DelayMS: 500},
	}
	tb := Build(runs, nil)
	r := tb.row(Predictive)
	if r.Rekeys != 2 || r.RekeysOK != 1 || r.RekeyMS.Median != 200 || r.RekeyFrames.Median != 3 || len(r.RekeyErrors) != 1 {
		t.Fatalf("%+v", r)
	}
	if m := tb.row(Main); m.Rekeys != 0 {
		t.Errorf("main: %d rekeys", m.Rekeys)
	}
	var b strings.Builder
	if err := tb.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	want := "- quick-mode rekey MN<->nAR with the phase 1 transferred from the pAR, IKEv1 with context transfer (predictive): 1/2 ok, 200 ms, 3 IKE frames / 862 bytes on the MN's link, no new phase 1 (one ISAKMP SA on the MN and the nAR, the pAR's cookies), MN-HA datagrams through the new SAs; run 2: no new ESP SAs\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("markdown:\n%s", b.String())
	}
	if strings.Count(b.String(), "quick-mode rekey") != 1 {
		t.Errorf("one rekey line expected:\n%s", b.String())
	}
}

func TestPathOpenRow(t *testing.T) {
	runs := []Run{
		{Scenario: Predictive, Index: 1, DelayMS: 40, FloorMS: 20, RTTMS: 0.5, ProcRTTMS: 3, PathOpenMS: 22, GridWaitMS: 18, CTAAMS: 15, MNPrepareMS: 30, MNActivateMS: 3,
			Attach: 1e9, Frames: []Frame{{At: 1e9 + 2e6, Kind: KindCTAR, Len: 106}, {At: 1e9 + 14e6, Kind: KindCTAA, Len: 82}}},
		{Scenario: Predictive, Index: 2, DelayMS: 60, FloorMS: 20, PathOpenMS: 26, GridWaitMS: 34, CTAAMS: 17, MNPrepareMS: 32, MNActivateMS: 4},
		{Scenario: Predictive, Index: 3, DelayMS: 30, FloorMS: 20, PathOpenMS: 23, GridWaitMS: 7, CTAAMS: 16, MNPrepareMS: 31, MNActivateMS: 3},
		{Scenario: Main, Index: 1, DelayMS: 500},
	}
	tb := Build(runs, nil)
	r := tb.row(Predictive)
	if r.PathOpenMS.Median != 23 || r.GridWaitMS.Median != 18 || r.CTAAMS.Median != 16 || r.PathOpenFloor.Median != 1.15 || r.DelayFloor.Median != 2 {
		t.Fatalf("%+v", r)
	}
	if m := tb.row(Main); m.PathOpenMS.Max != 0 {
		t.Errorf("main: %+v", m.PathOpenMS)
	}
	var b strings.Builder
	if err := tb.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"- IKEv1 with context transfer (predictive): path open (attachment → first delivery through the new tunnel) 23 (22–26) ms",
		"CTAR on the MN's link at 2 ms, CTAA at 14 ms, CTAA at the MN's IPsec side 16 (15–17) ms",
		"over the floor of the same run: path open 1.15 (1.10–1.30) (within 20%: met), set-up delay 2.00 (1.50–3.00) (within 20%: not met); the MN-nAR round trip: ICMPv6 echo (in the floor) 0.5 ms, between two processes (UDP echo) 3 ms; UDP lost to security set-up 0\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
}

// TestCPURow: table1 --sched's CPU shares per process, median over the
// runs (absent from a run: 0 ms there), largest first.
func TestCPURow(t *testing.T) {
	runs := []Run{
		{Scenario: Predictive, Index: 1, DelayMS: 40, CPUMS: map[string]float64{"cxtpd@nar": 10, "driver": 4, "idle": 1}},
		{Scenario: Predictive, Index: 2, DelayMS: 50, CPUMS: map[string]float64{"cxtpd@nar": 12, "driver": 6}},
		{Scenario: Predictive, Index: 3, DelayMS: 45, CPUMS: map[string]float64{"cxtpd@nar": 8, "driver": 5, "idle": 2}},
		{Scenario: Main, Index: 1, DelayMS: 500},
	}
	tb := Build(runs, nil)
	r := tb.row(Predictive)
	if r.CPUMS["cxtpd@nar"].Median != 10 || r.CPUMS["idle"].Median != 1 || r.CPUMS["idle"].Min != 0 {
		t.Fatalf("%+v", r.CPUMS)
	}
	if tb.row(Main).CPUMS != nil {
		t.Fatal("main has no trace")
	}
	var b strings.Builder
	if err := tb.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	want := "- IKEv1 with context transfer (predictive): CPU time held between the attachment and the first delivery (kernel sched_switch trace, ms, median): cxtpd@nar 10.0, driver 5.0, idle 1.0\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("markdown lacks %q:\n%s", want, b.String())
	}
}
