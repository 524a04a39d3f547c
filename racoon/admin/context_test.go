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
