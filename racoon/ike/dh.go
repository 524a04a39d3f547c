package ike

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"sync"
)

// Group is a MODP Diffie-Hellman group (RFC 2409 section 6, RFC 3526).
type Group struct {
	ID   uint16 // Oakley group description
	Name string
	Bits int
	p    *big.Int
}

// The primes are defined by RFC 2409 and RFC 3526 as
// p = 2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) * pi) + k) with generator 2;
// they are computed once from that formula (pi by Machin's formula) instead of
// being transcribed, and the tests check they are safe primes.
var groupDefs = []struct {
	id   uint16
	name string
	bits uint
	k    int64
}{
	{1, "modp768", 768, 149686},
	{2, "modp1024", 1024, 129093},
	{5, "modp1536", 1536, 741804},
	{14, "modp2048", 2048, 124476},
	{15, "modp3072", 3072, 1690314},
	{16, "modp4096", 4096, 240904},
}

var (
	groupsOnce sync.Once
	groups     map[uint16]*Group
)

// atanInv returns arctan(1/x) scaled by 2^bits.
func atanInv(x int64, bits uint) *big.Int {
	one := new(big.Int).Lsh(big.NewInt(1), bits)
	X := big.NewInt(x)
	x2 := new(big.Int).Mul(X, X)
	term := new(big.Int).Div(one, X)
	sum := new(big.Int).Set(term)
	n := int64(1)
	neg := true
	t := new(big.Int)
	for term.Sign() != 0 {
		term.Div(term, x2)
		n += 2
		t.Div(term, big.NewInt(n))
		if neg {
			sum.Sub(sum, t)
		} else {
			sum.Add(sum, t)
		}
		neg = !neg
	}
	return sum
}

func initGroups() {
	const guard = 64
	bits := uint(4096 + guard)
	pi := new(big.Int).Sub(new(big.Int).Mul(atanInv(5, bits), big.NewInt(16)),
		new(big.Int).Mul(atanInv(239, bits), big.NewInt(4)))
	groups = map[uint16]*Group{}
	for _, d := range groupDefs {
		f := new(big.Int).Rsh(pi, bits-(d.bits-130))
		f.Add(f, big.NewInt(d.k))
		p := new(big.Int).Lsh(big.NewInt(1), d.bits)
		p.Sub(p, new(big.Int).Lsh(big.NewInt(1), d.bits-64))
		p.Sub(p, big.NewInt(1))
		p.Add(p, f.Lsh(f, 64))
		groups[d.id] = &Group{ID: d.id, Name: d.name, Bits: int(d.bits), p: p}
	}
}

// GroupByID returns the MODP group with Oakley group description id.
func GroupByID(id uint16) (*Group, error) {
	groupsOnce.Do(initGroups)
	g, ok := groups[id]
	if !ok {
		return nil, fmt.Errorf("ike: DH group %d is not supported (modp768/1024/1536/2048/3072/4096 are)", id)
	}
	return g, nil
}

// Prime returns a copy of the group's prime.
func (g *Group) Prime() *big.Int { return new(big.Int).Set(g.p) }

// Len is the size in bytes of public values and shared secrets.
func (g *Group) Len() int { return g.Bits / 8 }

// DH is one side's Diffie-Hellman state.
type DH struct {
	Group  *Group
	priv   *big.Int
	Public []byte // g^x, Len() bytes
}

// exponentBits is the private exponent length: twice the group's strength
// estimate of RFC 3526 section 8 (the upper one), at least 256 bits, as
// strongSwan and OpenSSL do, instead of an exponent as long as the prime.
// The peer cannot tell the difference; the modular exponentiations cost
// about Bits/exponentBits times less.
func (g *Group) exponentBits() int {
	switch {
	case g.Bits <= 1024:
		return 256
	case g.Bits <= 1536:
		return 304
	case g.Bits <= 2048:
		return 320
	case g.Bits <= 3072:
		return 424
	}
	return 480
}

// NewDH makes a key pair with a random private exponent of exponentBits.
func NewDH(g *Group) (*DH, error) {
	n := g.exponentBits()
	b := make([]byte, (n+7)/8)
	for {
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		if n%8 != 0 {
			b[0] &= byte(1<<(n%8)) - 1
		}
		x := new(big.Int).SetBytes(b)
		if x.Cmp(big.NewInt(1)) > 0 && x.Cmp(g.p) < 0 {
			return NewDHPrivate(g, x.Bytes())
		}
	}
}

// NewDHPrivate makes the key pair of a given private value (tests, vectors).
func NewDHPrivate(g *Group, priv []byte) (*DH, error) {
	x := new(big.Int).SetBytes(priv)
	if x.Sign() <= 0 || x.Cmp(g.p) >= 0 {
		return nil, fmt.Errorf("ike: DH private value out of range")
	}
	y := new(big.Int).Exp(big.NewInt(2), x, g.p)
	return &DH{Group: g, priv: x, Public: y.FillBytes(make([]byte, g.Len()))}, nil
}

// Shared computes (peer)^x mod p in Len() bytes. The peer's value must have
// the group's length and lie in 2..p-2.
func (d *DH) Shared(peer []byte) ([]byte, error) {
	if len(peer) != d.Group.Len() {
		return nil, fmt.Errorf("ike: %s public value of %d bytes, want %d", d.Group.Name, len(peer), d.Group.Len())
	}
	y := new(big.Int).SetBytes(peer)
	pm1 := new(big.Int).Sub(d.Group.p, big.NewInt(1))
	if y.Cmp(big.NewInt(1)) <= 0 || y.Cmp(pm1) >= 0 {
		return nil, fmt.Errorf("ike: %s public value out of range", d.Group.Name)
	}
	z := new(big.Int).Exp(y, d.priv, d.Group.p)
	return z.FillBytes(make([]byte, d.Group.Len())), nil
}

// Wipe forgets the private value.
func (d *DH) Wipe() {
	if d == nil || d.priv == nil {
		return
	}
	d.priv.SetInt64(0)
	d.priv = nil
}
