// Package esptest decodes ESP packets (RFC 4303) for tests: it checks the
// ICV and decrypts the payload of a CBC-mode SA (DES, 3DES, AES) with
// HMAC-MD5-96, HMAC-SHA1-96 or HMAC-SHA-256-128 (RFC 4868) authentication,
// given the keys of the SA. It is test code: errors never contain key bytes.
package esptest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

// Cipher is an ESP encryption transform in CBC mode.
type Cipher int

const (
	DESCBC Cipher = iota + 1
	TripleDESCBC
	AESCBC
)

// Integrity is an ESP authentication transform.
type Integrity int

const (
	HMACMD596 Integrity = iota + 1
	HMACSHA196
	HMACSHA256128
)

// SA holds what is needed to decode the packets of one ESP SA.
type SA struct {
	SPI     uint32
	Cipher  Cipher
	EncKey  []byte
	Auth    Integrity
	AuthKey []byte
}

// Packet is a decoded ESP packet.
type Packet struct {
	SPI, Seq   uint32
	IV         []byte
	Payload    []byte // the inner packet (next header's data), padding removed
	PadLen     int
	NextHeader uint8 // 4 IPv4, 41 IPv6 in tunnel mode
}

func (sa *SA) block() (cipher.Block, error) {
	switch sa.Cipher {
	case DESCBC:
		return des.NewCipher(sa.EncKey)
	case TripleDESCBC:
		return des.NewTripleDESCipher(sa.EncKey)
	case AESCBC:
		return aes.NewCipher(sa.EncKey)
	}
	return nil, fmt.Errorf("esptest: unknown cipher %d", sa.Cipher)
}

func (sa *SA) mac() (func() hash.Hash, int, error) {
	switch sa.Auth {
	case HMACMD596:
		return md5.New, 12, nil
	case HMACSHA196:
		return sha1.New, 12, nil
	case HMACSHA256128:
		return sha256.New, 16, nil
	}
	return nil, 0, fmt.Errorf("esptest: unknown integrity algorithm %d", sa.Auth)
}

// ErrICV is returned when the integrity check value does not match.
var ErrICV = errors.New("esptest: ICV mismatch")

// Decode checks and decrypts esp, an ESP header and everything after it (no
// UDP header nor non-ESP marker).
func (sa *SA) Decode(esp []byte) (*Packet, error) {
	b, err := sa.block()
	if err != nil {
		return nil, err // the key's size, never its bytes
	}
	newHash, icvLen, err := sa.mac()
	if err != nil {
		return nil, err
	}
	bs := b.BlockSize()
	if len(esp) < 8+bs+bs+icvLen {
		return nil, fmt.Errorf("esptest: %d bytes is too short", len(esp))
	}
	p := &Packet{SPI: binary.BigEndian.Uint32(esp), Seq: binary.BigEndian.Uint32(esp[4:])}
	if p.SPI != sa.SPI {
		return nil, fmt.Errorf("esptest: SPI %08x, want %08x", p.SPI, sa.SPI)
	}
	body, icv := esp[:len(esp)-icvLen], esp[len(esp)-icvLen:]
	m := hmac.New(newHash, sa.AuthKey)
	m.Write(body)
	if subtle.ConstantTimeCompare(m.Sum(nil)[:icvLen], icv) != 1 {
		return nil, ErrICV
	}
	p.IV = append([]byte(nil), body[8:8+bs]...)
	ct := body[8+bs:]
	if len(ct)%bs != 0 {
		return nil, fmt.Errorf("esptest: ciphertext of %d bytes is not a multiple of the block size %d", len(ct), bs)
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(b, p.IV).CryptBlocks(pt, ct)
	p.NextHeader = pt[len(pt)-1]
	p.PadLen = int(pt[len(pt)-2])
	if p.PadLen+2 > len(pt) {
		return nil, fmt.Errorf("esptest: pad length %d in %d bytes", p.PadLen, len(pt))
	}
	pad := pt[len(pt)-2-p.PadLen : len(pt)-2]
	for i, c := range pad { // RFC 4303 2.4: 1, 2, 3, ...
		if c != byte(i+1) {
			return nil, fmt.Errorf("esptest: padding byte %d is %d", i, c)
		}
	}
	p.Payload = pt[:len(pt)-2-p.PadLen]
	return p, nil
}

// Encode builds an ESP packet carrying payload with the given sequence
// number and IV, padded to the block size (for the decoder's tests).
func (sa *SA) Encode(seq uint32, iv []byte, nextHeader uint8, payload []byte) ([]byte, error) {
	b, err := sa.block()
	if err != nil {
		return nil, err // the key's size, never its bytes
	}
	newHash, icvLen, err := sa.mac()
	if err != nil {
		return nil, err
	}
	bs := b.BlockSize()
	if len(iv) != bs {
		return nil, fmt.Errorf("esptest: IV of %d bytes, block size %d", len(iv), bs)
	}
	padLen := (bs - (len(payload)+2)%bs) % bs
	pt := append([]byte(nil), payload...)
	for i := 0; i < padLen; i++ {
		pt = append(pt, byte(i+1))
	}
	pt = append(pt, byte(padLen), nextHeader)
	out := binary.BigEndian.AppendUint32(nil, sa.SPI)
	out = binary.BigEndian.AppendUint32(out, seq)
	out = append(out, iv...)
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(ct, pt)
	out = append(out, ct...)
	m := hmac.New(newHash, sa.AuthKey)
	m.Write(out)
	return append(out, m.Sum(nil)[:icvLen]...), nil
}
