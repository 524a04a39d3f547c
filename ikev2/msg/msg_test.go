package msg

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.Join(strings.Fields(s), "")
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGoldenSAInit encodes an IKE_SA_INIT request written out by hand from
// RFC 7296 sections 3.1-3.4 and 3.9-3.10.
func TestGoldenSAInit(t *testing.T) {
	m := &Message{
		Header: Header{SPIi: 0x0102030405060708, Exchange: IKE_SA_INIT, Flags: FlagInitiator},
		Payloads: []Payload{
			&SA{Proposals: []Proposal{{Num: 1, Protocol: ProtoIKE, Transforms: []Transform{
				Transform{Type: TransENCR, ID: ENCR_AES_CBC}.WithKeyLength(128),
				{Type: TransPRF, ID: PRF_HMAC_SHA2_256},
				{Type: TransINTEG, ID: AUTH_HMAC_SHA2_256_128},
				{Type: TransDH, ID: DH_CURVE25519},
			}}}},
			&KE{Group: DH_CURVE25519, Data: bytes.Repeat([]byte{0xaa}, 4)},
			&Nonce{Data: bytes.Repeat([]byte{0xbb}, 16)},
			&Notify{NotType: NAT_DETECTION_SOURCE_IP, Data: []byte{1, 2, 3, 4}},
		},
	}
	want := unhex(t, `
		0102030405060708 0000000000000000 21 20 22 08 00000000 00000078
		22 00 0030
		  00 00 002c 01 01 00 04
		    03 00 000c 01 00 000c 800e0080
		    03 00 0008 02 00 0005
		    03 00 0008 03 00 000c
		    00 00 0008 04 00 001f
		28 00 000c 001f 0000 aaaaaaaa
		29 00 0014 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
		00 00 000c 00 00 4004 01020304`)
	got := m.Marshal()
	if !bytes.Equal(got, want) {
		t.Fatalf("encode:\n got %x\nwant %x", got, want)
	}
	d, err := Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Marshal(), want) {
		t.Fatalf("re-encode differs")
	}
	if sa := Get[*SA](d); sa == nil || sa.Proposals[0].Transforms[0].KeyLength() != 128 {
		t.Fatalf("SA: %+v", sa)
	}
}

// TestGoldenPayloads checks the bodies of the other payloads against the
// RFC layouts.
func TestGoldenPayloads(t *testing.T) {
	a6 := netip.MustParseAddr("2001:db8::")
	e6 := netip.MustParseAddr("2001:db8::ffff")
	cases := []struct {
		name string
		p    Payload
		body string
	}{
		{"IDi fqdn", &ID{IDType: IDTypeFQDN, Data: []byte("a.b")}, "02000000 612e62"},
		{"AUTH psk", &Auth{Method: AuthMethodSharedKeyMIC, Data: []byte{9, 9}}, "02000000 0909"},
		{"Notify ESP spi", &Notify{Protocol: ProtoESP, SPI: []byte{1, 2, 3, 4}, NotType: REKEY_SA}, "03 04 4009 01020304"},
		{"Notify MOBIKE", &Notify{NotType: MOBIKE_SUPPORTED}, "00 00 400c"},
		{"Notify UPDATE_SA_ADDRESSES", &Notify{NotType: UPDATE_SA_ADDRESSES}, "00 00 4010"},
		{"Notify ADDITIONAL_IP6", &Notify{NotType: ADDITIONAL_IP6_ADDRESS, Data: a6.AsSlice()}, "00 00 400e 20010db8000000000000000000000000"},
		{"Delete ESP", &Delete{Protocol: ProtoESP, SPISize: 4, SPIs: [][]byte{{1, 2, 3, 4}, {5, 6, 7, 8}}}, "03 04 0002 01020304 05060708"},
		{"Delete IKE", &Delete{Protocol: ProtoIKE}, "01 00 0000"},
		{"TSr v6", &TS{Responder: true, Selectors: []Selector{{TSType: TSIPv6AddrRange, IPProto: 0, StartPort: 0, EndPort: 65535, Start: a6, End: e6}}},
			"01000000 08 00 0028 0000 ffff 20010db8000000000000000000000000 20010db800000000000000000000ffff"},
		{"TSi v4", &TS{Selectors: []Selector{{TSType: TSIPv4AddrRange, IPProto: 17, StartPort: 500, EndPort: 500, Start: netip.MustParseAddr("10.0.0.1"), End: netip.MustParseAddr("10.0.0.9")}}},
			"01000000 07 11 0010 01f4 01f4 0a000001 0a000009"},
		{"CP request", &CP{CfgType: CFG_REQUEST, Attrs: []CfgAttribute{{Type: 8}}}, "01000000 0008 0000"},
		{"CERTREQ", &Cert{Request: true, Encoding: 4, Data: []byte{1}}, "04 01"},
		{"EAP", &EAP{Data: []byte{1, 1, 0, 5, 1}}, "0101000501"},
		{"VendorID", &VendorID{Data: []byte("x")}, "78"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := unhex(t, c.body)
			if got := c.p.appendBody(nil); !bytes.Equal(got, want) {
				t.Fatalf("got %x want %x", got, want)
			}
			p, err := parseBody(c.p.Type(), false, want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, c.p) {
				t.Fatalf("decode %+v, want %+v", p, c.p)
			}
		})
	}
}

func TestSelectorFromPrefix(t *testing.T) {
	s := SelectorFromPrefix(netip.MustParsePrefix("fd00:a::/64"))
	if s.Start.String() != "fd00:a::" || s.End.String() != "fd00:a::ffff:ffff:ffff:ffff" || s.TSType != TSIPv6AddrRange {
		t.Fatal(s)
	}
	s = SelectorFromPrefix(netip.MustParsePrefix("10.1.0.0/16"))
	if s.Start.String() != "10.1.0.0" || s.End.String() != "10.1.255.255" || s.TSType != TSIPv4AddrRange {
		t.Fatal(s)
	}
}

func TestUpdateSPI(t *testing.T) {
	u := UpdateSPI{Protocol: ProtoESP, SPI: []byte{0xc0, 0, 0, 1}, NewSPI: []byte{0xc0, 0, 0, 2}, Responder: true}
	n := u.Notify(DefaultUpdateSPI)
	want := unhex(t, "03 04 a000 c0000001 c0000002 80")
	if got := n.appendBody(nil); !bytes.Equal(got, want) {
		t.Fatalf("got %x want %x", got, want)
	}
	back, err := ParseUpdateSPI(n)
	if err != nil || !reflect.DeepEqual(back, u) {
		t.Fatalf("%+v %v", back, err)
	}
	ike := UpdateSPI{Protocol: ProtoIKE, SPI: make([]byte, 8), NewSPI: []byte{1, 2, 3, 4, 5, 6, 7, 8}}
	n = ike.Notify(50000)
	if !bytes.Equal(n.appendBody(nil), unhex(t, "01 08 c350 0000000000000000 0102030405060708 00")) {
		t.Fatalf("%x", n.appendBody(nil))
	}
	for _, bad := range []*Notify{
		{Protocol: ProtoESP, SPI: []byte{1, 2, 3}, Data: []byte{1, 2, 3, 4, 0}},
		{Protocol: ProtoESP, SPI: []byte{1, 2, 3, 4}, Data: []byte{1, 2, 3, 4}},
		{Protocol: 9, SPI: []byte{1, 2, 3, 4}, Data: []byte{1, 2, 3, 4, 0}},
	} {
		if _, err := ParseUpdateSPI(bad); !errors.Is(err, ErrUpdateSPI) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

type nullProt struct{}

func (nullProt) SealedLen(n int) int { return n + 2 }
func (nullProt) Seal(head, plain []byte) ([]byte, error) {
	return append(append([]byte{0}, plain...), 0xee), nil
}
func (nullProt) Open(head, body []byte) ([]byte, error) {
	if len(body) < 2 || body[len(body)-1] != 0xee {
		return nil, ErrAuth
	}
	return body[1 : len(body)-1], nil
}

func TestEncryptedRoundTrip(t *testing.T) {
	m := &Message{Header: Header{SPIi: 1, SPIr: 2, Exchange: INFORMATIONAL, Flags: FlagResponse, MessageID: 7},
		Payloads: []Payload{&Notify{NotType: UPDATE_SA_ADDRESSES}, &Delete{Protocol: ProtoIKE}}}
	b, err := m.MarshalEncrypted(nullProt{})
	if err != nil {
		t.Fatal(err)
	}
	if b[16] != byte(PayloadSK) || b[HeaderLen] != byte(PayloadNotify) {
		t.Fatalf("%x", b)
	}
	d, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Encrypted == nil || len(d.Payloads) != 0 {
		t.Fatal("SK not kept")
	}
	if err := d.Decrypt(b, nullProt{}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Payloads, m.Payloads) {
		t.Fatalf("%+v", d.Payloads)
	}
	b[len(b)-1] = 0
	d, _ = Parse(b)
	err = d.Decrypt(b, nullProt{})
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "INFORMATIONAL: SK payload") {
		t.Fatal(err)
	}
}

func TestErrorsNamePayload(t *testing.T) {
	m := (&Message{Header: Header{Exchange: IKE_SA_INIT}, Payloads: []Payload{&Nonce{Data: make([]byte, 16)}}}).Marshal()
	m[len(m)-17] = 0 // nonce length field low byte -> too short
	_, err := Parse(m)
	if err == nil || !strings.Contains(err.Error(), "IKE_SA_INIT: Nonce payload") {
		t.Fatal(err)
	}
	crit := (&Message{Header: Header{Exchange: IKE_AUTH}, Payloads: []Payload{&Unknown{PType: 99, Critical: true}}}).Marshal()
	if _, err := Parse(crit); !errors.Is(err, ErrCritical) {
		t.Fatal(err)
	}
	noncrit := (&Message{Header: Header{Exchange: IKE_AUTH}, Payloads: []Payload{&Unknown{PType: 99, Data: []byte{1}}}}).Marshal()
	if d, err := Parse(noncrit); err != nil || d.Payloads[0].(*Unknown).Data[0] != 1 {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add((&Message{Header: Header{Exchange: IKE_SA_INIT}, Payloads: []Payload{
		&SA{Proposals: []Proposal{{Num: 1, Protocol: ProtoESP, SPI: []byte{1, 2, 3, 4}, Transforms: []Transform{{Type: TransENCR, ID: 12, Attrs: []Attribute{{Type: 14, TV: true, Value: 128}, {Type: 3, Data: []byte{1}}}}}}}},
		&TS{Selectors: []Selector{SelectorFromPrefix(netip.MustParsePrefix("::/0"))}},
		&Delete{Protocol: ProtoESP, SPISize: 4, SPIs: [][]byte{{1, 2, 3, 4}}},
		&CP{CfgType: 1, Attrs: []CfgAttribute{{Type: 1, Value: []byte{1}}}},
		&EAP{Data: []byte{1, 1, 0, 4}},
	}}).Marshal())
	enc, _ := (&Message{Header: Header{Exchange: INFORMATIONAL}, Payloads: []Payload{&Notify{NotType: COOKIE, Data: []byte{1}}}}).MarshalEncrypted(nullProt{})
	f.Add(enc)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		if m.Encrypted != nil {
			_ = m.Decrypt(b, nullProt{})
			return
		}
		again := m.Marshal()
		m2, err := Parse(again)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !bytes.Equal(m2.Marshal(), again) {
			t.Fatal("unstable encoding")
		}
	})
}
