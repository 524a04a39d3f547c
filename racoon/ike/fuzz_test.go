package ike

import (
	"testing"
	"time"

	"github.com/ikectx/ikectx/racoon/isakmp"
)

// FuzzExchanges feeds arbitrary datagrams to a main-mode responder, to an
// initiator waiting for message 2, to an established SA's informational and
// quick-mode handlers: errors are fine, panics are not.
func FuzzExchanges(f *testing.F) {
	o := pairOpts{mode: isakmp.ExchangeIdentityProt, prop: Proposal1{Enc: isakmp.Enc3DES, Hash: isakmp.HashSHA, Auth: isakmp.AuthPreShared, Group: 2, Lifetime: time.Hour}}
	i, m1, _ := NewInitiator(p1cfg(o, addrI, "k"), addrI, addrR)
	r, m2, _ := NewResponder(p1cfg(o, addrR, "k"), addrR, addrI, m1)
	m3, _ := i.Handle(m2)
	m4, _ := r.Handle(m3)
	m5, _ := i.Handle(m4)
	m6, _ := r.Handle(m5)
	i.Handle(m6)
	info, _ := r.Informational(r.InitialContactNotify())
	_, qm1, _ := NewQuickInitiator(i, p2cfg(pairOpts{pfs: 2}))
	for _, s := range [][]byte{m1, m2, m3, m4, m5, m6, info, qm1} {
		f.Add(s)
	}
	sel := func(a, b *isakmp.ID) (*Phase2Config, error) { return p2cfg(pairOpts{pfs: 2}), nil }
	f.Fuzz(func(t *testing.T, b []byte) {
		NewResponder(p1cfg(o, addrR, "k"), addrR, addrI, b)
		ai := pairOpts{mode: isakmp.ExchangeAggressive, prop: o.prop}
		NewResponder(p1cfg(ai, addrR, "k"), addrR, addrI, b)
		x, _, _ := NewInitiator(p1cfg(o, addrI, "k"), addrI, addrR)
		x.Handle(b)
		r.HandleInformational(b)
		NewQuickResponder(r, b, sel)
	})
}
