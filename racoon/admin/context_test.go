package admin

import (
	"bytes"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleContext() *Phase1Context {
	seq := func(n int, start byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = start + byte(i)
		}
		return b
	}
	return &Phase1Context{
		Index:        Index{I: [8]byte{0xd9, 0xd9, 0x19, 0x84, 0x84, 0xa2, 0xf7, 0xe6}, R: [8]byte{0x51, 0x9b, 0x7a, 0x1f, 0x76, 0xdf, 0x89, 0x7b}},
		Version:      0x10,
		ExchangeType: 2,
		Side:         Initiator,
		EncAlg:       5,
		HashAlg:      2,
		AuthMethod:   1,
		DHGroup:      2,
		Flags:        Phase1FlagDPD | Phase1FlagInitialContact,
		Lifetime:     28800 * time.Second,
		Created:      time.Unix(1795763494, 0),
		Local:        netip.MustParseAddrPort("[fd00::1]:500"),
		Remote:       netip.MustParseAddrPort("[fd00::2]:500"),
		LocalID:      Identity{Type: 5, Data: netip.MustParseAddr("fd00::1").AsSlice()},
		RemoteID:     Identity{Type: 5, Data: netip.MustParseAddr("fd00::2").AsSlice()},
		NonceI:       seq(16, 0x10),
		NonceR:       seq(16, 0x20),
		SKEYIDd:      seq(20, 0x30),
		SKEYIDa:      seq(20, 0x50),
		SKEYIDe:      seq(20, 0x70),
		EncKey:       seq(24, 0x90),
		IV:           seq(8, 0xb0),
		MessageIVs:   []MessageIV{{MsgID: 0x01020304, IV: seq(8, 0xc0)}},
		MessageIDs:   []uint32{0x01020304, 0xcafebabe},
		RemoteName:   "fd00::2",
	}
}

func TestContextRoundTrip(t *testing.T) {
	pc := sampleContext()
	b, err := pc.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePhase1Context(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, pc) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got, pc)
	}
	b2, _ := got.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Fatal("re-encoding differs")
	}
	// Every truncation fails cleanly.
	for i := 0; i < len(b); i++ {
		if _, err := ParsePhase1Context(b[:i]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", i)
		}
	}
}

func TestContextNoKeysPrinted(t *testing.T) {
	pc := sampleContext()
	for _, s := range []string{fmt.Sprint(pc), fmt.Sprintf("%+v", pc), fmt.Sprintf("%#v", pc), fmt.Sprintf("%v %x", pc.EncKey, pc.SKEYIDa)} {
		if strings.Contains(s, "909192") || strings.Contains(s, "[144 145") || strings.Contains(s, "505152") {
			t.Fatalf("key bytes printed: %s", s)
		}
	}
	pc.Wipe()
	for _, k := range [][]byte{pc.SKEYIDd, pc.SKEYIDa, pc.SKEYIDe, pc.EncKey, pc.IV, pc.MessageIVs[0].IV} {
		if !bytes.Equal(k, make([]byte, len(k))) {
			t.Fatal("not wiped")
		}
	}
}

// TestContextGolden builds the version-1 encoding by hand from the layout
// in doc.go.
func TestContextGolden(t *testing.T) {
	pc := &Phase1Context{
		Index:        Index{I: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, R: [8]byte{9, 10, 11, 12, 13, 14, 15, 16}},
		Version:      0x10,
		ExchangeType: 4,
		Side:         Responder,
		EncAlg:       7,
		KeyLength:    128,
		HashAlg:      4,
		AuthMethod:   1,
		DHGroup:      14,
		Flags:        Phase1FlagInitialContact,
		Lifetime:     3600 * time.Second,
		Created:      time.Unix(0x6b081a26, 0),
		Local:        netip.MustParseAddrPort("192.0.2.1:500"),
		Remote:       netip.MustParseAddrPort("[2001:db8::2]:4500"),
		LocalID:      Identity{Type: 2, Data: []byte("gw")},
		RemoteID:     Identity{Type: 1, Proto: 17, Port: 500, Data: []byte{192, 0, 2, 2}},
		NonceI:       []byte{0xa1, 0xa2},
		NonceR:       []byte{0xb1},
		SKEYIDd:      Secret{0xd1},
		SKEYIDa:      Secret{0xa1, 0xa2},
		SKEYIDe:      Secret{0xe1},
		EncKey:       Secret{0xee, 0xee},
		IV:           Secret{0x11, 0x22, 0x33, 0x44},
		MessageIVs:   []MessageIV{{MsgID: 0xcafebabe, IV: Secret{0x55}}},
		MessageIDs:   []uint32{0xcafebabe, 7},
		RemoteName:   "x",
	}
	want := unhex(t, `
		494b5031 0001 00a3
		0102030405060708 090a0b0c0d0e0f10
		10 04 01 00
		0007 0080 0004 0001 000e 0000
		00000002
		00000e10
		000000006b081a26
		04 00 01f4 c0000201 000000000000000000000000
		06 00 1194 20010db8000000000000000000000002
		0006 02000000 6777
		0008 01 11 01f4 c0000202
		0002 a1a2
		0001 b1
		0001 d1
		0002 a1a2
		0001 e1
		0002 eeee
		0004 11223344
		0001 78
		0001 cafebabe 0001 55
		0002 cafebabe 00000007`)
	got, err := pc.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got\n%x\nwant\n%x", got, want)
	}
	back, err := ParsePhase1Context(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, pc) {
		t.Fatalf("decoded %#v", back)
	}
	// Each field's checks.
	for _, tc := range []struct {
		name string
		mod  func(b []byte) []byte
	}{
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }},
		{"version 2", func(b []byte) []byte { b[5] = 2; return b }},
		{"length", func(b []byte) []byte { b[7]++; return b }},
		{"trailing byte", func(b []byte) []byte { b = append(b, 0); b[7]++; return b }},
		{"side 2", func(b []byte) []byte { b[26] = 2; return b }},
		{"reserved", func(b []byte) []byte { b[38] = 1; return b }},
		{"address family 5", func(b []byte) []byte { b[56] = 5; return b }},
		{"IPv4 trailing bytes", func(b []byte) []byte { b[56+19] = 1; return b }},
		{"ID shorter than 4", func(b []byte) []byte { b[97] = 3; return b }},
		{"nonce overruns", func(b []byte) []byte { b[96+8+10+1] = 0xff; return b }},
	} {
		b := tc.mod(append([]byte(nil), want...))
		if _, err := ParsePhase1Context(b); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
