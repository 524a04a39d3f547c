package ike

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/ikectx/ikectx/racoon/isakmp"
)

// Phase1Export is an established ISAKMP SA with everything needed to
// continue it elsewhere (racoon/admin carries it as a Phase1Context).
// Its byte slices are copies; Wipe zeroes the keys.
type Phase1Export struct {
	Initiator        bool
	Mode             isakmp.ExchangeType
	ICookie, RCookie [8]byte
	Chosen           Proposal1
	Created          time.Time
	Local, Remote    netip.AddrPort
	LocalID          *isakmp.ID
	RemoteID         *isakmp.ID
	Ni, Nr           []byte
	D, A, E, Enc     []byte
	IV               []byte
	MessageIVs       map[uint32][]byte
	MessageIDs       []uint32
	InitialContact   bool
}

// Wipe zeroes the keys and IVs.
func (e *Phase1Export) Wipe() {
	for _, b := range [][]byte{e.D, e.A, e.E, e.Enc, e.IV} {
		clear(b)
	}
	for _, v := range e.MessageIVs {
		clear(v)
	}
}

func cp(b []byte) []byte { return append([]byte(nil), b...) }

func parseIDBody(b []byte) *isakmp.ID {
	id := &isakmp.ID{}
	if id.DecodeBody(b) != nil {
		return nil
	}
	return id
}

// Export copies an established SA.
func (p *Phase1) Export() (*Phase1Export, error) {
	if !p.Established() {
		return nil, fmt.Errorf("ike: phase 1 is not established")
	}
	e := &Phase1Export{Initiator: p.Initiator, Mode: p.Mode, ICookie: p.ICookie, RCookie: p.RCookie, Chosen: p.Chosen,
		Created: p.Created, Local: p.Local, Remote: p.Remote, Ni: cp(p.ni), Nr: cp(p.nr),
		D: cp(p.Keys.D), A: cp(p.Keys.A), E: cp(p.Keys.E), Enc: cp(p.Keys.Enc), IV: cp(p.iv),
		MessageIVs: map[uint32][]byte{}, InitialContact: p.InitialContact}
	li, ri := p.idi, p.idr
	if !p.Initiator {
		li, ri = p.idr, p.idi
	}
	e.LocalID, e.RemoteID = parseIDBody(li), parseIDBody(ri)
	for k, v := range p.p2iv {
		e.MessageIVs[k] = cp(v)
	}
	for k := range p.msgIDs {
		e.MessageIDs = append(e.MessageIDs, k)
	}
	sort.Slice(e.MessageIDs, func(i, j int) bool { return e.MessageIDs[i] < e.MessageIDs[j] })
	return e, nil
}

// Import makes an established Phase1 from an export; cfg supplies the local
// policy (nonce size, identities) for later exchanges. local and remote
// replace the exported addresses when valid.
func Import(e *Phase1Export, cfg *Phase1Config, local, remote netip.AddrPort) (*Phase1, error) {
	p := &Phase1{Cfg: cfg, Initiator: e.Initiator, Mode: e.Mode, ICookie: e.ICookie, RCookie: e.RCookie,
		Local: e.Local, Remote: e.Remote, Started: e.Created, InitialContact: e.InitialContact}
	if local.IsValid() {
		p.Local = local
	}
	if remote.IsValid() {
		p.Remote = remote
	}
	if err := p.setAlgorithms(e.Chosen); err != nil {
		return nil, err
	}
	if len(e.Enc) != p.cipher.KeyLen || len(e.IV) != p.cipher.BlockSize() || len(e.A) == 0 || len(e.D) == 0 {
		return nil, fmt.Errorf("ike: imported keys do not fit %s", e.Chosen)
	}
	p.Keys = &Phase1Keys{D: cp(e.D), A: cp(e.A), E: cp(e.E), Enc: cp(e.Enc)}
	p.iv = cp(e.IV)
	p.ni, p.nr = cp(e.Ni), cp(e.Nr)
	p.established()
	p.Created = e.Created
	for k, v := range e.MessageIVs {
		p.p2iv[k] = cp(v)
	}
	for _, m := range e.MessageIDs {
		p.msgIDs[m] = true
	}
	if e.LocalID != nil {
		p.PeerID = e.RemoteID
	}
	return p, nil
}
