package ike

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ikectx/ikectx/racoon/isakmp"
)

type pairOpts struct {
	mode     isakmp.ExchangeType
	prop     Proposal1
	pfs      uint16
	commit   bool
	wrongKey bool
	ids      bool
}

var (
	addrI = netip.MustParseAddrPort("[fd00::1]:500")
	addrR = netip.MustParseAddrPort("[fd00::2]:500")
)

func spiAlloc(Proposal2) (uint32, error) {
	var b [4]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:]) | 0x100, nil
}

func p1cfg(o pairOpts, me netip.AddrPort, key string) *Phase1Config {
	return &Phase1Config{
		Mode: o.mode, Proposals: []Proposal1{o.prop}, NonceSize: 16,
		MyID:      isakmp.IDFromAddr(me.Addr(), 17, 500),
		PSK:       func(*isakmp.ID) ([]byte, error) { return []byte(key), nil },
		VendorIDs: [][]byte{VendorDPD},
	}
}

func p2cfg(o pairOpts) *Phase2Config {
	c := &Phase2Config{
		Proposals: []Proposal2{{Protocol: isakmp.ProtoIPsecESP, Transform: isakmp.ESPAES, KeyBits: 128, Auth: isakmp.AuthAlgHMACSHA, Encap: isakmp.EncapTunnel, Lifetime: time.Hour}},
		PFSGroup:  o.pfs, AllocSPI: spiAlloc, Commit: o.commit, NonceSize: 16,
	}
	if o.ids {
		c.IDci = isakmp.IDFromPrefix(netip.MustParsePrefix("2001:db8:1::/64"), 0, 0)
		c.IDcr = isakmp.IDFromPrefix(netip.MustParsePrefix("2001:db8:2::/64"), 0, 0)
	}
	return c
}

// runPair runs phase 1 and one quick mode between two in-memory peers and
// returns both phase 2s and the number of messages.
func runPair(t testing.TB, o pairOpts) (*Phase2, *Phase2, int) {
	ikey := "a-long-test-psk"
	rkey := ikey
	if o.wrongKey {
		rkey = "another-key"
	}
	i, m, err := NewInitiator(p1cfg(o, addrI, ikey), addrI, addrR)
	if err != nil {
		t.Fatal(err)
	}
	msgs := 1
	r, m, err := NewResponder(p1cfg(o, addrR, rkey), addrR, addrI, m)
	if err != nil {
		t.Fatal(err)
	}
	for toI := true; m != nil; toI = !toI {
		msgs++
		if toI {
			m, err = i.Handle(m)
		} else {
			m, err = r.Handle(m)
		}
		if err != nil {
			if o.wrongKey {
				return nil, nil, -1
			}
			t.Fatalf("phase 1 (to initiator %v): %v", toI, err)
		}
	}
	if !i.Established() || !r.Established() {
		t.Fatalf("phase 1 not established: %s / %s", i.State, r.State)
	}
	if !bytes.Equal(i.Keys.Enc, r.Keys.Enc) || !bytes.Equal(i.iv, r.iv) {
		t.Fatalf("keys or IVs differ")
	}
	// INITIAL-CONTACT both ways, as racoon
	for _, pair := range [][2]*Phase1{{i, r}, {r, i}} {
		b, err := pair[0].Informational(pair[0].InitialContactNotify())
		if err != nil {
			t.Fatal(err)
		}
		ps, err := pair[1].HandleInformational(b)
		if err != nil {
			t.Fatal(err)
		}
		if ps[0].(*isakmp.Notification).Type != isakmp.InitialContact {
			t.Fatal("no INITIAL-CONTACT")
		}
		msgs++
	}
	qi, m, err := NewQuickInitiator(i, p2cfg(o))
	if err != nil {
		t.Fatal(err)
	}
	msgs++
	qr, m, err := NewQuickResponder(r, m, func(idci, idcr *isakmp.ID) (*Phase2Config, error) {
		if o.ids != (idci != nil) {
			return nil, fmt.Errorf("IDs %v", idci)
		}
		return p2cfg(pairOpts{pfs: o.pfs}), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for toI := true; m != nil; toI = !toI {
		msgs++
		if toI {
			m, err = qi.Handle(m)
		} else {
			m, err = qr.Handle(m)
		}
		if err != nil {
			t.Fatalf("quick mode: %v", err)
		}
	}
	if !qi.Established() || !qr.Established() {
		t.Fatalf("quick mode not established: %s / %s", qi.State, qr.State)
	}
	if qi.SPIIn != qr.SPIOut || qi.SPIOut != qr.SPIIn {
		t.Fatal("SPIs do not pair")
	}
	if !bytes.Equal(qi.KeyIn, qr.KeyOut) || !bytes.Equal(qi.KeyOut, qr.KeyIn) || len(qi.KeyIn) != 16+20 {
		t.Fatalf("KEYMAT differs or has the wrong length %d", len(qi.KeyIn))
	}
	return qi, qr, msgs
}

func TestExchanges(t *testing.T) {
	p3des := Proposal1{Enc: isakmp.Enc3DES, Hash: isakmp.HashSHA, Auth: isakmp.AuthPreShared, Group: 2, Lifetime: 8 * time.Hour}
	paes := Proposal1{Enc: isakmp.EncAES, KeyBits: 128, Hash: isakmp.HashSHA256, Auth: isakmp.AuthPreShared, Group: 14, Lifetime: time.Hour}
	for _, c := range []struct {
		name string
		o    pairOpts
		msgs int
	}{
		{"main-3des-sha1-modp1024-pfs2", pairOpts{mode: isakmp.ExchangeIdentityProt, prop: p3des, pfs: 2, ids: true}, 11},
		{"main-aes128-sha256-modp2048-nopfs", pairOpts{mode: isakmp.ExchangeIdentityProt, prop: paes}, 11},
		{"aggressive-3des-pfs", pairOpts{mode: isakmp.ExchangeAggressive, prop: p3des, pfs: 2}, 8},
		{"aggressive-aes256-sha512-modp1536", pairOpts{mode: isakmp.ExchangeAggressive, prop: Proposal1{Enc: isakmp.EncAES, KeyBits: 256, Hash: isakmp.HashSHA512, Auth: isakmp.AuthPreShared, Group: 5, Lifetime: time.Hour}}, 8},
		{"main-des-md5-modp768-commit", pairOpts{mode: isakmp.ExchangeIdentityProt, prop: Proposal1{Enc: isakmp.EncDES, Hash: isakmp.HashMD5, Auth: isakmp.AuthPreShared, Group: 1, Lifetime: time.Hour}, commit: true}, 12},
		{"main-aes192-sha384", pairOpts{mode: isakmp.ExchangeIdentityProt, prop: Proposal1{Enc: isakmp.EncAES, KeyBits: 192, Hash: isakmp.HashSHA384, Auth: isakmp.AuthPreShared, Group: 2, Lifetime: time.Hour}, pfs: 14}, 11},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, n := runPair(t, c.o)
			if n != c.msgs {
				t.Fatalf("%d messages, want %d", n, c.msgs)
			}
		})
	}
}

func TestWrongPSK(t *testing.T) {
	p := Proposal1{Enc: isakmp.Enc3DES, Hash: isakmp.HashSHA, Auth: isakmp.AuthPreShared, Group: 2, Lifetime: time.Hour}
	for _, mode := range []isakmp.ExchangeType{isakmp.ExchangeIdentityProt, isakmp.ExchangeAggressive} {
		if _, _, n := runPair(t, pairOpts{mode: mode, prop: p, wrongKey: true}); n != -1 {
			t.Fatalf("%s: a wrong key was accepted", mode)
		}
	}
}

func TestRetransmitDetected(t *testing.T) {
	o := pairOpts{mode: isakmp.ExchangeIdentityProt, prop: Proposal1{Enc: isakmp.Enc3DES, Hash: isakmp.HashSHA, Auth: isakmp.AuthPreShared, Group: 2, Lifetime: time.Hour}}
	i, m1, _ := NewInitiator(p1cfg(o, addrI, "k"), addrI, addrR)
	r, m2, err := NewResponder(p1cfg(o, addrR, "k"), addrR, addrI, m1)
	if err != nil {
		t.Fatal(err)
	}
	m3, err := i.Handle(m2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := i.Handle(m2); err != ErrRetransmit {
		t.Fatalf("duplicate: %v", err)
	}
	m4, err := r.Handle(m3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Handle(m3); err != ErrRetransmit || !bytes.Equal(r.LastSent, m4) {
		t.Fatalf("duplicate: %v", err)
	}
}

// Fuzz-ish: garbage and truncations never panic.
func TestGarbageNoPanic(t *testing.T) {
	o := pairOpts{mode: isakmp.ExchangeIdentityProt, prop: Proposal1{Enc: isakmp.Enc3DES, Hash: isakmp.HashSHA, Auth: isakmp.AuthPreShared, Group: 2, Lifetime: time.Hour}}
	i, m1, _ := NewInitiator(p1cfg(o, addrI, "k"), addrI, addrR)
	_, m2, _ := NewResponder(p1cfg(o, addrR, "k"), addrR, addrI, m1)
	for n := 0; n < len(m2); n++ {
		i.Handle(m2[:n])
	}
	b := make([]byte, 200)
	for k := 0; k < 200; k++ {
		rand.Read(b)
		copy(b, m2[:16])
		i.Handle(b)
		NewResponder(p1cfg(o, addrR, "k"), addrR, addrI, b)
	}
}

// BenchmarkHandshake is the CPU of one main mode + quick mode (with PFS in
// the same group) for BOTH peers together, in memory, including racoon's
// two INITIAL-CONTACT informationals: 11 messages built and parsed.
func BenchmarkHandshake(b *testing.B) {
	for _, g := range []uint16{1, 2, 5, 14, 15, 16} {
		grp, _ := GroupByID(g)
		for _, pfs := range []bool{false, true} {
			name := grp.Name
			o := pairOpts{mode: isakmp.ExchangeIdentityProt, prop: Proposal1{Enc: isakmp.EncAES, KeyBits: 128, Hash: isakmp.HashSHA256, Auth: isakmp.AuthPreShared, Group: g, Lifetime: time.Hour}}
			if pfs {
				name += "-pfs"
				o.pfs = g
			}
			b.Run(name, func(b *testing.B) {
				for n := 0; n < b.N; n++ {
					runPair(b, o)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
			})
		}
	}
}

func TestNoKeysInStrings(t *testing.T) {
	p := Proposal1{Enc: isakmp.Enc3DES, Hash: isakmp.HashSHA, Auth: isakmp.AuthPreShared, Group: 2, Lifetime: time.Hour}
	qi, qr, _ := runPair(t, pairOpts{mode: isakmp.ExchangeIdentityProt, prop: p, pfs: 2})
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", qi, qi, qi, qi), fmt.Sprintf("%v %+v %#v", qi.P1, qi.P1, qi.P1),
		fmt.Sprintf("%v %+v %#v", qr.P1.Keys, qr.P1.Keys, qr.P1.Keys)} {
		for _, k := range [][]byte{qi.KeyIn, qi.KeyOut, qi.P1.Keys.Enc, qi.P1.Keys.A, qi.P1.iv} {
			if strings.Contains(s, fmt.Sprintf("%x", k[:6])) || strings.Contains(s, fmt.Sprint(k[:4])[1:8]) {
				t.Fatalf("key material printed: %s", s)
			}
		}
	}
}
