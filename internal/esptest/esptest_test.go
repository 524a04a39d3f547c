package esptest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"testing"
)

func seqBytes(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name   string
		cipher Cipher
		keyLen int
		auth   Integrity
		akLen  int
		bs     int
		icv    int
	}{
		{"3des-sha1", TripleDESCBC, 24, HMACSHA196, 20, 8, 12},
		{"aes128-sha256", AESCBC, 16, HMACSHA256128, 32, 16, 16},
		{"aes256-md5", AESCBC, 32, HMACMD596, 16, 16, 12},
		{"des-sha1", DESCBC, 8, HMACSHA196, 20, 8, 12},
		{"aes192-sha384", AESCBC, 24, HMACSHA384192, 48, 16, 24},
		{"aes256-sha512", AESCBC, 32, HMACSHA512256, 64, 16, 32},
		{"aes128gcm16", AESGCM16, 16 + 4, 0, 0, 8, 16},
		{"aes256gcm16", AESGCM16, 32 + 4, 0, 0, 8, 16},
		{"aes128gcm12", AESGCM12, 16 + 4, 0, 0, 8, 12},
	} {
		t.Run(c.name, func(t *testing.T) {
			sa := &SA{SPI: 0xc0ffee01, Cipher: c.cipher, EncKey: seqBytes(c.keyLen, 1), Auth: c.auth, AuthKey: seqBytes(c.akLen, 100)}
			if n, err := sa.IVLen(); err != nil || n != c.bs {
				t.Fatalf("IVLen %d %v, want %d", n, err, c.bs)
			}
			align := c.bs
			if c.cipher.AEAD() {
				align = 4
			}
			for n := 0; n < 40; n++ {
				payload := seqBytes(n, 7)
				esp, err := sa.Encode(uint32(n+1), seqBytes(c.bs, 200), 41, payload)
				if err != nil {
					t.Fatal(err)
				}
				if (len(esp)-8-c.bs-c.icv)%align != 0 || len(esp)-8-c.bs-c.icv-n-2 >= align {
					t.Fatalf("length %d", len(esp))
				}
				p, err := sa.Decode(esp)
				if err != nil {
					t.Fatal(err)
				}
				if p.Seq != uint32(n+1) || p.NextHeader != 41 || !bytes.Equal(p.Payload, payload) {
					t.Fatalf("decoded %+v", p)
				}
				esp[len(esp)-1-c.icv] ^= 1
				if _, err := sa.Decode(esp); !errors.Is(err, ErrICV) {
					t.Fatalf("tampered: %v", err)
				}
				esp[len(esp)-1-c.icv] ^= 1
				// ESN: the same packet under another high-order half fails
				esn := *sa
				esn.ESN = true
				e2, err := esn.Encode(uint32(n+1), seqBytes(c.bs, 200), 41, payload)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := esn.Decode(e2); err != nil {
					t.Fatal(err)
				}
				esn.SeqHi++
				if _, err := esn.Decode(e2); !errors.Is(err, ErrICV) {
					t.Fatalf("ESN high half changed: %v", err)
				}
			}
			other := *sa
			other.SPI++
			esp, _ := sa.Encode(1, seqBytes(c.bs, 0), 4, []byte("x"))
			if _, err := other.Decode(esp); err == nil {
				t.Fatal("wrong SPI accepted")
			}
		})
	}
}

// TestIndependent builds a packet by hand with the standard library only
// (AES-CBC, HMAC-SHA1-96; layout of RFC 4303 figure 1) and decodes it.
func TestIndependent(t *testing.T) {
	ek, ak, iv := seqBytes(16, 0x30), seqBytes(20, 0x50), seqBytes(16, 0x70)
	inner := []byte("0123456789abcdefXYZ") // 19 bytes + pad 11 + 2 = 32
	pt := append(append([]byte(nil), inner...), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11, 4)
	b, _ := aes.NewCipher(ek)
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(ct, pt)
	pkt := binary.BigEndian.AppendUint32(nil, 0x1234)
	pkt = binary.BigEndian.AppendUint32(pkt, 9)
	pkt = append(append(pkt, iv...), ct...)
	m := hmac.New(sha1.New, ak)
	m.Write(pkt)
	pkt = append(pkt, m.Sum(nil)[:12]...)
	sa := &SA{SPI: 0x1234, Cipher: AESCBC, EncKey: ek, Auth: HMACSHA196, AuthKey: ak}
	p, err := sa.Decode(pkt)
	if err != nil {
		t.Fatal(err)
	}
	if p.Seq != 9 || p.NextHeader != 4 || p.PadLen != 11 || !bytes.Equal(p.Payload, inner) || !bytes.Equal(p.IV, iv) {
		t.Fatalf("%+v", p)
	}
	// a 3DES key given as AES fails with a message that holds no key bytes
	sa.EncKey = seqBytes(24, 0x41)
	sa.Cipher = Cipher(99)
	if _, err := sa.Decode(pkt); err == nil {
		t.Fatal("unknown cipher accepted")
	}
}

// fuzzSAs are the SAs the fuzz targets open packets with.
func fuzzSAs() []*SA {
	return []*SA{
		{SPI: 1, Cipher: AESCBC, EncKey: seqBytes(16, 1), Auth: HMACSHA256128, AuthKey: seqBytes(32, 2)},
		{SPI: 1, Cipher: TripleDESCBC, EncKey: seqBytes(24, 1), Auth: HMACSHA196, AuthKey: seqBytes(20, 2)},
		{SPI: 1, Cipher: AESCBC, EncKey: seqBytes(16, 1), Auth: NullAuth},
		{SPI: 1, Cipher: AESGCM16, EncKey: seqBytes(20, 1)},
		{SPI: 1, Cipher: AESGCM12, EncKey: seqBytes(36, 1), ESN: true, SeqHi: 7},
	}
}

// FuzzDecode: any input is opened or refused, never a panic; what opens
// re-seals (same IV and sequence number) to a packet that opens to the
// same contents.
func FuzzDecode(f *testing.F) {
	for _, g := range goldenPackets() {
		f.Add(g.packet)
	}
	for _, sa := range fuzzSAs() {
		n, _ := sa.IVLen()
		for _, l := range []int{0, 1, 5, 16, 40} {
			e, err := sa.Encode(3, seqBytes(n, 9), 41, seqBytes(l, 3))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(e)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, sa := range fuzzSAs() {
			p, err := sa.Decode(b)
			if err != nil {
				continue
			}
			again, err := sa.Encode(p.Seq, p.IV, p.NextHeader, p.Payload)
			if err != nil {
				t.Fatal(err)
			}
			q, err := sa.Decode(again)
			if err != nil || !bytes.Equal(q.Payload, p.Payload) || q.NextHeader != p.NextHeader || q.Seq != p.Seq {
				t.Fatalf("re-sealed packet opens to %+v, %v; want %+v", q, err, p)
			}
		}
	})
}

// FuzzRoundTrip: whatever is sealed opens to the same contents.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint32(1), uint8(41), []byte("x"), byte(0))
	f.Add(uint32(0xffffffff), uint8(4), []byte{}, byte(3))
	f.Fuzz(func(t *testing.T, seq uint32, next uint8, payload []byte, ivSeed byte) {
		for _, sa := range fuzzSAs() {
			n, _ := sa.IVLen()
			e, err := sa.Encode(seq, seqBytes(n, ivSeed), next, payload)
			if err != nil {
				t.Fatal(err)
			}
			p, err := sa.Decode(e)
			if err != nil {
				t.Fatal(err)
			}
			if p.Seq != seq || p.NextHeader != next || !bytes.Equal(p.Payload, payload) {
				t.Fatalf("opened %+v", p)
			}
		}
	})
}
