package isakmp

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// vectorsDir finds shared/vectors/racoon-0.8.2 beside the repository.
func vectorsDir(t testing.TB) string {
	dir, _ := os.Getwd()
	for {
		for _, c := range []string{filepath.Join(dir, "shared"), filepath.Join(dir, "..", "shared")} {
			p := filepath.Join(c, "vectors", "racoon-0.8.2")
			if _, err := os.Stat(filepath.Join(p, "main-tunnel.pcap")); err == nil {
				return p
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared/vectors/racoon-0.8.2 not found beside the repository: capture tests skipped")
		}
		dir = parent
	}
}

type captured struct {
	src, dst netip.Addr
	frame    int // Ethernet frame length
	data     []byte
}

// readCapture returns the UDP/500 payloads of a pcap, decoded with gopacket.
func readCapture(t testing.TB, name string) []captured {
	f, err := os.Open(filepath.Join(vectorsDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []captured
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		ip6, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		udp, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if ip6 == nil || udp == nil || udp.DstPort != 500 {
			continue
		}
		s, _ := netip.AddrFromSlice(ip6.SrcIP)
		d, _ := netip.AddrFromSlice(ip6.DstIP)
		out = append(out, captured{src: s, dst: d, frame: len(data), data: udp.Payload})
	}
	return out
}

func hx(s string) []byte { b, _ := hex.DecodeString(s); return b }

// racoon's phase-1 transform: 3DES, SHA-1, pre-shared key, modp1024, 28800 s.
func checkRacoonSA(t *testing.T, sa *SA) {
	t.Helper()
	if sa.DOI != DOIIPsec || sa.Situation != SitIdentityOnly || len(sa.Proposals) != 1 {
		t.Fatalf("SA %+v", sa)
	}
	p := sa.Proposals[0]
	if p.Number != 1 || p.ProtocolID != ProtoISAKMP || len(p.SPI) != 0 || len(p.Transforms) != 1 {
		t.Fatalf("proposal %+v", p)
	}
	tr := p.Transforms[0]
	if tr.Number != 1 || tr.ID != TransformKeyIKE {
		t.Fatalf("transform %+v", tr)
	}
	want := map[uint16]uint64{OakleyLifeType: uint64(LifeSeconds), OakleyLifeDuration: 28800, OakleyEncryptionAlgorithm: uint64(Enc3DES),
		OakleyAuthMethod: uint64(AuthPreShared), OakleyHashAlgorithm: uint64(HashSHA), OakleyGroupDescription: uint64(GroupMODP1024)}
	if len(tr.Attributes) != len(want) {
		t.Errorf("%d attributes", len(tr.Attributes))
	}
	for typ, v := range want {
		a, ok := tr.Attr(typ)
		got, _ := a.Uint()
		if !ok || !a.TV || got != v {
			t.Errorf("attribute %d: %+v, want TV %d", typ, a, v)
		}
	}
	if err := CheckForms(tr.Attributes, true); err != nil {
		t.Error(err)
	}
}

type want struct {
	fromI    bool // initiator (fd00::1) to responder
	exchange ExchangeType
	flags    uint8
	next     PayloadType
	length   int
	frame    int
	payloads []PayloadType // plaintext messages
}

func checkCapture(t *testing.T, name string, ws []want) []*Message {
	msgs := readCapture(t, name)
	if len(msgs) != len(ws) {
		t.Fatalf("%s: %d ISAKMP messages, want %d", name, len(msgs), len(ws))
	}
	initiator := netip.MustParseAddr("fd00::1")
	var out []*Message
	var icookie [8]byte
	for i, c := range msgs {
		w := ws[i]
		m, err := Parse(c.data)
		if err != nil {
			t.Fatalf("%s message %d: %v", name, i+1, err)
		}
		h := m.Header
		if (c.src == initiator) != w.fromI || h.ExchangeType != w.exchange || h.Flags != w.flags || h.NextPayload != w.next ||
			int(h.Length) != w.length || c.frame != w.frame || h.Version != Version {
			t.Errorf("%s message %d: header %+v from %v frame %d, want %+v", name, i+1, h, c.src, c.frame, w)
		}
		if i == 0 {
			icookie = h.InitiatorCookie
			if h.ResponderCookie != [8]byte{} {
				t.Errorf("first message has a responder cookie")
			}
		} else if h.InitiatorCookie != icookie || h.ResponderCookie == [8]byte{} {
			t.Errorf("%s message %d: cookies %x %x", name, i+1, h.InitiatorCookie, h.ResponderCookie)
		}
		if h.Encrypted() {
			if len(m.Encrypted) != w.length-HeaderLen || len(m.Encrypted)%8 != 0 {
				t.Errorf("%s message %d: %d encrypted bytes (3DES blocks of 8)", name, i+1, len(m.Encrypted))
			}
		} else {
			var got []PayloadType
			for _, p := range m.Payloads {
				got = append(got, p.PayloadType())
			}
			if len(got) != len(w.payloads) {
				t.Errorf("%s message %d: payloads %v, want %v", name, i+1, got, w.payloads)
			}
			for j := range got {
				if j < len(w.payloads) && got[j] != w.payloads[j] {
					t.Errorf("%s message %d: payloads %v, want %v", name, i+1, got, w.payloads)
					break
				}
			}
		}
		// the codec reproduces racoon's bytes exactly
		enc, err := m.Marshal()
		if err != nil || !bytes.Equal(enc, c.data) {
			t.Errorf("%s message %d: re-encoding differs (%v)\n got %x\nwant %x", name, i+1, err, enc, c.data)
		}
		out = append(out, m)
	}
	return out
}

func TestRacoonMainTunnel(t *testing.T) {
	I, R := true, false
	main, info, quick := ExchangeIdentityProt, ExchangeInformational, ExchangeQuick
	ms := checkCapture(t, "main-tunnel.pcap", []want{
		{I, main, 0, PayloadSA, 100, 162, []PayloadType{PayloadSA, PayloadVendorID}},
		{R, main, 0, PayloadSA, 100, 162, []PayloadType{PayloadSA, PayloadVendorID}},
		{I, main, 0, PayloadKE, 180, 242, []PayloadType{PayloadKE, PayloadNonce}},
		{R, main, 0, PayloadKE, 180, 242, []PayloadType{PayloadKE, PayloadNonce}},
		{I, main, FlagEncryption, PayloadID, 84, 146, nil},
		{R, main, FlagEncryption, PayloadID, 84, 146, nil},
		{R, info, FlagEncryption, PayloadHash, 84, 146, nil},
		{I, info, FlagEncryption, PayloadHash, 84, 146, nil},
		{I, quick, FlagEncryption, PayloadHash, 340, 402, nil},
		{R, quick, FlagEncryption, PayloadHash, 340, 402, nil},
		{I, quick, FlagEncryption, PayloadHash, 60, 122, nil},
	})
	if t.Failed() {
		return
	}
	checkRacoonSA(t, ms[0].Payloads[0].(*SA))
	checkRacoonSA(t, ms[1].Payloads[0].(*SA))
	for _, i := range []int{0, 1} {
		if v := ms[i].Payloads[1].(*VendorID); !bytes.Equal(v.Data, VendorDPD) {
			t.Errorf("message %d: vendor ID %x, want DPD", i+1, v.Data)
		}
	}
	// KE and nonces as racoon's debug log printed them (main-tunnel.log)
	ni, nr := ms[2].Payloads[1].(*Nonce), ms[3].Payloads[1].(*Nonce)
	if !bytes.Equal(ni.Data, hx("afe9c8802a7d12453faad7cbf9d46ace")) || !bytes.Equal(nr.Data, hx("c4bbbc459e211ccdd55481afca5039b1")) {
		t.Errorf("nonces %x %x", ni.Data, nr.Data)
	}
	ker := ms[3].Payloads[0].(*KE)
	if len(ker.Data) != 128 || !bytes.HasPrefix(ker.Data, hx("a4ef2a7b6e0957f7b5cdb68fbbeebc4e")) {
		t.Errorf("responder KE %x", ker.Data)
	}
	if len(ms[2].Payloads[0].(*KE).Data) != 128 {
		t.Error("initiator KE is not 128 bytes (modp1024)")
	}
	// the informationals and the quick mode have fresh message IDs; quick mode's three share one
	if ms[6].Header.MessageID == 0 || ms[6].Header.MessageID == ms[7].Header.MessageID ||
		ms[8].Header.MessageID != ms[9].Header.MessageID || ms[9].Header.MessageID != ms[10].Header.MessageID {
		t.Errorf("message IDs %08x %08x %08x %08x %08x", ms[6].Header.MessageID, ms[7].Header.MessageID,
			ms[8].Header.MessageID, ms[9].Header.MessageID, ms[10].Header.MessageID)
	}
}

func TestRacoonAggressiveTransport(t *testing.T) {
	I, R := true, false
	agg, info, quick := ExchangeAggressive, ExchangeInformational, ExchangeQuick
	ms := checkCapture(t, "aggr-transport.pcap", []want{
		{I, agg, 0, PayloadSA, 276, 338, []PayloadType{PayloadSA, PayloadKE, PayloadNonce, PayloadID, PayloadVendorID}},
		{R, agg, 0, PayloadSA, 300, 362, []PayloadType{PayloadSA, PayloadKE, PayloadNonce, PayloadID, PayloadHash, PayloadVendorID}},
		{I, agg, 0, PayloadHash, 52, 114, []PayloadType{PayloadHash}},
		{R, info, FlagEncryption, PayloadHash, 84, 146, nil},
		{I, info, FlagEncryption, PayloadHash, 84, 146, nil},
		{I, quick, FlagEncryption, PayloadHash, 308, 370, nil},
		{R, quick, FlagEncryption, PayloadHash, 308, 370, nil},
		{I, quick, FlagEncryption, PayloadHash, 60, 122, nil},
	})
	if t.Failed() {
		return
	}
	checkRacoonSA(t, ms[0].Payloads[0].(*SA))
	checkRacoonSA(t, ms[1].Payloads[0].(*SA))
	for i, addr := range []string{"fd00::1", "fd00::2"} {
		id := ms[i].Payload(PayloadID).(*ID)
		a, err := id.Addr()
		if err != nil || a != netip.MustParseAddr(addr) || id.Type != IDIPv6Addr || id.ProtocolID != 17 || id.Port != 500 {
			t.Errorf("message %d ID %+v %v", i+1, id, err)
		}
		if n := ms[i].Payload(PayloadNonce).(*Nonce); len(n.Data) != 16 {
			t.Errorf("nonce of %d bytes", len(n.Data))
		}
		if k := ms[i].Payload(PayloadKE).(*KE); len(k.Data) != 128 {
			t.Errorf("KE of %d bytes", len(k.Data))
		}
	}
	for _, i := range []int{1, 2} {
		if h := ms[i].Payload(PayloadHash).(*Hash); len(h.Data) != 20 {
			t.Errorf("message %d: HASH of %d bytes (SHA-1)", i+1, len(h.Data))
		}
	}
	// frame bytes of the whole exchange, as the paper counts them
	total := 0
	for _, c := range readCapture(t, "aggr-transport.pcap") {
		total += c.frame
	}
	if total != 1968 {
		t.Errorf("aggressive + quick: %d frame bytes, racoon-behaviour.md says 1968", total)
	}
}

func benchMessage(b *testing.B) []byte {
	msgs := readCapture(b, "aggr-transport.pcap")
	return msgs[0].data // SA, KE, nonce, ID, VID: 276 bytes
}

func BenchmarkParseAggressive1(b *testing.B) {
	data := benchMessage(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalAggressive1(b *testing.B) {
	m, err := Parse(benchMessage(b))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(m.Header.Length))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := m.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
