package daemon

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikectx/ikectx/racoon/conf"
	"github.com/ikectx/ikectx/racoon/ike"
	"github.com/ikectx/ikectx/racoon/isakmp"
)

// findRemote is racoon's getrmconf: the remote block of the peer's address
// (port 500 or the block's port), else the anonymous one.
func (d *Daemon) findRemote(peer netip.Addr) *conf.Remote {
	peer = peer.Unmap().WithZone("")
	var anon *conf.Remote
	for _, r := range d.cfg.Remotes {
		if r.Anonymous {
			if anon == nil {
				anon = r
			}
			continue
		}
		if r.Address.IsValid() && r.Address.Unmap() == peer {
			return r
		}
	}
	return anon
}

func (d *Daemon) findRemoteByName(name string) *conf.Remote {
	for _, r := range d.cfg.Remotes {
		if r.Name == name || r.String() == name {
			return r
		}
	}
	return nil
}

func phase1Proposals(r *conf.Remote) []ike.Proposal1 {
	var out []ike.Proposal1
	for _, p := range r.Proposals {
		if !p.Usable() {
			continue
		}
		life := p.Lifetime
		if life == 0 {
			life = r.Lifetime
		}
		out = append(out, ike.Proposal1{Enc: uint16(p.Encryption.DOI), KeyBits: p.Encryption.KeyLen, Hash: uint16(p.Hash.DOI),
			Auth: uint16(p.AuthMethod.DOI), Group: uint16(p.DHGroup.DOI), Lifetime: life})
	}
	return out
}

// myID builds the phase-1 identification of my_identifier (address by
// default) as racoon does: protocol UDP, port 500.
func myID(r *conf.Remote, local netip.Addr) (*isakmp.ID, error) {
	id := r.MyIdentifier
	switch id.Type {
	case conf.IDAddress:
		a := local
		if id.Addr.IsValid() {
			a = id.Addr
		}
		return isakmp.IDFromAddr(a.Unmap(), 17, 500), nil
	case conf.IDFQDN:
		return &isakmp.ID{Type: isakmp.IDFQDN, ProtocolID: 17, Port: 500, Data: []byte(id.Value)}, nil
	case conf.IDUserFQDN:
		return &isakmp.ID{Type: isakmp.IDUserFQDN, ProtocolID: 17, Port: 500, Data: []byte(id.Value)}, nil
	case conf.IDKeyID:
		return &isakmp.ID{Type: isakmp.IDKeyID, ProtocolID: 17, Port: 500, Data: append([]byte(nil), id.Data...)}, nil
	}
	return nil, fmt.Errorf("my_identifier %s is not implemented", id.Type)
}

// checkPeerID implements peers_identifier with verify_identifier on.
func checkPeerID(r *conf.Remote, peer netip.Addr) func(*isakmp.ID) error {
	if !r.VerifyIdentifier || len(r.PeersIdentifiers) == 0 {
		return nil
	}
	return func(got *isakmp.ID) error {
		for _, want := range r.PeersIdentifiers {
			switch want.Type {
			case conf.IDAddress:
				a, err := got.Addr()
				w := want.Addr
				if !w.IsValid() {
					w = peer
				}
				if err == nil && a.Unmap() == w.Unmap() {
					return nil
				}
			case conf.IDFQDN:
				if got.Type == isakmp.IDFQDN && string(got.Data) == want.Value {
					return nil
				}
			case conf.IDUserFQDN:
				if got.Type == isakmp.IDUserFQDN && string(got.Data) == want.Value {
					return nil
				}
			case conf.IDKeyID:
				if got.Type == isakmp.IDKeyID && string(got.Data) == string(want.Data) {
					return nil
				}
			}
		}
		return fmt.Errorf("peer's identifier %s %q does not match peers_identifier", got.Type, got.Data)
	}
}

// phase1Config maps a remote block onto an exchange's configuration.
func (d *Daemon) phase1Config(r *conf.Remote, mode isakmp.ExchangeType, local, peer netip.Addr) (*ike.Phase1Config, error) {
	props := phase1Proposals(r)
	if len(props) == 0 {
		return nil, fmt.Errorf("remote %s has no proposal ikectx implements", r)
	}
	id, err := myID(r, local)
	if err != nil {
		return nil, err
	}
	c := &ike.Phase1Config{
		Mode: mode, Proposals: props, NonceSize: int(r.NonceSize), MyID: id,
		CheckPeerID: checkPeerID(r, peer),
		NATT:        r.NATTraversal == "on" || r.NATTraversal == "force",
	}
	if r.DPD {
		c.VendorIDs = append(c.VendorIDs, ike.VendorDPD)
	}
	verify := r.VerifyIdentifier
	c.PSK = func(pid *isakmp.ID) ([]byte, error) {
		f := d.pskFile()
		if f == nil {
			return nil, fmt.Errorf("no pre_shared_key file")
		}
		var k interface{ Bytes() []byte }
		var err error
		if mode == isakmp.ExchangeAggressive && pid != nil {
			k, err = f.LookupAggressive(pid.Data, peer, verify)
		} else {
			k, err = f.LookupMain(peer)
		}
		if err != nil {
			return nil, err
		}
		return k.Bytes(), nil
	}
	return c, nil
}

func modeOf(m conf.ExchangeMode) isakmp.ExchangeType {
	if m == conf.ModeAggressive {
		return isakmp.ExchangeAggressive
	}
	return isakmp.ExchangeIdentityProt
}

// allowsMode reports whether the remote accepts the peer's exchange type.
func allowsMode(r *conf.Remote, et isakmp.ExchangeType) bool {
	for _, m := range r.ExchangeModes {
		if modeOf(m) == et && m != conf.ModeBase {
			return true
		}
	}
	return false
}

// selector is one side of a phase-2 selection: a prefix, port and protocol.
type selector struct {
	Prefix netip.Prefix
	Port   uint16
	Proto  uint8 // 255 (or 0 in IDs) any
}

func idSelector(id *isakmp.ID) (selector, bool) {
	if id == nil {
		return selector{}, false
	}
	p, err := id.Prefix()
	if err != nil {
		return selector{}, false
	}
	return selector{Prefix: p, Port: id.Port, Proto: id.ProtocolID}, true
}

func selID(s selector) *isakmp.ID {
	proto := s.Proto
	if proto == 255 {
		proto = 0
	}
	if s.Prefix.Bits() == s.Prefix.Addr().BitLen() {
		return isakmp.IDFromAddr(s.Prefix.Addr(), proto, s.Port)
	}
	return isakmp.IDFromPrefix(s.Prefix, proto, s.Port)
}

func sainfoMatches(id conf.SAInfoID, s selector, ok bool) bool {
	switch id.Kind {
	case conf.SAAnonymous:
		return true
	case conf.SAAddress:
		if !ok {
			return false
		}
		if id.Prefix.Masked() != s.Prefix.Masked() {
			return false
		}
		if id.Port != 0 && id.Port != s.Port {
			return false
		}
		if id.Proto != 255 && id.Proto != s.Proto {
			return false
		}
		return true
	}
	return false
}

// findSAInfo is racoon's getsainfo: an exact sainfo first, then one with
// an anonymous side, then sainfo anonymous.
func (d *Daemon) findSAInfo(local, remote selector, ok bool) *conf.SAInfo {
	var best *conf.SAInfo
	score := -1
	for _, si := range d.cfg.SAInfos {
		if !sainfoMatches(si.Local, local, ok) || !sainfoMatches(si.Remote, remote, ok) {
			continue
		}
		s := 0
		if si.Local.Kind != conf.SAAnonymous {
			s++
		}
		if si.Remote.Kind != conf.SAAnonymous {
			s++
		}
		if s > score {
			best, score = si, s
		}
	}
	return best
}

// phase2Proposals expands a sainfo into ESP transforms (encryption x
// authentication) for the given encapsulation modes.
func phase2Proposals(si *conf.SAInfo, encaps []uint16) []ike.Proposal2 {
	life := si.Lifetime
	if life == 0 {
		life = 28800 * time.Second
	}
	var out []ike.Proposal2
	for _, enc := range encaps {
		for _, e := range si.Encryption {
			for _, a := range si.Auth {
				out = append(out, ike.Proposal2{Protocol: isakmp.ProtoIPsecESP, Transform: uint8(e.DOI), KeyBits: e.KeyLen,
					Auth: uint16(a.DOI), Encap: enc, Lifetime: life})
			}
		}
	}
	return out
}

func pfsGroup(si *conf.SAInfo) uint16 {
	if si.PFSGroup == nil {
		return 0
	}
	return uint16(si.PFSGroup.DOI)
}

func checkLevel(c conf.ProposalCheck) ike.ProposalCheck {
	switch c {
	case conf.CheckStrict:
		return ike.CheckStrict
	case conf.CheckClaim:
		return ike.CheckClaim
	case conf.CheckExact:
		return ike.CheckExact
	}
	return ike.CheckObey
}
