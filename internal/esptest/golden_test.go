package esptest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// golden is one published ESP packet: the SA, the packet from the SPI to
// the ICV, and the inner data and next header it carries.
type golden struct {
	name    string
	sa      SA
	packet  []byte
	payload []byte
	next    uint8
}

func goldenPackets() []golden {
	gcm := func(name, key, salt string, spi, seqHi, seq uint32, esn bool, iv, pt, ct string) golden {
		p := binary.BigEndian.AppendUint32(nil, spi)
		p = binary.BigEndian.AppendUint32(p, seq)
		p = append(append(p, unhex(iv)...), unhex(ct)...)
		plain := unhex(pt)
		padLen := int(plain[len(plain)-2])
		return golden{name, SA{SPI: spi, Cipher: AESGCM16, EncKey: append(unhex(key), unhex(salt)...), ESN: esn, SeqHi: seqHi},
			p, plain[:len(plain)-2-padLen], plain[len(plain)-1]}
	}
	return []golden{
		// RFC 3602 section 4, case #5: AES-128-CBC, an ICMP echo request
		// in transport mode (next header 1), no authentication.
		{"rfc3602-case5", SA{SPI: 0x4321, Cipher: AESCBC, EncKey: unhex("90d382b410eeba7ad938c46cec1a82bf"), Auth: NullAuth},
			unhex("0000432100000001 e96e8c08ab465763fd098d45dd3ff893" +
				"f663c25d325c18c6a9453e194e120849a4870b66cc6b9965330013b4898dc856" +
				"a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c538ab50c551b874a" +
				"a269add047ad2d5913ac19b7cfbad4a6"),
			unhex("08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"), 1},
		// RFC 3602 section 4, case #6: the echo reply, sequence number 8.
		{"rfc3602-case6", SA{SPI: 0x4321, Cipher: AESCBC, EncKey: unhex("90d382b410eeba7ad938c46cec1a82bf"), Auth: NullAuth},
			unhex("0000432100000008 69d08df7d203329db093fc4924e5bd80" +
				"f51995881ec4e0c4488987ce742e8109689bb379d2d750c0d915dca346a89f75"),
			unhex("0800b5e8a80a0500a69c083d0b660e00777777777777777777777777"), 1},
		// draft-mcgrew-gcm-test-01 section 4 (AES-GCM in ESP, RFC 4106):
		// case 1 has a 64-bit extended sequence number.
		gcm("gcm-test-case1-esn", "4c80cdefbb5d10da906ac73c3613a634", "2e443b68", 0x4321, 0x87654321, 0, true, "4956ed7e3b244cfe",
			"45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"+
				"00000000045f736970045f756470037369700963796265726369747902646b00"+
				"0021000101020201",
			"fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"+
				"cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"+
				"61bc17d768fd9732"+"459018148f6cbe722fd04796562dfdb4"),
		gcm("gcm-test-case2-aes192", "feffe9928665731c6d6a8f9467308308feffe9928665731c", "cafebabe", 0xa5f8, 0, 10, false, "facedbaddecaf888",
			"45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e501016d075680001",
			"a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0315b27452144cc77"+
				"95457b9652037f5318027b5b4cd7a636"),
		gcm("gcm-test-case3-aes256", "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "11223344", 0x4a2cbfe3, 0, 2, false, "0102030405060708",
			"4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000020405b40101040201020201",
			"ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f14e99def842d8e"+
				"b335f4eecfdbf831824b4c4915956c96"),
		gcm("gcm-test-case4-zero-key", "00000000000000000000000000000000", "00000000", 0, 0, 1, false, "0000000000000000",
			"4500003c99c500008001cb7a40679318010101010800075c0200440061626364"+
				"65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
			"4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284"+
				"456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3"+
				"f821d496eeb096e98ad2b69e4799c71d"),
		gcm("gcm-test-case5-empty", "7d773d00c144c525ac619d18c84a3f47", "d9664267", 0x335467ae, 0, 0xffffffff, false, "43457e9182443bc6",
			"01020201", "437f866b"+"cb3f699fe9b0822bac961c4504bef270"),
	}
}

// TestGolden opens the published packets and seals their contents back to
// the same bytes.
func TestGolden(t *testing.T) {
	for _, g := range goldenPackets() {
		t.Run(g.name, func(t *testing.T) {
			p, err := g.sa.Decode(g.packet)
			if err != nil {
				t.Fatal(err)
			}
			if p.SPI != g.sa.SPI || p.NextHeader != g.next || !bytes.Equal(p.Payload, g.payload) {
				t.Fatalf("opened SPI %08x next header %d payload %x", p.SPI, p.NextHeader, p.Payload)
			}
			out, err := g.sa.Encode(p.Seq, p.IV, g.next, g.payload)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, g.packet) {
				t.Fatalf("sealed\n%x\nwant\n%x", out, g.packet)
			}
			// Any flipped bit of an authenticated packet is refused.
			if g.sa.Auth != NullAuth {
				for i := range g.packet {
					bad := append([]byte(nil), g.packet...)
					bad[i] ^= 0x80
					if _, err := g.sa.Decode(bad); err == nil {
						t.Fatalf("bit flipped in byte %d accepted", i)
					}
				}
			}
		})
	}
	// With ESN, the high-order half is authenticated although not sent.
	g := goldenPackets()[2]
	g.sa.SeqHi++
	if _, err := g.sa.Decode(g.packet); !errors.Is(err, ErrICV) {
		t.Fatalf("wrong high-order sequence number: %v", err)
	}
}

// TestICVVectors checks the truncated HMACs against RFC 2404 (HMAC-SHA-1-96,
// from the RFC 2202 case 1) and RFC 4868 2.7.2.1 (AUTH256-1, AUTH256-2).
func TestICVVectors(t *testing.T) {
	for _, c := range []struct {
		name string
		auth Integrity
		key  []byte
		data string
		icv  string
	}{
		{"rfc2404-1", HMACSHA196, bytes.Repeat([]byte{0x0b}, 20), "Hi There", "b617318655057264e28bc0b6"},
		{"rfc4868-AUTH256-1", HMACSHA256128, bytes.Repeat([]byte{0x0b}, 32), "Hi There", "198a607eb44bfbc69903a0f1cf2bbdc5"},
		{"rfc4868-AUTH256-2", HMACSHA256128, bytes.Repeat([]byte("Jefe"), 8), "what do ya want for nothing?", "167f928588c5cc2eef8e3093caa0e87c"},
	} {
		sa := &SA{Cipher: AESCBC, EncKey: make([]byte, 16), Auth: c.auth, AuthKey: c.key}
		s, err := sa.suite()
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(sa.icv(s, []byte(c.data))); got != c.icv {
			t.Errorf("%s: %s, want %s", c.name, got, c.icv)
		}
	}
}
