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
	} {
		t.Run(c.name, func(t *testing.T) {
			sa := &SA{SPI: 0xc0ffee01, Cipher: c.cipher, EncKey: seqBytes(c.keyLen, 1), Auth: c.auth, AuthKey: seqBytes(c.akLen, 100)}
			for n := 0; n < 40; n++ {
				payload := seqBytes(n, 7)
				esp, err := sa.Encode(uint32(n+1), seqBytes(c.bs, 200), 41, payload)
				if err != nil {
					t.Fatal(err)
				}
				if (len(esp)-8-c.bs-c.icv)%c.bs != 0 {
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
