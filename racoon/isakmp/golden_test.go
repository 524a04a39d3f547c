package isakmp

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// unhex reads hex written with spaces and newlines, as the layouts below.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mainMode1 is a main-mode first message written by hand from the layouts of
// RFC 2408 (header 3.1, SA 3.4, proposal 3.5, transform 3.6, vendor ID 3.16)
// with the Oakley attributes of RFC 2409 appendix A.
const mainMode1 = `
0102030405060708 0000000000000000  # initiator cookie, responder cookie
01 10 02 00                        # next payload SA, version 1.0, exchange 2 (identity protection), flags 0
00000000                           # message ID
0000006c                           # length 108
0d 00 003c                         # SA: next VID, reserved, length 60
00000001 00000001                  # DOI IPsec, situation identity only
00 00 0030                         # proposal: last, reserved, length 48
01 01 00 01                        # proposal #1, protocol ISAKMP, SPI size 0, 1 transform
00 00 0028                         # transform: last, reserved, length 40
01 01 0000                         # transform #1, KEY_IKE, reserved
800b 0001                          # TV life type seconds
000c 0004 00015180                 # TLV life duration 86400
8001 0007                          # TV encryption AES-CBC
800e 0080                          # TV key length 128
8002 0004                          # TV hash SHA2-256
8003 0001                          # TV auth pre-shared key
8004 000e                          # TV group 14
00 00 0014                         # VID: last, reserved, length 20
afcad71368a1f1c96b8696fc77570100   # DPD vendor ID
`

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestGoldenMainMode1(t *testing.T) {
	wire := unhex(t, stripComments(mainMode1))
	want := &Message{
		Header: Header{InitiatorCookie: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, NextPayload: PayloadSA, Version: Version,
			ExchangeType: ExchangeIdentityProt, Length: 108},
		Payloads: []Payload{
			&SA{DOI: DOIIPsec, Situation: SitIdentityOnly, Proposals: []Proposal{{
				Number: 1, ProtocolID: ProtoISAKMP,
				Transforms: []Transform{{Number: 1, ID: TransformKeyIKE, Attributes: []Attribute{
					Basic(OakleyLifeType, LifeSeconds),
					VariableUint(OakleyLifeDuration, 86400),
					Basic(OakleyEncryptionAlgorithm, EncAES),
					Basic(OakleyKeyLength, 128),
					Basic(OakleyHashAlgorithm, HashSHA256),
					Basic(OakleyAuthMethod, AuthPreShared),
					Basic(OakleyGroupDescription, GroupMODP2048),
				}}},
			}}},
			&VendorID{Data: VendorDPD},
		},
	}
	got, err := Parse(wire)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", got, want)
	}
	want.Header.Length, want.Header.NextPayload = 0, 0 // Marshal computes them
	enc, err := want.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, wire) {
		t.Errorf("Marshal:\n got %x\nwant %x", enc, wire)
	}
	tr := got.Payloads[0].(*SA).Proposals[0].Transforms[0]
	if a, ok := tr.Attr(OakleyLifeDuration); !ok || a.TV {
		t.Errorf("life duration %+v", a)
	} else if v, _ := a.Uint(); v != 86400 {
		t.Errorf("life duration %d", v)
	}
	if err := CheckForms(tr.Attributes, true); err != nil {
		t.Error(err)
	}
	if err := CheckForms([]Attribute{Variable(OakleyEncryptionAlgorithm, []byte{0, 7})}, true); err == nil {
		t.Error("a TLV encryption algorithm passed CheckForms")
	}
}

// quick1 is the plaintext of a quick-mode first message (before encryption):
// HASH, SA with an ESP proposal (RFC 2407 4.4.4, 4.5), nonce, KE, and the
// IDci/IDcr of RFC 2407 4.6.2 for IPv6 subnets; built by hand.
const quick1 = `
01 00 0018  00112233445566778899aabbccddeeff00112233           # HASH(1), 20 bytes of SHA-1, next SA
0a 00 003c  00000001 00000001                                   # SA, next nonce, length 60
            00 00 0030  01 03 04 01  c0ffee01                   # proposal #1 ESP, SPI size 4, 1 transform
                        00 00 0024  01 0c 0000                  # transform #1 ESP_AES
                        8001 0001  0002 0004 00000e10           # SA life type seconds, TLV duration 3600
                        8004 0001  8005 0002  8006 0100  8003 0002 # tunnel, HMAC-SHA, 256-bit key, group 2
04 00 000c  0102030405060708                                    # nonce, next KE
05 00 0008  a1a2a3a4                                            # KE (short for the test), next ID
05 00 0028  06 00 0000  20010db8000100000000000000000000 ffffffffffffffff0000000000000000 # IDci IPV6_ADDR_SUBNET /64
00 00 0018  05 11 01f4  20010db8000200000000000000000001        # IDcr IPV6_ADDR udp/500
`

func TestGoldenQuickPlaintext(t *testing.T) {
	wire := unhex(t, stripComments(quick1))
	ps, rest, err := ParsePayloads(PayloadHash, wire, HeaderLen, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 0 || len(ps) != 6 {
		t.Fatalf("%d payloads, %d left", len(ps), len(rest))
	}
	sa := ps[1].(*SA)
	pr := sa.Proposals[0]
	if pr.ProtocolID != ProtoIPsecESP || !bytes.Equal(pr.SPI, []byte{0xc0, 0xff, 0xee, 0x01}) || pr.Transforms[0].ID != ESPAES {
		t.Errorf("proposal %+v", pr)
	}
	if a, _ := pr.Transforms[0].Attr(IPsecSALifeDuration); a.TV || len(a.Value) != 4 {
		t.Errorf("duration %+v", a)
	}
	if a, _ := pr.Transforms[0].Attr(IPsecKeyLength); !a.TV || a.Value[0] != 1 {
		t.Errorf("key length %+v", a)
	}
	if err := CheckForms(pr.Transforms[0].Attributes, false); err != nil {
		t.Error(err)
	}
	idci, idcr := ps[4].(*ID), ps[5].(*ID)
	if p, err := idci.Prefix(); err != nil || p != netip.MustParsePrefix("2001:db8:1::/64") {
		t.Errorf("IDci %v %v", p, err)
	}
	if a, err := idcr.Addr(); err != nil || a != netip.MustParseAddr("2001:db8:2::1") || idcr.ProtocolID != 17 || idcr.Port != 500 {
		t.Errorf("IDcr %v %v %+v", a, err, idcr)
	}
	// rebuild from typed values
	rebuilt := []Payload{
		&Hash{Data: unhex(t, "00112233445566778899aabbccddeeff00112233")},
		&SA{DOI: 1, Situation: 1, Proposals: []Proposal{{Number: 1, ProtocolID: ProtoIPsecESP, SPI: []byte{0xc0, 0xff, 0xee, 0x01},
			Transforms: []Transform{{Number: 1, ID: ESPAES, Attributes: []Attribute{
				Basic(IPsecSALifeType, LifeSeconds), VariableUint(IPsecSALifeDuration, 3600),
				Basic(IPsecEncapsulationMode, EncapTunnel), Basic(IPsecAuthAlgorithm, AuthAlgHMACSHA),
				Basic(IPsecKeyLength, 256), Basic(IPsecGroupDescription, GroupMODP1024)}}}}}},
		&Nonce{Data: unhex(t, "0102030405060708")},
		&KE{Data: unhex(t, "a1a2a3a4")},
		IDFromPrefix(netip.MustParsePrefix("2001:db8:1::/64"), 0, 0),
		IDFromAddr(netip.MustParseAddr("2001:db8:2::1"), 17, 500),
	}
	enc, first, err := AppendPayloads(nil, rebuilt)
	if err != nil {
		t.Fatal(err)
	}
	if first != PayloadHash || !bytes.Equal(enc, wire) {
		t.Errorf("AppendPayloads:\n got %x\nwant %x", enc, wire)
	}
	// decrypted bodies end with padding: allowed only on request
	padded := append(append([]byte(nil), wire...), 0, 0, 0, 7)
	if _, rest, err := ParsePayloads(PayloadHash, padded, 0, true); err != nil || len(rest) != 4 {
		t.Errorf("padding: %v %d", err, len(rest))
	}
	if _, _, err := ParsePayloads(PayloadHash, padded, 0, false); err == nil {
		t.Error("trailing bytes accepted without padding")
	}
}

// informational is an INITIAL-CONTACT notification (RFC 2407 4.6.3.3) and
// a delete of two ESP SPIs (RFC 2408 3.15) in one plaintext chain.
const informational = `
0c 00 001c  00000001 01 10 6002  0102030405060708 1112131415161718 # N: DOI 1, ISAKMP, SPI size 16, INITIAL-CONTACT, cookies
00 00 0014  00000001 03 04 0002  aabbccdd 11223344                 # D: DOI 1, ESP, SPI size 4, 2 SPIs
`

func TestGoldenInformational(t *testing.T) {
	wire := unhex(t, stripComments(informational))
	ps, _, err := ParsePayloads(PayloadNotification, wire, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	n := ps[0].(*Notification)
	if n.Type != InitialContact || uint16(InitialContact) != 24578 || n.ProtocolID != ProtoISAKMP || len(n.SPI) != 16 || len(n.Data) != 0 ||
		n.Type.String() != "INITIAL-CONTACT" || n.Type.IsError() {
		t.Errorf("notification %+v", n)
	}
	d := ps[1].(*Delete)
	if d.ProtocolID != ProtoIPsecESP || len(d.SPIs) != 2 || !bytes.Equal(d.SPIs[1], []byte{0x11, 0x22, 0x33, 0x44}) {
		t.Errorf("delete %+v", d)
	}
	enc, _, err := AppendPayloads(nil, []Payload{
		&Notification{DOI: 1, ProtocolID: ProtoISAKMP, Type: InitialContact, SPI: unhex(t, "01020304050607081112131415161718")},
		&Delete{DOI: 1, ProtocolID: ProtoIPsecESP, SPISize: 4, SPIs: [][]byte{{0xaa, 0xbb, 0xcc, 0xdd}, {0x11, 0x22, 0x33, 0x44}}},
	})
	if err != nil || !bytes.Equal(enc, wire) {
		t.Errorf("%v\n got %x\nwant %x", err, enc, wire)
	}
}

// certs: CERT (RFC 2408 3.9) and CR (3.10), SIG (3.12), parse only in use.
func TestGoldenCertPayloads(t *testing.T) {
	wire := unhex(t, stripComments(`
06 00 0005  04                # CR: X.509 signature, no CA, next CERT
09 00 0008  04 308201         # CERT: X.509 signature, 3 bytes, next SIG
00 00 0006  abcd              # SIG
`))
	ps, _, err := ParsePayloads(PayloadCR, wire, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if cr := ps[0].(*CertRequest); cr.Type != CertX509Sig || len(cr.CA) != 0 {
		t.Errorf("CR %+v", cr)
	}
	if c := ps[1].(*Cert); c.Encoding != CertX509Sig || !bytes.Equal(c.Data, []byte{0x30, 0x82, 0x01}) {
		t.Errorf("CERT %+v", c)
	}
	if s := ps[2].(*Signature); !bytes.Equal(s.Data, []byte{0xab, 0xcd}) {
		t.Errorf("SIG %+v", s)
	}
	enc, _, _ := AppendPayloads(nil, ps)
	if !bytes.Equal(enc, wire) {
		t.Errorf("got %x", enc)
	}
}

func TestIDHelpers(t *testing.T) {
	id := IDFromPrefix(netip.MustParsePrefix("10.1.2.0/23"), 0, 0)
	if id.Type != IDIPv4AddrSubnet || !bytes.Equal(id.Data, []byte{10, 1, 2, 0, 255, 255, 254, 0}) {
		t.Errorf("%+v", id)
	}
	if p, _ := id.Prefix(); p.String() != "10.1.2.0/23" {
		t.Errorf("%v", p)
	}
	id.Data[5] = 0 // 255.0.254.0: not contiguous
	if _, err := id.Prefix(); err == nil {
		t.Error("non-contiguous mask accepted")
	}
	r, err := IDFromRange(netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::9"), 6, 80)
	if err != nil || r.Type != IDIPv6AddrRange {
		t.Fatal(err)
	}
	lo, hi, err := r.Range()
	if err != nil || lo.String() != "2001:db8::1" || hi.String() != "2001:db8::9" {
		t.Errorf("%v %v %v", lo, hi, err)
	}
	fq := &ID{Type: IDFQDN, Data: []byte("host.example.com")}
	if _, err := fq.Addr(); err == nil {
		t.Error("FQDN gave an address")
	}
}

func TestAttributeNames(t *testing.T) {
	if AttributeName(true, OakleyGroupDescription) != "Group Description" || AttributeName(false, IPsecEncapsulationMode) != "Encapsulation Mode" ||
		AttributeName(true, 16) != "Group Order" || AttributeName(false, 99) != "attribute class 99" {
		t.Error("attribute names")
	}
	if v, err := Basic(1, 0x1234).Uint(); err != nil || v != 0x1234 {
		t.Errorf("%x %v", v, err)
	}
	if _, err := Variable(2, make([]byte, 9)).Uint(); err == nil {
		t.Error("9-byte value fit 64 bits")
	}
	if a := VariableUint(2, 5); len(a.Value) != 4 {
		t.Errorf("%x", a.Value)
	}
	if a := VariableUint(2, 1<<40); len(a.Value) != 6 {
		t.Errorf("%x", a.Value)
	}
}
