package crypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/ikectx/ikectx/ikev2/msg"
)

// RFC 4231 test case 2 for the SHA-2 PRFs, RFC 2202's for SHA-1.
func TestPRFVectors(t *testing.T) {
	want := map[uint16]string{
		msg.PRF_HMAC_SHA1:     "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", // RFC 2202 test case 2
		msg.PRF_HMAC_SHA2_256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		msg.PRF_HMAC_SHA2_384: "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
		msg.PRF_HMAC_SHA2_512: "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
	}
	for id, w := range want {
		p, err := LookupPRF(id)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(p.Sum([]byte("Jefe"), []byte("what do ya want "), []byte("for nothing?"))); got != w {
			t.Errorf("PRF %d: %s", id, got)
		}
	}
}

func TestPRFPlus(t *testing.T) {
	p, _ := LookupPRF(msg.PRF_HMAC_SHA2_256)
	k, s := []byte("key"), []byte("seed")
	t1 := p.Sum(k, s, []byte{1})
	t2 := p.Sum(k, t1, s, []byte{2})
	got := p.Plus(k, s, 40)
	if !bytes.Equal(got, append(t1, t2[:8]...)) {
		t.Fatalf("%x", got)
	}
	if p.Plus(k, s, 256*32) != nil {
		t.Fatal("prf+ beyond 255 blocks")
	}
}

func TestDeriveKeysLengths(t *testing.T) {
	for _, c := range []struct {
		encr      uint16
		bits      int
		integ     uint16
		prf       uint16
		el, il, p int
	}{
		{msg.ENCR_AES_CBC, 128, msg.AUTH_HMAC_SHA2_256_128, msg.PRF_HMAC_SHA2_256, 16, 32, 32},
		{msg.ENCR_AES_GCM_16, 256, 0, msg.PRF_HMAC_SHA2_384, 36, 0, 48},
	} {
		pr := msg.Proposal{Protocol: msg.ProtoIKE, Transforms: []msg.Transform{
			msg.Transform{Type: msg.TransENCR, ID: c.encr}.WithKeyLength(c.bits),
			{Type: msg.TransPRF, ID: c.prf}, {Type: msg.TransDH, ID: msg.DH_ECP256}}}
		if c.integ != 0 {
			pr.Transforms = append(pr.Transforms, msg.Transform{Type: msg.TransINTEG, ID: c.integ})
		}
		s, err := SuiteFromProposal(pr)
		if err != nil {
			t.Fatal(err)
		}
		k := s.DeriveKeys(s.SKEYSEED(make([]byte, 16), make([]byte, 16), []byte{1}), make([]byte, 16), make([]byte, 16), 1, 2)
		if len(k.SKei) != c.el || len(k.SKer) != c.el || len(k.SKai) != c.il || len(k.SKd) != c.p || len(k.SKpr) != c.p {
			t.Fatalf("%+v: lengths %d %d %d", c, len(k.SKei), len(k.SKai), len(k.SKd))
		}
		if s := fmt.Sprintf("%v %+v %#v %s", k, k, k, k); bytes.Contains([]byte(s), []byte("0x")) || len(s) > 80 {
			t.Fatalf("keys printed: %s", s)
		}
		k.Wipe()
		if !bytes.Equal(k.SKd, make([]byte, c.p)) {
			t.Fatal("not wiped")
		}
	}
}

func TestProtectors(t *testing.T) {
	for _, c := range []struct {
		e Encr
		i Integ
	}{
		{mustEncr(msg.ENCR_AES_CBC, 128), mustInteg(msg.AUTH_HMAC_SHA2_256_128)},
		{mustEncr(msg.ENCR_AES_CBC, 256), mustInteg(msg.AUTH_HMAC_SHA2_512_256)},
		{mustEncr(msg.ENCR_AES_GCM_16, 128), Integ{}},
		{mustEncr(msg.ENCR_AES_GCM_12, 256), Integ{}},
	} {
		ek := bytes.Repeat([]byte{1}, c.e.KeyLen())
		ik := bytes.Repeat([]byte{2}, c.i.KeyLen)
		p, err := NewProtector(c.e, c.i, ek, ik)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < 40; n += 7 {
			plain := bytes.Repeat([]byte{0x5a}, n)
			head := []byte("header")
			body, err := p.Seal(head, plain)
			if err != nil {
				t.Fatal(err)
			}
			if len(body) != p.SealedLen(n) {
				t.Fatalf("%+v: sealed %d, SealedLen %d", c.e, len(body), p.SealedLen(n))
			}
			got, err := p.Open(head, body)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("%+v: %x %v", c.e, got, err)
			}
			if _, err := p.Open([]byte("headeR"), body); !errors.Is(err, msg.ErrAuth) {
				t.Fatalf("%+v: head not authenticated: %v", c.e, err)
			}
			body[len(body)/2] ^= 1
			if _, err := p.Open(head, body); !errors.Is(err, msg.ErrAuth) {
				t.Fatalf("%+v: tamper: %v", c.e, err)
			}
		}
	}
}

func mustEncr(id uint16, bits int) Encr {
	e, err := LookupEncr(id, bits)
	if err != nil {
		panic(err)
	}
	return e
}

func mustInteg(id uint16) Integ {
	i, err := LookupInteg(id)
	if err != nil {
		panic(err)
	}
	return i
}

func TestDH(t *testing.T) {
	for _, g := range SupportedGroups {
		a, err := NewDH(g)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewDH(g)
		if len(a.Public()) != KELen(g) {
			t.Fatalf("group %d: public %d", g, len(a.Public()))
		}
		s1, err1 := a.Shared(b.Public())
		s2, err2 := b.Shared(a.Public())
		if err1 != nil || err2 != nil || !bytes.Equal(s1, s2) {
			t.Fatalf("group %d: %v %v", g, err1, err2)
		}
		if _, err := a.Shared(make([]byte, KELen(g)-1)); err == nil {
			t.Fatalf("group %d: short KE accepted", g)
		}
	}
}

func TestPSKAuthDeterministic(t *testing.T) {
	p, _ := LookupPRF(msg.PRF_HMAC_SHA2_256)
	a := p.PSKAuth([]byte("psk"), []byte("msg"), []byte("nonce"), []byte("skp"), []byte{2, 0, 0, 0, 'a'})
	inner := p.Sum([]byte("psk"), []byte(KeyPad))
	want := p.Sum(inner, []byte("msg"), []byte("nonce"), p.Sum([]byte("skp"), []byte{2, 0, 0, 0, 'a'}))
	if !bytes.Equal(a, want) {
		t.Fatal("PSK AUTH")
	}
}

func BenchmarkDH(b *testing.B) {
	for _, g := range SupportedGroups {
		b.Run(fmt.Sprint("group", g), func(b *testing.B) {
			peer, _ := NewDH(g)
			for i := 0; i < b.N; i++ {
				d, _ := NewDH(g)
				if _, err := d.Shared(peer.Public()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
