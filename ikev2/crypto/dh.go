package crypto

import (
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"github.com/ikectx/ikectx/ikev2/msg"
)

// DH is one side of a Diffie-Hellman exchange.
type DH interface {
	Group() uint16
	// Public is the KE payload's key exchange data.
	Public() []byte
	// Shared computes g^ir from the peer's KE data.
	Shared(peer []byte) ([]byte, error)
}

// SupportedGroups lists the DH groups ikectx implements.
var SupportedGroups = []uint16{msg.DH_MODP2048, msg.DH_ECP256, msg.DH_CURVE25519}

// NewDH creates a fresh key pair in group g.
func NewDH(g uint16) (DH, error) {
	switch g {
	case msg.DH_MODP2048:
		return newMODP(g, modp2048, 256)
	case msg.DH_ECP256:
		k, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		return &ecDH{g: g, k: k, strip: true}, nil
	case msg.DH_CURVE25519:
		k, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		return &ecDH{g: g, k: k}, nil
	}
	return nil, fmt.Errorf("ikev2/crypto: DH group %d not supported", g)
}

// KELen is the length of the KE data of group g, or 0 if unsupported.
func KELen(g uint16) int {
	switch g {
	case msg.DH_MODP2048:
		return 256
	case msg.DH_ECP256:
		return 64
	case msg.DH_CURVE25519:
		return 32
	}
	return 0
}

type ecDH struct {
	g     uint16
	k     *ecdh.PrivateKey
	strip bool // NIST curves: x | y without the 0x04 prefix (RFC 5903)
}

func (e *ecDH) Group() uint16 { return e.g }

func (e *ecDH) Public() []byte {
	b := e.k.PublicKey().Bytes()
	if e.strip {
		return b[1:]
	}
	return b
}

func (e *ecDH) Shared(peer []byte) ([]byte, error) {
	if len(peer) != KELen(e.g) {
		return nil, fmt.Errorf("ikev2/crypto: DH group %d: KE data of %d octets", e.g, len(peer))
	}
	if e.strip {
		peer = append([]byte{4}, peer...)
	}
	pk, err := e.k.Curve().NewPublicKey(peer)
	if err != nil {
		return nil, fmt.Errorf("ikev2/crypto: DH group %d: %w", e.g, err)
	}
	return e.k.ECDH(pk)
}

type modpDH struct {
	g    uint16
	p    *big.Int
	x    *big.Int
	pub  []byte
	size int
}

var modp2048, _ = new(big.Int).SetString(
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"+
		"29024E088A67CC74020BBEA63B139B22514A08798E3404DD"+
		"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"+
		"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"+
		"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"+
		"C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"+
		"83655D23DCA3AD961C62F356208552BB9ED529077096966D"+
		"670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"+
		"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9"+
		"DE2BCBF6955817183995497CEA956AE515D2261898FA0510"+
		"15728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)

func newMODP(g uint16, p *big.Int, size int) (*modpDH, error) {
	// A private exponent of 512 bits: more than twice the group's
	// strength (RFC 3526 section 8).
	xb := make([]byte, 64)
	if _, err := rand.Read(xb); err != nil {
		return nil, err
	}
	x := new(big.Int).SetBytes(xb)
	x.SetBit(x, 511, 1)
	y := new(big.Int).Exp(big.NewInt(2), x, p)
	return &modpDH{g: g, p: p, x: x, pub: y.FillBytes(make([]byte, size)), size: size}, nil
}

func (m *modpDH) Group() uint16  { return m.g }
func (m *modpDH) Public() []byte { return m.pub }

var errBadPublic = errors.New("public value out of range")

func (m *modpDH) Shared(peer []byte) ([]byte, error) {
	if len(peer) != m.size {
		return nil, fmt.Errorf("ikev2/crypto: DH group %d: KE data of %d octets", m.g, len(peer))
	}
	y := new(big.Int).SetBytes(peer)
	pm1 := new(big.Int).Sub(m.p, big.NewInt(1))
	if y.Cmp(big.NewInt(1)) <= 0 || y.Cmp(pm1) >= 0 {
		return nil, fmt.Errorf("ikev2/crypto: DH group %d: %w", m.g, errBadPublic)
	}
	s := new(big.Int).Exp(y, m.x, m.p)
	return s.FillBytes(make([]byte, m.size)), nil
}
