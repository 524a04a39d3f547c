// Package esptest opens and seals ESP packets (RFC 4303) for tests, given
// the keys of the SA: CBC-mode ciphers (DES, 3DES, AES; RFC 3602) with
// HMAC-MD5-96, HMAC-SHA1-96 or HMAC-SHA-256/384/512 (RFC 4868)
// authentication, and AES-GCM with a 12- or 16-octet ICV (RFC 4106),
// optionally with extended sequence numbers. The interop tests of
// racoon/daemon and ikev2/daemon use it to prove that ESP crosses between
// strongSwan's user-space ESP and the keys an ikectx daemon negotiated;
// capture_linux.go reads the frames of an interface in a network
// namespace (Sniff, also used for racoon's IKE message captures) and
// records the ESP packets among them (Capture). It is test code: errors
// never contain key bytes.
package esptest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

// Cipher is an ESP encryption transform.
type Cipher int

const (
	DESCBC Cipher = iota + 1
	TripleDESCBC
	AESCBC
	// AES-GCM (RFC 4106): EncKey is the key followed by the 4-octet salt
	// (the KEYMAT layout of RFC 4106 section 8.1), the IV is 8 octets,
	// there is no separate integrity transform.
	AESGCM16
	AESGCM12
)

// AEAD reports whether c is a combined-mode cipher (no Integrity).
func (c Cipher) AEAD() bool { return c == AESGCM16 || c == AESGCM12 }

// Integrity is an ESP authentication transform.
type Integrity int

const (
	HMACMD596 Integrity = iota + 1
	HMACSHA196
	HMACSHA256128
	HMACSHA384192
	HMACSHA512256
	// NullAuth is confidentiality only (no ICV), as in the RFC 3602
	// test vectors; never what an interop peer negotiates here.
	NullAuth
)

// SA holds what is needed to open and seal the packets of one ESP SA.
type SA struct {
	SPI     uint32
	Cipher  Cipher
	EncKey  []byte // with AES-GCM, key || 4-octet salt
	Auth    Integrity
	AuthKey []byte
	// ESN: extended sequence numbers (RFC 4303 2.2.1); SeqHi is the
	// high-order half, which is authenticated but not sent.
	ESN   bool
	SeqHi uint32
}

// Packet is an opened ESP packet.
type Packet struct {
	SPI, Seq   uint32 // Seq: the low-order 32 bits as sent
	IV         []byte
	Payload    []byte // the inner packet (next header's data), padding removed
	PadLen     int
	NextHeader uint8 // 4 IPv4, 41 IPv6 in tunnel mode
}

// ErrICV is returned when the integrity check value (or the AEAD tag) does
// not match.
var ErrICV = errors.New("esptest: ICV mismatch")

// suite is an SA's transforms, ready to use.
type suite struct {
	cbc     cipher.Block // CBC ciphers
	aead    cipher.AEAD  // AES-GCM
	salt    []byte
	mac     func() hash.Hash
	icvLen  int
	ivLen   int
	padBase int // the payload, pad and trailer are a multiple of this
}

func (sa *SA) suite() (*suite, error) {
	s := &suite{}
	var err error
	switch sa.Cipher {
	case DESCBC:
		s.cbc, err = des.NewCipher(sa.EncKey)
	case TripleDESCBC:
		s.cbc, err = des.NewTripleDESCipher(sa.EncKey)
	case AESCBC:
		s.cbc, err = aes.NewCipher(sa.EncKey)
	case AESGCM16, AESGCM12:
		if len(sa.EncKey) < 4 {
			return nil, fmt.Errorf("esptest: AES-GCM key material of %d bytes has no salt", len(sa.EncKey))
		}
		n := len(sa.EncKey) - 4
		b, err := aes.NewCipher(sa.EncKey[:n])
		if err != nil {
			return nil, fmt.Errorf("esptest: AES-GCM key of %d bytes: %v", n, err)
		}
		s.icvLen = 16
		if sa.Cipher == AESGCM12 {
			s.icvLen = 12
		}
		if s.aead, err = cipher.NewGCMWithTagSize(b, s.icvLen); err != nil {
			return nil, err
		}
		if sa.Auth != 0 {
			return nil, fmt.Errorf("esptest: integrity algorithm %d with a combined-mode cipher", sa.Auth)
		}
		s.salt, s.ivLen, s.padBase = sa.EncKey[n:], 8, 4
		return s, nil
	default:
		return nil, fmt.Errorf("esptest: unknown cipher %d", sa.Cipher)
	}
	if err != nil {
		return nil, fmt.Errorf("esptest: cipher %d, key of %d bytes: %v", sa.Cipher, len(sa.EncKey), err)
	}
	s.ivLen = s.cbc.BlockSize()
	s.padBase = s.ivLen
	switch sa.Auth {
	case HMACMD596:
		s.mac, s.icvLen = md5.New, 12
	case HMACSHA196:
		s.mac, s.icvLen = sha1.New, 12
	case HMACSHA256128:
		s.mac, s.icvLen = sha256.New, 16
	case HMACSHA384192:
		s.mac, s.icvLen = sha512.New384, 24
	case HMACSHA512256:
		s.mac, s.icvLen = sha512.New, 32
	case NullAuth:
	default:
		return nil, fmt.Errorf("esptest: unknown integrity algorithm %d", sa.Auth)
	}
	return s, nil
}

// IVLen is the length of the IV field of the SA's packets.
func (sa *SA) IVLen() (int, error) {
	s, err := sa.suite()
	if err != nil {
		return 0, err
	}
	return s.ivLen, nil
}

// icv is the truncated HMAC over the ESP header, IV and ciphertext, with
// the high-order sequence number appended when ESN is on (RFC 4303
// 2.2.1, 3.3.2.2).
func (sa *SA) icv(s *suite, body []byte) []byte {
	m := hmac.New(s.mac, sa.AuthKey)
	m.Write(body)
	if sa.ESN {
		m.Write(binary.BigEndian.AppendUint32(nil, sa.SeqHi))
	}
	return m.Sum(nil)[:s.icvLen]
}

// aad is the AES-GCM additional authenticated data: the SPI and the
// (extended) sequence number (RFC 4106 5).
func (sa *SA) aad(seq uint32) []byte {
	a := binary.BigEndian.AppendUint32(nil, sa.SPI)
	if sa.ESN {
		a = binary.BigEndian.AppendUint32(a, sa.SeqHi)
	}
	return binary.BigEndian.AppendUint32(a, seq)
}

// Decode checks and decrypts esp, an ESP header and everything after it (no
// UDP header nor non-ESP marker). Any input gives a packet or an error,
// never a panic.
func (sa *SA) Decode(esp []byte) (*Packet, error) {
	s, err := sa.suite()
	if err != nil {
		return nil, err // the key's size, never its bytes
	}
	minCT := s.padBase // at least one block, or the 2-octet trailer padded to 4
	if len(esp) < 8+s.ivLen+minCT+s.icvLen {
		return nil, fmt.Errorf("esptest: %d bytes is too short", len(esp))
	}
	p := &Packet{SPI: binary.BigEndian.Uint32(esp), Seq: binary.BigEndian.Uint32(esp[4:])}
	if p.SPI != sa.SPI {
		return nil, fmt.Errorf("esptest: SPI %08x, want %08x", p.SPI, sa.SPI)
	}
	body, icv := esp[:len(esp)-s.icvLen], esp[len(esp)-s.icvLen:]
	p.IV = append([]byte(nil), body[8:8+s.ivLen]...)
	ct := body[8+s.ivLen:]
	if len(ct)%s.padBase != 0 {
		return nil, fmt.Errorf("esptest: ciphertext of %d bytes is not a multiple of %d", len(ct), s.padBase)
	}
	var pt []byte
	if s.aead != nil {
		nonce := append(append([]byte(nil), s.salt...), p.IV...)
		if pt, err = s.aead.Open(nil, nonce, esp[8+s.ivLen:], sa.aad(p.Seq)); err != nil {
			return nil, ErrICV
		}
	} else {
		if s.mac != nil && subtle.ConstantTimeCompare(sa.icv(s, body), icv) != 1 {
			return nil, ErrICV
		}
		pt = make([]byte, len(ct))
		cipher.NewCBCDecrypter(s.cbc, p.IV).CryptBlocks(pt, ct)
	}
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
// number (its low-order 32 bits) and IV (the block size for CBC, 8 octets
// for AES-GCM), padded to the block size (CBC) or to 4 octets (AES-GCM).
// Tests must not repeat an IV under one AES-GCM key with different data.
func (sa *SA) Encode(seq uint32, iv []byte, nextHeader uint8, payload []byte) ([]byte, error) {
	s, err := sa.suite()
	if err != nil {
		return nil, err // the key's size, never its bytes
	}
	if len(iv) != s.ivLen {
		return nil, fmt.Errorf("esptest: IV of %d bytes, want %d", len(iv), s.ivLen)
	}
	padLen := (s.padBase - (len(payload)+2)%s.padBase) % s.padBase
	pt := append([]byte(nil), payload...)
	for i := 0; i < padLen; i++ {
		pt = append(pt, byte(i+1))
	}
	pt = append(pt, byte(padLen), nextHeader)
	out := binary.BigEndian.AppendUint32(nil, sa.SPI)
	out = binary.BigEndian.AppendUint32(out, seq)
	out = append(out, iv...)
	if s.aead != nil {
		nonce := append(append([]byte(nil), s.salt...), iv...)
		return s.aead.Seal(out, nonce, pt, sa.aad(seq)), nil
	}
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(s.cbc, iv).CryptBlocks(ct, pt)
	out = append(out, ct...)
	if s.mac == nil {
		return out, nil
	}
	return append(out, sa.icv(s, out)...), nil
}
