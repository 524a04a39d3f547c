package cxtp

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name  string
		wire  string
		cause error
		msg   string // substring the error must contain
	}{
		{"empty", ``, ErrTruncated, "header"},
		{"short header", `21 00 00`, ErrTruncated, "header"},
		{"version 2", `41 00 0004`, ErrVersion, "version"},
		{"version 0", `01 00 0004`, ErrVersion, "version"},
		{"type 0", `20 00 0004`, ErrType, "type"},
		{"type 8", `28 00 0004`, ErrType, "type"},
		{"length too big", `26 00 0099 ` + hexMN6, ErrLength, "CTC"},
		{"length too small", `26 00 0004 ` + hexMN6, ErrLength, "CTC"},
		{"CTAR truncated address", `21 00 000c 20010db8 00010000`, ErrTruncated, "CTAR"},
		{"CTAR no token", `21 80 0010 ` + hexMN4 + hexPAR4 + `00000001`, ErrTruncated, "CTAR: token"},
		{"CTAR request block cut", `21 80 0015 ` + hexMN4 + hexPAR4 + `00000001 01020304 80`, ErrTruncated, "CTAR: requested CDB 0"},
		{"CTAR request block cut after one", `21 80 001a ` + hexMN4 + hexPAR4 + `00000001 01020304 8001 0000 8002`, ErrTruncated, "CTAR: requested CDB 1"},
		{"CTAR request block with data", `21 80 001c ` + hexMN4 + hexPAR4 + `00000001 01020304 8001 01 00 00000000`, ErrRequestCDB, "CTAR: requested CDB 0"},
		{"CTAR request block with P", `21 80 0018 ` + hexMN4 + hexPAR4 + `00000001 01020304 8001 00 80`, ErrRequestCDB, "CTAR: requested CDB 0"},
		{"CT-Req request block with data", `27 80 0018 ` + hexMN4 + `00000001 01020304 8001 01 00 00000000`, ErrRequestCDB, "CT-Req: requested CDB 0"},
		{"CTAA partial status", `22 80 000a ` + hexMN4 + `8001`, ErrLength, "CTAA"},
		{"CTDR partial status", `25 80 000e ` + hexMN4 + `8001 00 00 80 01`, ErrLength, "CTDR"},
		{"CTC trailing", `26 80 000c ` + hexMN4 + `00000000`, ErrTrailing, "CTC"},
		{"CTD CDB zero length", `23 80 0010 00000000 ` + hexMN4 + `8001 00 00`, ErrCDBLength, "CTD: CDB 0"},
		{"CTD CDB overruns", `23 80 0014 00000000 ` + hexMN4 + `8001 02 00 00000000`, ErrTruncated, "CTD: CDB 0"},
		{"CTD CDB header cut", `23 80 000e 00000000 ` + hexMN4 + `8001`, ErrTruncated, "CTD: CDB 0"},
		{"PCTD key overruns", `24 80 0010 00000000 ` + hexMN4 + `0001 0020`, ErrTruncated, "PCTD: key"},
		{"PCTD key padding cut", `24 80 0013 00000000 ` + hexMN4 + `0001 0003 aabbcc`, ErrTruncated, "PCTD: key padding"},
		{"PCTD key length cut", `24 80 000e 00000000 ` + hexMN4 + `0001`, ErrTruncated, "PCTD: key length"},
		{"CT-Req no token", `27 80 000c ` + hexMN4 + `00000001`, ErrTruncated, "CT-Req: token"},
	}
	for _, c := range cases {
		_, err := Parse(unhex(t, c.wire))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if !errors.Is(err, c.cause) {
			t.Errorf("%s: error %q is not %v", c.name, err, c.cause)
		}
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Errorf("%s: error %T is not a *DecodeError", c.name, err)
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.msg)
		}
	}
}

func TestReservedFlagsIgnored(t *testing.T) {
	// 0x3f: all reserved bits of a CTC set; a receiver ignores them.
	m, err := Parse(unhex(t, `26 bf 0008 `+hexMN4))
	if err != nil {
		t.Fatal(err)
	}
	if m.(*CTC).PrevCoA != mn4 {
		t.Fatalf("got %v", m)
	}
}

func TestUnmarshalWrongType(t *testing.T) {
	var m CTAA
	err := m.UnmarshalBinary(unhex(t, `26 00 0014 `+hexMN6))
	if !errors.Is(err, ErrType) || !strings.Contains(err.Error(), "CTAA") {
		t.Fatalf("got %v", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	cases := []struct {
		name string
		m    Message
		want error
	}{
		{"mixed family", &CTAR{PrevCoA: mn4, PrevAR: par6}, ErrAddrFamily},
		{"no address", &CTC{}, ErrAddrFamily},
		{"no AR address", &CTAR{PrevCoA: mn6}, ErrAddrFamily},
		{"key too long", &PCTD{PrevCoA: mn6, Key: make([]byte, MaxKeyLen+1)}, ErrKeyLength},
		{"CDB too large", &CTD{PrevCoA: mn6, CDBs: []CDB{{FPT: 1, Data: make([]byte, MaxCDBData+1)}}}, ErrCDBTooLarge},
		{"CDB with presence too large", &CTD{PrevCoA: mn6, CDBs: []CDB{{FPT: 1, HasPresence: true, Data: make([]byte, MaxCDBDataPresence+1)}}}, ErrCDBTooLarge},
		{"message too long", &CTD{PrevCoA: mn6, CDBs: SplitContext(1, make([]byte, 70000))}, ErrTooLong},
		{"FPT list too long", &CTAR{PrevCoA: mn6, PrevAR: par6, FPTs: make([]FPT, 40000)}, ErrTooLong},
	}
	for _, c := range cases {
		b, err := Marshal(c.m)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		if err != nil && len(b) != 0 {
			t.Errorf("%s: %d octets returned with the error", c.name, len(b))
		}
		if err != nil && !strings.Contains(err.Error(), c.m.Type().String()) {
			t.Errorf("%s: error %q does not name %v", c.name, err, c.m.Type())
		}
	}
}

func TestCDBLimits(t *testing.T) {
	c := CDB{FPT: 3, Data: make([]byte, MaxCDBData)}
	b, err := c.MarshalBinary()
	if err != nil || len(b) != MaxCDBLen || b[2] != 255 {
		t.Fatalf("max CDB: len %d err %v", len(b), err)
	}
	var d CDB
	if err := d.UnmarshalBinary(b); err != nil || len(d.Data) != MaxCDBData {
		t.Fatalf("decode max CDB: %v", err)
	}
	c = CDB{FPT: 3, HasPresence: true, Data: make([]byte, MaxCDBDataPresence)}
	if b, err = c.MarshalBinary(); err != nil || len(b) != MaxCDBLen {
		t.Fatalf("max CDB with presence: %d %v", len(b), err)
	}
	if err := d.UnmarshalBinary(append(b, 0)); !errors.Is(err, ErrTrailing) {
		t.Fatalf("trailing octet: %v", err)
	}
	// An empty CDB is one word: its header and 4 octets of padding.
	if b, _ := (&CDB{FPT: 9}).MarshalBinary(); !bytes.Equal(b, []byte{0, 9, 1, 0, 0, 0, 0, 0}) {
		t.Fatalf("empty CDB % x", b)
	}
}

func TestSplitJoinContext(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, MaxCDBData - 1, MaxCDBData, MaxCDBData + 1, 3*MaxCDBData + 5, 10000} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + 1)
		}
		cdbs := SplitContext(FPTIPsecSA, data)
		for _, c := range cdbs {
			if c.WireLen() > MaxCDBLen {
				t.Fatalf("n=%d: CDB of %d octets", n, c.WireLen())
			}
		}
		msg := &CTD{PrevCoA: mn6, CDBs: cdbs}
		b, err := Marshal(msg)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		m, err := Parse(b)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		got := JoinContext(FPTIPsecSA, m.(*CTD).CDBs)
		if len(got) < n || len(got) > n+7 || !bytes.Equal(got[:n], data) || strings.Trim(string(got[n:]), "\x00") != "" {
			t.Fatalf("n=%d: joined %d octets differ", n, len(got))
		}
	}
}

func TestPackRecords(t *testing.T) {
	rec := func(n int, v byte) []byte { return bytes.Repeat([]byte{v}, n) }
	cdbs, err := PackRecords(FPTIPsecSP, [][]byte{rec(1000, 1), rec(1000, 2), rec(1000, 3), rec(40, 4)})
	if err != nil {
		t.Fatal(err)
	}
	if len(cdbs) != 2 || len(cdbs[0].Data) != 2000 || len(cdbs[1].Data) != 1040 {
		t.Fatalf("packing: %d CDBs", len(cdbs))
	}
	if _, err := PackRecords(FPTIPsecSP, [][]byte{rec(MaxCDBData+1, 1)}); err == nil {
		t.Fatal("oversized record accepted")
	}
}

func TestPCTDKeyHandling(t *testing.T) {
	key := []byte("0123456789abcdefghij")
	m := &PCTD{PrevCoA: mn6, Algorithm: AlgHMACSHA1, Key: append([]byte(nil), key...)}
	b, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	type wrapper struct{ P PCTD }
	for _, s := range []string{m.String(), fmt.Sprintf("%v", m), fmt.Sprintf("%+v", m), fmt.Sprintf("%#v", m),
		fmt.Sprintf("%v", *m), fmt.Sprintf("%+v", wrapper{*m}), fmt.Sprintf("%x", m.Key), fmt.Sprintf("%s", m.Key), fmt.Sprintf("%v", []byte(m.Key)[:0])} {
		if strings.Contains(s, string(key)) || strings.Contains(s, fmt.Sprintf("%x", key)) || strings.Contains(s, "48, 49, 50") {
			t.Fatalf("key bytes in %q", s)
		}
	}
	var d PCTD
	if err := d.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	// The decoded message owns its key: wiping the wire buffer does not
	// change it, and Wipe zeroes the key's storage.
	clear(b)
	if !bytes.Equal(d.Key, key) {
		t.Fatal("decoded key aliases the input")
	}
	k := d.Key
	d.Wipe()
	if d.Key != nil || !bytes.Equal(k, make([]byte, len(k))) {
		t.Fatal("Wipe left key bytes")
	}
}

func TestMessageOwnsData(t *testing.T) {
	b, _ := Marshal(&CTD{PrevCoA: mn6, CDBs: []CDB{{FPT: 1, Data: []byte("12345678")}}})
	m, _ := Parse(b)
	clear(b)
	if string(m.(*CTD).CDBs[0].Data[:8]) != "12345678" {
		t.Fatal("CDB data aliases the input")
	}
}

// randomMessage builds a random valid message.
func randomMessage(r *rand.Rand) Message {
	addr := func(v4 bool) netip.Addr {
		if v4 {
			var a [4]byte
			for i := range a {
				a[i] = byte(r.Uint32())
			}
			return netip.AddrFrom4(a)
		}
		var a [16]byte
		for i := range a {
			a[i] = byte(r.Uint32())
		}
		return netip.AddrFrom16(a)
	}
	v4 := r.IntN(2) == 0
	fpts := func() []FPT {
		var f []FPT
		for range r.IntN(4) {
			f = append(f, FPT(r.Uint32()))
		}
		return f
	}
	sts := func() []FPTStatus {
		var f []FPTStatus
		for range r.IntN(4) {
			f = append(f, FPTStatus{FPT(r.Uint32()), Status(r.Uint32())})
		}
		return f
	}
	cdbs := func() []CDB {
		var c []CDB
		for range r.IntN(4) {
			// Data fills whole words so that no padding is added.
			cd := CDB{FPT: FPT(r.Uint32())}
			n := r.IntN(6)*8 + 4
			if r.IntN(2) == 0 {
				cd.HasPresence, cd.Presence = true, r.Uint32()
				n -= 4
			}
			cd.Data = make([]byte, n)
			for i := range cd.Data {
				cd.Data[i] = byte(r.Uint32())
			}
			c = append(c, cd)
		}
		return c
	}
	tok := [4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}
	switch r.IntN(7) {
	case 0:
		return &CTAR{Ack: r.IntN(2) == 0, PrevCoA: addr(v4), PrevAR: addr(v4), Seq: r.Uint32(), Token: tok, FPTs: fpts()}
	case 1:
		return &CTAA{PrevCoA: addr(v4), Failures: sts()}
	case 2:
		return &CTD{Ack: r.IntN(2) == 0, ElapsedTime: r.Uint32(), PrevCoA: addr(v4), CDBs: cdbs()}
	case 3:
		k := make([]byte, r.IntN(40))
		for i := range k {
			k[i] = byte(r.Uint32())
		}
		return &PCTD{Ack: r.IntN(2) == 0, ElapsedTime: r.Uint32(), PrevCoA: addr(v4), Algorithm: Algorithm(r.Uint32()), Key: k, CDBs: cdbs()}
	case 4:
		return &CTDR{Success: r.IntN(2) == 0, PrevCoA: addr(v4), Status: sts()}
	case 5:
		return &CTC{PrevCoA: addr(v4)}
	}
	return &CTReq{PrevCoA: addr(v4), Seq: r.Uint32(), Token: tok, FPTs: fpts()}
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		m := randomMessage(r)
		b, err := Marshal(m)
		if err != nil {
			t.Fatalf("%v: %v", m, err)
		}
		// AppendBinary appends after existing bytes.
		b2, _ := m.AppendBinary([]byte{0xee})
		if !bytes.Equal(b2[1:], b) || b2[0] != 0xee {
			t.Fatalf("AppendBinary does not append")
		}
		got, err := Parse(b)
		if err != nil {
			t.Fatalf("%v: %v", m, err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(m)) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got, m)
		}
		if got.Type() != m.Type() || got.PrevAddr() != m.PrevAddr() {
			t.Fatal("Type/PrevAddr differ")
		}
	}
}

// normalize makes nil and empty slices compare equal.
func normalize(m Message) Message {
	cdbs := func(in []CDB) []CDB {
		out := append([]CDB(nil), in...)
		for i := range out {
			if len(out[i].Data) == 0 {
				out[i].Data = nil
			}
		}
		return out
	}
	switch v := m.(type) {
	case *PCTD:
		c := *v
		if len(c.Key) == 0 {
			c.Key = nil
		}
		c.CDBs = cdbs(c.CDBs)
		return &c
	case *CTD:
		c := *v
		c.CDBs = cdbs(c.CDBs)
		return &c
	}
	return m
}

func BenchmarkEncode(b *testing.B) {
	for _, m := range benchMessages() {
		b.Run(m.Type().String(), func(b *testing.B) {
			buf := make([]byte, 0, 2048)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				buf, err = m.AppendBinary(buf[:0])
				if err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, m := range benchMessages() {
		wire, _ := Marshal(m)
		b.Run(m.Type().String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(wire)))
			for b.Loop() {
				if _, err := Parse(wire); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

func BenchmarkToken(b *testing.B) {
	key := make([]byte, 20)
	cdbs := benchCDBs()
	for b.Loop() {
		Token(key, mn6, 1, cdbs)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// benchCDBs is a context the size of 2 SAs + 2 policies + 1 IKE SA (about
// 600 octets of CDBs).
func benchCDBs() []CDB {
	return []CDB{
		{FPT: FPTIPsecSA, Data: make([]byte, 148)},
		{FPT: FPTIPsecSA, Data: make([]byte, 148)},
		{FPT: FPTIPsecSP, Data: make([]byte, 76)},
		{FPT: FPTIPsecSP, Data: make([]byte, 76)},
		{FPT: FPTIKEv1SA, Data: make([]byte, 132)},
	}
}

func benchMessages() []Message {
	return []Message{
		&CTAR{PrevCoA: mn6, PrevAR: par6, Seq: 1},
		&CTAA{PrevCoA: mn6},
		&CTD{PrevCoA: mn6, CDBs: benchCDBs()},
		&PCTD{PrevCoA: mn6, Algorithm: AlgHMACSHA1, Key: make([]byte, 20), CDBs: benchCDBs()},
		&CTDR{PrevCoA: mn6, Success: true},
		&CTC{PrevCoA: mn6},
		&CTReq{PrevCoA: mn6, Seq: 1},
	}
}
