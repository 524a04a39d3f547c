package wireshark

import (
	"bytes"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/ikectx/ikectx/cxtp"
	"github.com/ikectx/ikectx/cxtp/transport"
)

var (
	mnCoA  = netip.MustParseAddr("2001:db8:1::10")
	pAR    = netip.MustParseAddr("2001:db8:1::1")
	nAR    = netip.MustParseAddr("2001:db8:2::1")
	nCoA   = netip.MustParseAddr("2001:db8:2::10")
	mnCoA4 = netip.MustParseAddr("198.51.100.10")
	pAR4   = netip.MustParseAddr("198.51.100.1")
	nAR4   = netip.MustParseAddr("203.0.113.1")
	macA   = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macB   = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
)

type via int

const (
	viaICMPv6 via = iota
	viaUDP
	viaSCTP
)

// A sample is one frame of the capture and the tshark fields it must show
// (field -> value as printed by -T fields; "" means the field must be
// absent).
type sample struct {
	name     string
	msg      cxtp.Message
	raw      []byte // used instead of msg when set (malformed input)
	via      via
	src, dst netip.Addr
	want     map[string]string
}

func samples() []sample {
	key := bytes.Repeat([]byte{0x0b}, 20)
	cdbs := []cxtp.CDB{
		{FPT: cxtp.FPTIPsecSA, Data: []byte("sa-record")},
		{FPT: cxtp.FPTIPsecSP, HasPresence: true, Presence: 0x5, Data: []byte("policy")},
	}
	ctar := &cxtp.CTAR{PrevCoA: mnCoA, PrevAR: pAR, Seq: 77, FPTs: nil}
	ctar.Token = cxtp.Token(key, mnCoA, 77, nil)
	return []sample{
		{"CTAR", ctar, nil, viaICMPv6, nCoA, nAR, map[string]string{
			"cxtp.type": "1", "cxtp.version": "1", "cxtp.length": "44", "cxtp.flags.v": "0", "cxtp.flags.a": "0",
			"cxtp.prev_coa": "2001:db8:1::10", "cxtp.prev_ar": "2001:db8:1::1", "cxtp.seq": "77",
			"cxtp.token": hexs(ctar.Token[:]), "cxtp.req_fpt": "", "frame.len": "106"}},
		{"CTAR with FPTs", &cxtp.CTAR{Ack: true, PrevCoA: mnCoA, PrevAR: pAR, Seq: 78, Token: [4]byte{1, 2, 3, 4}, FPTs: []cxtp.FPT{0x8001, 0x8003}}, nil, viaICMPv6, nCoA, nAR, map[string]string{
			"cxtp.type": "1", "cxtp.flags.a": "1", "cxtp.length": "52", "cxtp.req_fpt": "0x8001,0x8003", "cxtp.req_len": "0,0", "cxtp.req_p": "0,0", "cxtp.token": "01020304"}},
		{"CTAR IPv4 form", &cxtp.CTAR{PrevCoA: mnCoA4, PrevAR: pAR4, Seq: 5, Token: [4]byte{9, 9, 9, 9}}, nil, viaICMPv6, nCoA, nAR, map[string]string{
			"cxtp.type": "1", "cxtp.flags.v": "1", "cxtp.length": "20", "cxtp.prev_coa4": "198.51.100.10", "cxtp.prev_ar4": "198.51.100.1", "cxtp.seq": "5"}},
		{"CTAA", &cxtp.CTAA{PrevCoA: mnCoA}, nil, viaICMPv6, nAR, nCoA, map[string]string{
			"cxtp.type": "2", "cxtp.length": "20", "cxtp.prev_coa": "2001:db8:1::10", "cxtp.status.fpt": "", "frame.len": "82"}},
		{"CTAA with failure", &cxtp.CTAA{PrevCoA: mnCoA, Failures: []cxtp.FPTStatus{{FPT: 0x8003, Status: cxtp.StatusUnsupportedFPT}}}, nil, viaICMPv6, nAR, nCoA, map[string]string{
			"cxtp.type": "2", "cxtp.status.fpt": "0x8003", "cxtp.status.code": "0x82"}},
		{"CTD", &cxtp.CTD{Ack: true, ElapsedTime: 12, PrevCoA: mnCoA, CDBs: cdbs}, nil, viaUDP, pAR, nAR, map[string]string{
			"cxtp.type": "3", "cxtp.flags.a": "1", "cxtp.elapsed": "12", "cxtp.prev_coa": "2001:db8:1::10",
			"cxtp.cdb.fpt": "0x8001,0x8002", "cxtp.cdb.len": "2,2", "cxtp.cdb.p": "0,1", "cxtp.cdb.presence": "0x00000005",
			"cxtp.cdb.data": hexs([]byte("sa-record\x00\x00\x00")) + "," + hexs([]byte("policy\x00\x00"))}},
		{"PCTD", &cxtp.PCTD{Ack: true, ElapsedTime: 0, PrevCoA: mnCoA, Algorithm: cxtp.AlgHMACSHA1, Key: key, CDBs: cdbs[:1]}, nil, viaUDP, pAR, nAR, map[string]string{
			"cxtp.type": "4", "cxtp.flags.a": "1", "cxtp.alg": "1", "cxtp.key_len": "20", "cxtp.key": "",
			"cxtp.key_pad": "", "cxtp.length": "64", "cxtp.cdb.fpt": "0x8001"}},
		{"PCTD 3-octet key", &cxtp.PCTD{PrevCoA: mnCoA, Algorithm: cxtp.AlgHMACSHA1, Key: key[:3]}, nil, viaUDP, pAR, nAR, map[string]string{
			"cxtp.type": "4", "cxtp.alg": "1", "cxtp.key_len": "3", "cxtp.key_pad": "00", "cxtp.length": "32"}},
		{"CTDR success", &cxtp.CTDR{Success: true, PrevCoA: mnCoA}, nil, viaUDP, nAR, pAR, map[string]string{
			"cxtp.type": "5", "cxtp.flags.s": "1", "cxtp.status.fpt": ""}},
		{"CTDR statuses", &cxtp.CTDR{PrevCoA: mnCoA, Status: []cxtp.FPTStatus{{FPT: 0x8001, Status: cxtp.StatusSuccess}, {FPT: 0x8002, Status: cxtp.StatusAuthFailed}}}, nil, viaUDP, nAR, pAR, map[string]string{
			"cxtp.type": "5", "cxtp.flags.s": "0", "cxtp.status.fpt": "0x8001,0x8002", "cxtp.status.code": "0x00,0x81"}},
		{"CTDR BAD_CHECKSUM", &cxtp.CTDR{PrevCoA: mnCoA, Status: []cxtp.FPTStatus{{FPT: 0x8001, Status: cxtp.StatusBadChecksum}}}, nil, viaUDP, nAR, pAR, map[string]string{
			"cxtp.type": "5", "cxtp.status.code": "0x01"}},
		{"CTC", &cxtp.CTC{PrevCoA: mnCoA}, nil, viaUDP, nAR, pAR, map[string]string{
			"cxtp.type": "6", "cxtp.length": "20", "cxtp.prev_coa": "2001:db8:1::10"}},
		{"CT-Req", &cxtp.CTReq{PrevCoA: mnCoA, Seq: 77, Token: ctar.Token, FPTs: []cxtp.FPT{0x8001}}, nil, viaUDP, nAR, pAR, map[string]string{
			"cxtp.type": "7", "cxtp.seq": "77", "cxtp.token": hexs(ctar.Token[:]), "cxtp.req_fpt": "0x8001", "cxtp.prev_ar": ""}},
		{"CTD IPv4 over UDP/IPv4", &cxtp.CTD{ElapsedTime: 3, PrevCoA: mnCoA4, CDBs: cdbs[:1]}, nil, viaUDP, pAR4, nAR4, map[string]string{
			"cxtp.type": "3", "cxtp.flags.v": "1", "cxtp.flags.a": "0", "cxtp.prev_coa4": "198.51.100.10", "cxtp.elapsed": "3"}},
		{"CT-Req IPv4", &cxtp.CTReq{PrevCoA: mnCoA4, Seq: 1}, nil, viaUDP, nAR4, pAR4, map[string]string{
			"cxtp.type": "7", "cxtp.flags.v": "1", "cxtp.prev_coa4": "198.51.100.10"}},
		{"CTC IPv4", &cxtp.CTC{PrevCoA: mnCoA4}, nil, viaUDP, nAR4, pAR4, map[string]string{
			"cxtp.type": "6", "cxtp.length": "8", "cxtp.prev_coa4": "198.51.100.10"}},
		{"PCTD over SCTP", &cxtp.PCTD{PrevCoA: mnCoA, Algorithm: cxtp.AlgHMACSHA1, Key: key[:16], CDBs: cdbs}, nil, viaSCTP, pAR, nAR, map[string]string{
			"cxtp.type": "4", "cxtp.key_len": "16", "cxtp.cdb.fpt": "0x8001,0x8002", "sctp.dstport": "5091"}},
		{"truncated CTAR", nil, []byte{0x21, 0x00, 0x00, 0x2c, 0x20, 0x01}, viaICMPv6, nCoA, nAR, map[string]string{
			"cxtp.type": "1", "_ws.expert.message": "length field 44, message 6 octets"}},
	}
}

func hexs(b []byte) string {
	const h = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(h[c>>4])
		s.WriteByte(h[c&15])
	}
	return s.String()
}

// frameFor serializes one Ethernet frame with gopacket.
func frameFor(t *testing.T, s sample) []byte {
	t.Helper()
	payload := s.raw
	if payload == nil {
		var err error
		if payload, err = cxtp.Marshal(s.msg); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv6}
	var net gopacket.NetworkLayer
	var ls []gopacket.SerializableLayer
	if s.src.Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: s.src.AsSlice(), DstIP: s.dst.AsSlice()}
		net = ip
		ls = append(ls, eth, ip)
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: s.src.AsSlice(), DstIP: s.dst.AsSlice()}
		net = ip
		ls = append(ls, eth, ip)
	}
	setProto := func(p layers.IPProtocol) {
		switch ip := net.(type) {
		case *layers.IPv4:
			ip.Protocol = p
		case *layers.IPv6:
			ip.NextHeader = p
		}
	}
	switch s.via {
	case viaICMPv6:
		setProto(layers.IPProtocolICMPv6)
		net.(*layers.IPv6).HopLimit = 255
		ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(cxtp.ICMPv6Type, cxtp.ICMPv6Code)}
		ic.SetNetworkLayerForChecksum(net)
		// ICMPv6 payload: subtype, 3 reserved octets, the CXTP message.
		body := transport.AppendICMPv6(nil, payload)[4:]
		ls = append(ls, ic, gopacket.Payload(body))
	case viaUDP:
		setProto(layers.IPProtocolUDP)
		u := &layers.UDP{SrcPort: cxtp.Port, DstPort: cxtp.Port}
		u.SetNetworkLayerForChecksum(net)
		ls = append(ls, u, gopacket.Payload(payload))
	case viaSCTP:
		setProto(layers.IPProtocolSCTP)
		sc := &layers.SCTP{SrcPort: cxtp.Port, DstPort: cxtp.Port, VerificationTag: 0x01020304}
		data := &layers.SCTPData{
			SCTPChunk: layers.SCTPChunk{Type: layers.SCTPChunkTypeData},
			Unordered: true, BeginFragment: true, EndFragment: true,
			TSN: 1,
		}
		ls = append(ls, sc, data, gopacket.Payload(payload))
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("%s: serialize: %v", s.name, err)
	}
	return buf.Bytes()
}

func writeCapture(t *testing.T, path string, ss []sample) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2008, 8, 22, 12, 0, 0, 0, time.UTC)
	for i, s := range ss {
		b := frameFor(t, s)
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(b), Length: len(b)}
		if err := w.WritePacket(ci, b); err != nil {
			t.Fatal(err)
		}
	}
}

var fieldNames = []string{
	"frame.len", "_ws.col.Protocol", "_ws.col.Info", "sctp.dstport",
	"cxtp.version", "cxtp.type", "cxtp.flags.v", "cxtp.flags.a", "cxtp.flags.s", "cxtp.length",
	"cxtp.prev_coa", "cxtp.prev_coa4", "cxtp.prev_ar", "cxtp.prev_ar4", "cxtp.seq", "cxtp.token",
	"cxtp.req_fpt", "cxtp.req_len", "cxtp.req_p", "cxtp.elapsed", "cxtp.alg", "cxtp.key_len", "cxtp.key", "cxtp.key_pad",
	"cxtp.status.fpt", "cxtp.status.code", "cxtp.cdb.fpt", "cxtp.cdb.len", "cxtp.cdb.p",
	"cxtp.cdb.presence", "cxtp.cdb.data", "_ws.expert.message",
	"cxtp_icmpv6.type", "cxtp_icmpv6.subtype", "cxtp_icmpv6.checksum.status",
}

func tshark(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("tshark", args...)
	// No personal configuration: the test must not depend on the user's
	// Wireshark profile.
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if strings.Contains(stderr.String(), "Lua") || strings.Contains(stderr.String(), "lua") {
		t.Fatalf("tshark reported a Lua problem:\n%s", stderr.String())
	}
	return string(out)
}

func requireTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
}

// TestDissectorAllMessages writes a capture with every CXTP message type
// (both address families, ICMPv6, UDP and SCTP) and checks the fields
// Debian's tshark decodes with cxtp.lua.
func TestDissectorAllMessages(t *testing.T) {
	requireTshark(t)
	ss := samples()
	dir := t.TempDir()
	pcap := filepath.Join(dir, "cxtp-all.pcap")
	if p := os.Getenv("CXTP_DISSECTOR_PCAP_OUT"); p != "" {
		pcap = p
	}
	writeCapture(t, pcap, ss)
	script, _ := filepath.Abs("cxtp.lua")

	args := []string{"-X", "lua_script:" + script, "-r", pcap, "-T", "fields",
		"-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, f := range fieldNames {
		args = append(args, "-e", f)
	}
	out := strings.TrimRight(tshark(t, args...), "\n")
	rows := strings.Split(out, "\n")
	if len(rows) != len(ss) {
		t.Fatalf("tshark printed %d rows for %d frames:\n%s", len(rows), len(ss), out)
	}
	seen := map[string]bool{}
	for i, s := range ss {
		cols := strings.Split(rows[i], "|")
		if len(cols) != len(fieldNames) {
			t.Fatalf("%s: %d columns: %q", s.name, len(cols), rows[i])
		}
		got := map[string]string{}
		for j, f := range fieldNames {
			got[f] = cols[j]
		}
		if got["_ws.col.Protocol"] != "CXTP" {
			t.Errorf("%s: protocol column %q", s.name, got["_ws.col.Protocol"])
		}
		for f, w := range s.want {
			if got[f] != w {
				t.Errorf("%s: %s = %q, want %q (info %q)", s.name, f, got[f], w, got["_ws.col.Info"])
			}
		}
		if s.via == viaICMPv6 && (got["cxtp_icmpv6.type"] != "150" || got["cxtp_icmpv6.subtype"] != "1" || got["cxtp_icmpv6.checksum.status"] != "1") {
			t.Errorf("%s: ICMPv6 header type %q subtype %q checksum status %q", s.name,
				got["cxtp_icmpv6.type"], got["cxtp_icmpv6.subtype"], got["cxtp_icmpv6.checksum.status"])
		}
		if s.raw == nil && got["_ws.expert.message"] != "" {
			t.Errorf("%s: expert info %q on a valid message", s.name, got["_ws.expert.message"])
		}
		seen[got["cxtp.type"]] = true
	}
	for ty := 1; ty <= 7; ty++ {
		if !seen[string(rune('0'+ty))] {
			t.Errorf("message type %d not decoded", ty)
		}
	}

	// The PCTD key is hidden unless asked for.
	keyArgs := []string{"-X", "lua_script:" + script, "-r", pcap, "-o", "cxtp.show_key:TRUE",
		"-Y", "cxtp.type == 4 && udp && cxtp.key_len == 20", "-T", "fields", "-e", "cxtp.key"}
	if k := strings.TrimSpace(tshark(t, keyArgs...)); k != strings.Repeat("0b", 20) {
		t.Errorf("with cxtp.show_key the key is %q", k)
	}
	verbose := tshark(t, "-X", "lua_script:"+script, "-r", pcap, "-V", "-Y", "cxtp.type == 4 && udp && cxtp.key_len == 20")
	if strings.Contains(verbose, strings.Repeat("0b", 8)) || !strings.Contains(verbose, "Key: 20 octets (hidden") {
		t.Errorf("verbose output shows key bytes or no hidden-key line:\n%s", verbose)
	}
	if !strings.Contains(verbose, "Context Transfer Protocol, PCTD") || !strings.Contains(verbose, "Context Data Block 0: FPT 0x8001") {
		t.Errorf("verbose tree lacks the CXTP/CDB lines:\n%s", verbose)
	}
}

// TestDissectorDoesNotBreakICMPv6 checks that other ICMPv6 messages still
// decode as before with the wrapper installed.
func TestDissectorDoesNotBreakICMPv6(t *testing.T) {
	requireTshark(t)
	pcap := filepath.Join(t.TempDir(), "echo.pcap")
	f, _ := os.Create(pcap)
	w := pcapgo.NewWriter(f)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: nCoA.AsSlice(), DstIP: nAR.AsSlice()}
	ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
	ic.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv6}, ip, ic,
		&layers.ICMPv6Echo{Identifier: 1, SeqNumber: 2}, gopacket.Payload("ping"))
	w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes())
	f.Close()
	script, _ := filepath.Abs("cxtp.lua")
	out := tshark(t, "-X", "lua_script:"+script, "-r", pcap, "-T", "fields", "-e", "icmpv6.type", "-e", "icmpv6.echo.sequence_number", "-e", "cxtp.type")
	if strings.TrimSpace(out) != "128\t2\t" && strings.TrimRight(out, "\n") != "128\t2\t" {
		t.Fatalf("echo request decodes as %q", out)
	}
}

// TestDissectorTruncations feeds the dissector every prefix of every sample
// message (and a copy with the length field patched to match) over UDP and
// ICMPv6: it must flag them as malformed, never raise a Lua error.
func TestDissectorTruncations(t *testing.T) {
	requireTshark(t)
	var ss []sample
	for _, s := range samples() {
		if s.raw != nil {
			continue
		}
		full, _ := cxtp.Marshal(s.msg)
		for n := 0; n < len(full); n++ {
			cut := make([]byte, n) // non-nil even when empty
			copy(cut, full)
			if n == 0 {
				// UDP does not call a sub-dissector for an empty
				// payload; ICMPv6 type 150/1 without CXTP octets is
				// flagged.
				ss = append(ss, sample{name: s.name, raw: cut, via: viaICMPv6, src: nCoA, dst: nAR})
			} else {
				ss = append(ss, sample{name: s.name, raw: cut, via: viaUDP, src: pAR, dst: nAR})
			}
			if n >= 4 {
				fixed := append([]byte(nil), cut...)
				fixed[2], fixed[3] = byte(n>>8), byte(n)
				ss = append(ss, sample{name: s.name + " (length patched)", raw: fixed, via: viaICMPv6, src: nCoA, dst: nAR})
			}
		}
	}
	pcap := filepath.Join(t.TempDir(), "cxtp-truncated.pcap")
	writeCapture(t, pcap, ss)
	script, _ := filepath.Abs("cxtp.lua")
	out := tshark(t, "-X", "lua_script:"+script, "-r", pcap, "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message")
	rows := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(rows) != len(ss) {
		t.Fatalf("%d rows for %d frames", len(rows), len(ss))
	}
	valid := 0
	for i, row := range rows {
		if strings.Contains(row, "Lua Error") {
			t.Errorf("%s, %d octets: %s", ss[i].name, len(ss[i].raw), row)
		}
		// A patched prefix may still be a valid, shorter message (e.g. a
		// CTAR without its FPT list); everything else must be flagged.
		flagged := !strings.HasSuffix(row, "\t")
		_, perr := cxtp.Parse(ss[i].raw)
		if perr != nil && !flagged {
			t.Errorf("%s, %d octets: the Go decoder rejects it (%v) but the dissector does not flag it", ss[i].name, len(ss[i].raw), perr)
		}
		if perr == nil {
			valid++
			if flagged {
				t.Errorf("%s, %d octets: valid for the Go decoder, flagged by the dissector: %s", ss[i].name, len(ss[i].raw), row)
			}
		}
	}
	t.Logf("%d truncated frames, %d decoded as a valid shorter message", len(ss), valid)
}

// TestDissectorAgreesWithDecoder mutates the sample messages at random
// (seeded) and checks that the dissector flags exactly the inputs the Go
// decoder rejects, and never raises a Lua error.
func TestDissectorAgreesWithDecoder(t *testing.T) {
	requireTshark(t)
	r := rand.New(rand.NewPCG(4067, 2005))
	base := samples()
	var ss []sample
	for range 600 {
		s := base[r.IntN(len(base))]
		if s.raw != nil {
			continue
		}
		b, _ := cxtp.Marshal(s.msg)
		for range 1 + r.IntN(3) {
			i := r.IntN(len(b))
			switch r.IntN(3) {
			case 0:
				b[i] ^= 1 << r.IntN(8)
			case 1:
				b[i] = byte(r.Uint32())
			case 2:
				if len(b) > 8 {
					b = b[:len(b)-1-r.IntN(4)]
					b[2], b[3] = byte(len(b)>>8), byte(len(b))
				}
			}
		}
		ss = append(ss, sample{name: s.name, raw: b, via: viaUDP, src: pAR, dst: nAR})
	}
	pcap := filepath.Join(t.TempDir(), "cxtp-mutated.pcap")
	writeCapture(t, pcap, ss)
	script, _ := filepath.Abs("cxtp.lua")
	out := tshark(t, "-X", "lua_script:"+script, "-r", pcap, "-T", "fields", "-e", "cxtp.type", "-e", "_ws.expert.message")
	rows := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(rows) != len(ss) {
		t.Fatalf("%d rows for %d frames", len(rows), len(ss))
	}
	bad := 0
	for i, row := range rows {
		if strings.Contains(row, "Lua Error") {
			t.Errorf("frame %d: %s", i+1, row)
		}
		flagged := !strings.HasSuffix(row, "\t")
		_, err := cxtp.Parse(ss[i].raw)
		if (err != nil) != flagged {
			t.Errorf("frame %d (% x): Go decoder error %v, dissector %q", i+1, ss[i].raw, err, row)
		}
		if err != nil {
			bad++
		}
	}
	t.Logf("%d mutated messages, %d invalid; decoder and dissector agree", len(ss), bad)
}
