// Package crypto holds IKEv2's cryptography (RFC 7296 section 2.13-2.17,
// RFC 5282 for AES-GCM): the PRFs and prf+, SKEYSEED and the SK_* keys,
// the SK payload protectors (AES-CBC with HMAC-SHA2, AES-GCM), the
// Diffie-Hellman groups 14, 19 and 31, PSK authentication and child SA
// key material. Keys live in one Keys struct with Wipe and never print.
package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"

	"github.com/ikectx/ikectx/ikev2/msg"
)

// PRF is a pseudo-random function transform.
type PRF struct {
	ID   uint16
	hash func() hash.Hash
	Size int // output and preferred key size
}

// LookupPRF returns the PRF with the given transform ID.
func LookupPRF(id uint16) (PRF, error) {
	switch id {
	case msg.PRF_HMAC_SHA1:
		return PRF{id, sha1.New, 20}, nil
	case msg.PRF_HMAC_SHA2_256:
		return PRF{id, sha256.New, 32}, nil
	case msg.PRF_HMAC_SHA2_384:
		return PRF{id, sha512.New384, 48}, nil
	case msg.PRF_HMAC_SHA2_512:
		return PRF{id, sha512.New, 64}, nil
	}
	return PRF{}, fmt.Errorf("ikev2/crypto: PRF %d not supported", id)
}

// Sum computes prf(key, data...).
func (p PRF) Sum(key []byte, data ...[]byte) []byte {
	m := hmac.New(p.hash, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

// Plus computes n octets of prf+(key, seed) (RFC 7296 section 2.13). It
// returns nil when n needs more than 255 iterations.
func (p PRF) Plus(key, seed []byte, n int) []byte {
	if n > 255*p.Size {
		return nil
	}
	out := make([]byte, 0, n+p.Size)
	var t []byte
	for i := 1; len(out) < n; i++ {
		t = p.Sum(key, t, seed, []byte{byte(i)})
		out = append(out, t...)
	}
	return out[:n]
}

// Integ is an integrity transform.
type Integ struct {
	ID      uint16
	hash    func() hash.Hash
	KeyLen  int
	ICVSize int
}

// LookupInteg returns the integrity algorithm with the given ID.
func LookupInteg(id uint16) (Integ, error) {
	switch id {
	case msg.AUTH_HMAC_SHA1_96:
		return Integ{id, sha1.New, 20, 12}, nil
	case msg.AUTH_HMAC_SHA2_256_128:
		return Integ{id, sha256.New, 32, 16}, nil
	case msg.AUTH_HMAC_SHA2_384_192:
		return Integ{id, sha512.New384, 48, 24}, nil
	case msg.AUTH_HMAC_SHA2_512_256:
		return Integ{id, sha512.New, 64, 32}, nil
	}
	return Integ{}, fmt.Errorf("ikev2/crypto: integrity algorithm %d not supported", id)
}

// Encr is an encryption transform with its key length.
type Encr struct {
	ID      uint16
	KeyBits int
	ICVSize int // AEAD only
	AEAD    bool
}

// KeyLen is the key material length in octets (AES-GCM adds a 4-octet salt).
func (e Encr) KeyLen() int {
	if e.AEAD {
		return e.KeyBits/8 + 4
	}
	return e.KeyBits / 8
}

// LookupEncr returns the encryption algorithm. AES-GCM with an 8-octet
// ICV is not offered (Go's GCM needs at least 12).
func LookupEncr(id uint16, keyBits int) (Encr, error) {
	if keyBits != 128 && keyBits != 192 && keyBits != 256 {
		return Encr{}, fmt.Errorf("ikev2/crypto: encryption %d: key length %d not supported", id, keyBits)
	}
	switch id {
	case msg.ENCR_AES_CBC:
		return Encr{ID: id, KeyBits: keyBits}, nil
	case msg.ENCR_AES_GCM_12:
		return Encr{ID: id, KeyBits: keyBits, ICVSize: 12, AEAD: true}, nil
	case msg.ENCR_AES_GCM_16:
		return Encr{ID: id, KeyBits: keyBits, ICVSize: 16, AEAD: true}, nil
	}
	return Encr{}, fmt.Errorf("ikev2/crypto: encryption algorithm %d not supported", id)
}

// Suite is the negotiated IKE SA algorithms.
type Suite struct {
	Encr  Encr
	Integ Integ // zero for AEAD
	PRF   PRF
	DH    uint16
}

// SuiteFromProposal reads the IKE SA algorithms from a chosen proposal.
func SuiteFromProposal(p msg.Proposal) (Suite, error) {
	var s Suite
	var haveE, haveP bool
	for _, t := range p.Transforms {
		var err error
		switch t.Type {
		case msg.TransENCR:
			s.Encr, err = LookupEncr(t.ID, t.KeyLength())
			haveE = true
		case msg.TransINTEG:
			s.Integ, err = LookupInteg(t.ID)
		case msg.TransPRF:
			s.PRF, err = LookupPRF(t.ID)
			haveP = true
		case msg.TransDH:
			s.DH = t.ID
		}
		if err != nil {
			return s, err
		}
	}
	if !haveE || !haveP || s.DH == 0 || (!s.Encr.AEAD && s.Integ.ID == 0) {
		return s, errors.New("ikev2/crypto: proposal lacks a transform type")
	}
	return s, nil
}

// Keys holds an IKE SA's keys. It is the only owner of their bytes.
type Keys struct {
	SKd, SKai, SKar, SKei, SKer, SKpi, SKpr []byte
}

// String never shows key bytes.
func (k *Keys) String() string { return "ikev2.Keys{...}" }

// GoString never shows key bytes.
func (k *Keys) GoString() string { return k.String() }

// Format keeps keys out of every fmt verb.
func (k *Keys) Format(f fmt.State, _ rune) { f.Write([]byte(k.String())) }

// Wipe zeroes all keys.
func (k *Keys) Wipe() {
	if k == nil {
		return
	}
	for _, b := range [][]byte{k.SKd, k.SKai, k.SKar, k.SKei, k.SKer, k.SKpi, k.SKpr} {
		clear(b)
	}
}

// SKEYSEED computes prf(Ni | Nr, g^ir).
func (s Suite) SKEYSEED(ni, nr, shared []byte) []byte {
	return s.PRF.Sum(append(append([]byte(nil), ni...), nr...), shared)
}

// RekeySKEYSEED computes prf(SK_d (old), g^ir (new) | Ni | Nr).
func (s Suite) RekeySKEYSEED(oldSKd, shared, ni, nr []byte) []byte {
	return s.PRF.Sum(oldSKd, shared, ni, nr)
}

// DeriveKeys computes SK_d ... SK_pr = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
func (s Suite) DeriveKeys(skeyseed, ni, nr []byte, spii, spir uint64) *Keys {
	seed := append(append([]byte(nil), ni...), nr...)
	seed = appendU64(seed, spii)
	seed = appendU64(seed, spir)
	il, el, pl := s.Integ.KeyLen, s.Encr.KeyLen(), s.PRF.Size
	if s.Encr.AEAD {
		il = 0
	}
	km := s.PRF.Plus(skeyseed, seed, 3*pl+2*il+2*el)
	k := &Keys{}
	take := func(n int) []byte { r := km[:n:n]; km = km[n:]; return r }
	k.SKd = take(pl)
	k.SKai = take(il)
	k.SKar = take(il)
	k.SKei = take(el)
	k.SKer = take(el)
	k.SKpi = take(pl)
	k.SKpr = take(pl)
	return k
}

func appendU64(b []byte, v uint64) []byte {
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// Protectors returns the SK protectors for sending and receiving; the
// original initiator sends with SK_ei/SK_ai.
func (s Suite) Protectors(k *Keys, initiator bool) (out, in msg.Protector, err error) {
	ei, ai, er, ar := k.SKei, k.SKai, k.SKer, k.SKar
	if !initiator {
		ei, ai, er, ar = er, ar, ei, ai
	}
	if out, err = NewProtector(s.Encr, s.Integ, ei, ai); err != nil {
		return nil, nil, err
	}
	in, err = NewProtector(s.Encr, s.Integ, er, ar)
	return out, in, err
}

// NewProtector builds an SK protector from an encryption key (with salt
// for AEAD) and an integrity key.
func NewProtector(e Encr, i Integ, encKey, integKey []byte) (msg.Protector, error) {
	if len(encKey) != e.KeyLen() {
		return nil, fmt.Errorf("ikev2/crypto: encryption key of %d octets, want %d", len(encKey), e.KeyLen())
	}
	blk, err := aes.NewCipher(encKey[:e.KeyBits/8])
	if err != nil {
		return nil, err
	}
	if e.AEAD {
		g, err := cipher.NewGCMWithTagSize(blk, e.ICVSize)
		if err != nil {
			return nil, err
		}
		return &gcmProt{aead: g, salt: encKey[e.KeyBits/8:], icv: e.ICVSize}, nil
	}
	if len(integKey) != i.KeyLen {
		return nil, fmt.Errorf("ikev2/crypto: integrity key of %d octets, want %d", len(integKey), i.KeyLen)
	}
	return &cbcProt{blk: blk, integ: i, key: integKey}, nil
}

type cbcProt struct {
	blk   cipher.Block
	integ Integ
	key   []byte
}

func (c *cbcProt) SealedLen(n int) int {
	bs := c.blk.BlockSize()
	return bs + (n+1+bs-1)/bs*bs + c.integ.ICVSize
}

func (c *cbcProt) Seal(head, plain []byte) ([]byte, error) {
	bs := c.blk.BlockSize()
	padded := (len(plain) + 1 + bs - 1) / bs * bs
	pad := padded - len(plain) - 1
	out := make([]byte, bs+padded, bs+padded+c.integ.ICVSize)
	if _, err := rand.Read(out[:bs]); err != nil {
		return nil, err
	}
	buf := out[bs:]
	copy(buf, plain)
	buf[padded-1] = byte(pad)
	cipher.NewCBCEncrypter(c.blk, out[:bs]).CryptBlocks(buf, buf)
	m := hmac.New(c.integ.hash, c.key)
	m.Write(head)
	m.Write(out)
	return append(out, m.Sum(nil)[:c.integ.ICVSize]...), nil
}

func (c *cbcProt) Open(head, body []byte) ([]byte, error) {
	bs, is := c.blk.BlockSize(), c.integ.ICVSize
	if len(body) < bs+bs+is || (len(body)-bs-is)%bs != 0 {
		return nil, fmt.Errorf("SK body of %d octets: %w", len(body), msg.ErrLength)
	}
	data, icv := body[:len(body)-is], body[len(body)-is:]
	m := hmac.New(c.integ.hash, c.key)
	m.Write(head)
	m.Write(data)
	if subtle.ConstantTimeCompare(m.Sum(nil)[:is], icv) != 1 {
		return nil, msg.ErrAuth
	}
	plain := make([]byte, len(data)-bs)
	cipher.NewCBCDecrypter(c.blk, data[:bs]).CryptBlocks(plain, data[bs:])
	pad := int(plain[len(plain)-1])
	if pad+1 > len(plain) {
		return nil, msg.ErrPadding
	}
	return plain[:len(plain)-1-pad], nil
}

type gcmProt struct {
	aead cipher.AEAD
	salt []byte
	icv  int
}

const gcmIVLen = 8

func (g *gcmProt) SealedLen(n int) int { return gcmIVLen + n + 1 + g.icv }

func (g *gcmProt) Seal(head, plain []byte) ([]byte, error) {
	out := make([]byte, gcmIVLen, gcmIVLen+len(plain)+1+g.icv)
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	nonce := append(append([]byte(nil), g.salt...), out...)
	p := append(append([]byte(nil), plain...), 0)
	return g.aead.Seal(out, nonce, p, head), nil
}

func (g *gcmProt) Open(head, body []byte) ([]byte, error) {
	if len(body) < gcmIVLen+1+g.icv {
		return nil, fmt.Errorf("SK body of %d octets: %w", len(body), msg.ErrLength)
	}
	nonce := append(append([]byte(nil), g.salt...), body[:gcmIVLen]...)
	plain, err := g.aead.Open(nil, nonce, body[gcmIVLen:], head)
	if err != nil {
		return nil, msg.ErrAuth
	}
	pad := int(plain[len(plain)-1])
	if pad+1 > len(plain) {
		return nil, msg.ErrPadding
	}
	return plain[:len(plain)-1-pad], nil
}

// KeyPad is the PSK AUTH key pad of RFC 7296 section 2.15.
const KeyPad = "Key Pad for IKEv2"

// PSKAuth computes AUTH = prf(prf(PSK, "Key Pad for IKEv2"),
// RealMessage | Nonce | prf(SK_p, RestOfIDPayload)); idBody is the ID
// payload body and skp the sender's SK_pi or SK_pr.
func (p PRF) PSKAuth(psk, realMsg, peerNonce, skp, idBody []byte) []byte {
	k := p.Sum(psk, []byte(KeyPad))
	defer clear(k)
	return p.Sum(k, realMsg, peerNonce, p.Sum(skp, idBody))
}

// ChildKeys computes KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) and splits it
// into the four child SA keys: initiator-to-responder encryption and
// integrity, then responder-to-initiator (RFC 7296 section 2.17).
func (p PRF) ChildKeys(skd, shared, ni, nr []byte, encLen, integLen int) (eI, aI, eR, aR []byte) {
	seed := append(append(append([]byte(nil), shared...), ni...), nr...)
	km := p.Plus(skd, seed, 2*(encLen+integLen))
	take := func(n int) []byte { r := km[:n:n]; km = km[n:]; return r }
	eI = take(encLen)
	aI = take(integLen)
	eR = take(encLen)
	aR = take(integLen)
	return
}
