package ike

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"

	"github.com/ikectx/ikectx/racoon/isakmp"
)

// HashFunc returns the hash constructor of an Oakley hash algorithm.
func HashFunc(id uint16) (func() hash.Hash, error) {
	switch id {
	case isakmp.HashMD5:
		return md5.New, nil
	case isakmp.HashSHA:
		return sha1.New, nil
	case isakmp.HashSHA256:
		return sha256.New, nil
	case isakmp.HashSHA384:
		return sha512.New384, nil
	case isakmp.HashSHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("ike: hash algorithm %d is not supported", id)
}

// PRF is the HMAC of the negotiated hash (RFC 2409 section 4: with no PRF
// attribute the HMAC version of the hash is the PRF).
type PRF struct{ h func() hash.Hash }

// NewPRF returns the PRF of Oakley hash id.
func NewPRF(id uint16) (PRF, error) {
	h, err := HashFunc(id)
	return PRF{h}, err
}

// Sum computes prf(key, data[0] | data[1] | ...).
func (p PRF) Sum(key []byte, data ...[]byte) []byte {
	m := hmac.New(p.h, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

// Hash computes hash(data[0] | ...) with the plain hash.
func (p PRF) Hash(data ...[]byte) []byte {
	h := p.h()
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(nil)
}

// Size is the PRF output length.
func (p PRF) Size() int { return p.h().Size() }

// Cipher is a phase-1 CBC cipher.
type Cipher struct {
	ID     uint16 // Oakley encryption algorithm
	KeyLen int    // bytes
}

// NewCipher checks the algorithm and key length (bits, 0 for the default).
func NewCipher(id uint16, keyBits int) (Cipher, error) {
	switch id {
	case isakmp.EncDES:
		if keyBits != 0 && keyBits != 64 {
			return Cipher{}, fmt.Errorf("ike: des with key length %d", keyBits)
		}
		return Cipher{id, 8}, nil
	case isakmp.Enc3DES:
		if keyBits != 0 && keyBits != 192 {
			return Cipher{}, fmt.Errorf("ike: 3des with key length %d", keyBits)
		}
		return Cipher{id, 24}, nil
	case isakmp.EncAES:
		switch keyBits {
		case 0:
			keyBits = 128
		case 128, 192, 256:
		default:
			return Cipher{}, fmt.Errorf("ike: aes with key length %d", keyBits)
		}
		return Cipher{id, keyBits / 8}, nil
	}
	return Cipher{}, fmt.Errorf("ike: encryption algorithm %d is not supported", id)
}

// BlockSize is the cipher's block (and IV) size.
func (c Cipher) BlockSize() int {
	if c.ID == isakmp.EncAES {
		return 16
	}
	return 8
}

func (c Cipher) block(key []byte) (cipher.Block, error) {
	if len(key) != c.KeyLen {
		return nil, fmt.Errorf("ike: key of %d bytes, want %d", len(key), c.KeyLen)
	}
	switch c.ID {
	case isakmp.EncDES:
		return des.NewCipher(key)
	case isakmp.Enc3DES:
		return des.NewTripleDESCipher(key)
	}
	return aes.NewCipher(key)
}

// Encrypt pads plain as racoon does (zero bytes, the last one the padding
// length, at least one byte) and encrypts it in CBC mode. It returns the
// ciphertext; its last block is the next IV.
func (c Cipher) Encrypt(key, iv, plain []byte) ([]byte, error) {
	b, err := c.block(key)
	if err != nil {
		return nil, err
	}
	bs := c.BlockSize()
	if len(iv) != bs {
		return nil, fmt.Errorf("ike: IV of %d bytes, want %d", len(iv), bs)
	}
	pad := bs - len(plain)%bs
	out := make([]byte, len(plain)+pad)
	copy(out, plain)
	out[len(out)-1] = byte(pad)
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, out)
	return out, nil
}

// Decrypt decrypts a CBC body. The padding is left in place: the ISAKMP
// payload chain says where the payloads end (racoon does not trim either).
func (c Cipher) Decrypt(key, iv, ct []byte) ([]byte, error) {
	b, err := c.block(key)
	if err != nil {
		return nil, err
	}
	bs := c.BlockSize()
	if len(iv) != bs {
		return nil, fmt.Errorf("ike: IV of %d bytes, want %d", len(iv), bs)
	}
	if len(ct) == 0 || len(ct)%bs != 0 {
		return nil, fmt.Errorf("ike: encrypted body of %d bytes is not a multiple of the %d-byte block", len(ct), bs)
	}
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(b, iv).CryptBlocks(out, ct)
	return out, nil
}

// Phase1Keys is the keying material of one ISAKMP SA. It is the only holder
// of these bytes; Wipe zeroes them.
type Phase1Keys struct {
	SKEYID  []byte
	D, A, E []byte // SKEYID_d, SKEYID_a, SKEYID_e
	Enc     []byte // the cipher key (appendix B expansion of SKEYID_e)
}

// Wipe zeroes every key.
func (k *Phase1Keys) Wipe() {
	if k == nil {
		return
	}
	for _, b := range [][]byte{k.SKEYID, k.D, k.A, k.E, k.Enc} {
		clear(b)
	}
	k.SKEYID, k.D, k.A, k.E, k.Enc = nil, nil, nil, nil, nil
}

// String never prints key bytes.
func (k *Phase1Keys) String() string { return "ike.Phase1Keys{...}" }

// SKEYIDPSK is SKEYID = prf(pre-shared-key, Ni_b | Nr_b).
func SKEYIDPSK(p PRF, psk, ni, nr []byte) []byte { return p.Sum(psk, ni, nr) }

// DeriveKeys computes SKEYID_d/a/e and the encryption key from SKEYID.
func DeriveKeys(p PRF, c Cipher, skeyid, gxy []byte, icookie, rcookie [8]byte) *Phase1Keys {
	k := &Phase1Keys{SKEYID: append([]byte(nil), skeyid...)}
	k.D = p.Sum(skeyid, gxy, icookie[:], rcookie[:], []byte{0})
	k.A = p.Sum(skeyid, k.D, gxy, icookie[:], rcookie[:], []byte{1})
	k.E = p.Sum(skeyid, k.A, gxy, icookie[:], rcookie[:], []byte{2})
	k.Enc = ExpandKey(p, k.E, c.KeyLen)
	return k
}

// ExpandKey is RFC 2409 appendix B: when SKEYID_e is shorter than the key,
// Ka = K1 | K2 | ... with K1 = prf(SKEYID_e, 0) and Kn = prf(SKEYID_e, Kn-1).
func ExpandKey(p PRF, skeyidE []byte, n int) []byte {
	if len(skeyidE) >= n {
		return append([]byte(nil), skeyidE[:n]...)
	}
	var out []byte
	k := p.Sum(skeyidE, []byte{0})
	for {
		out = append(out, k...)
		if len(out) >= n {
			break
		}
		k = p.Sum(skeyidE, k)
	}
	return out[:n]
}

// Phase1IV is hash(g^xi | g^xr) truncated to the block size.
func Phase1IV(p PRF, c Cipher, gxi, gxr []byte) []byte {
	return p.Hash(gxi, gxr)[:c.BlockSize()]
}

// Phase2IV is hash(last phase-1 IV | M-ID) truncated to the block size.
func Phase2IV(p PRF, c Cipher, lastIV []byte, msgID uint32) []byte {
	return p.Hash(lastIV, binary.BigEndian.AppendUint32(nil, msgID))[:c.BlockSize()]
}

// HashI is HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b);
// HashR swaps the DH values and cookies and takes IDir_b.
func HashI(p PRF, skeyid, gxi, gxr []byte, ci, cr [8]byte, sai, idi []byte) []byte {
	return p.Sum(skeyid, gxi, gxr, ci[:], cr[:], sai, idi)
}

// HashR is HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b).
func HashR(p PRF, skeyid, gxi, gxr []byte, ci, cr [8]byte, sai, idr []byte) []byte {
	return p.Sum(skeyid, gxr, gxi, cr[:], ci[:], sai, idr)
}

// KEYMAT computes the keying material of one phase-2 SA (RFC 2409 5.5):
// prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b), expanded to n
// bytes with Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b).
func KEYMAT(p PRF, skeyidD, gxy []byte, proto uint8, spi uint32, ni, nr []byte, n int) []byte {
	spib := binary.BigEndian.AppendUint32(nil, spi)
	var out, k []byte
	for len(out) < n || out == nil {
		if k == nil {
			k = p.Sum(skeyidD, gxy, []byte{proto}, spib, ni, nr)
		} else {
			k = p.Sum(skeyidD, k, gxy, []byte{proto}, spib, ni, nr)
		}
		out = append(out, k...)
	}
	return out[:n]
}

// InfoHash is the informational HASH(1) = prf(SKEYID_a, M-ID | N/D payloads).
func InfoHash(p PRF, skeyidA []byte, msgID uint32, payloads []byte) []byte {
	return p.Sum(skeyidA, binary.BigEndian.AppendUint32(nil, msgID), payloads)
}

// QuickHash1 is HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [| KE] [| IDci | IDcr]),
// payloads being everything after the HASH payload, generic headers included.
func QuickHash1(p PRF, skeyidA []byte, msgID uint32, payloads []byte) []byte {
	return p.Sum(skeyidA, binary.BigEndian.AppendUint32(nil, msgID), payloads)
}

// QuickHash2 is HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [| KE] [| IDci | IDcr]).
func QuickHash2(p PRF, skeyidA []byte, msgID uint32, ni, payloads []byte) []byte {
	return p.Sum(skeyidA, binary.BigEndian.AppendUint32(nil, msgID), ni, payloads)
}

// QuickHash3 is HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b).
func QuickHash3(p PRF, skeyidA []byte, msgID uint32, ni, nr []byte) []byte {
	return p.Sum(skeyidA, []byte{0}, binary.BigEndian.AppendUint32(nil, msgID), ni, nr)
}
