package daemon

import (
	"fmt"
	"io/fs"
	"net/netip"

	"github.com/ikectx/ikectx/racoon/admin"
	"github.com/ikectx/ikectx/racoon/ike"
	"github.com/ikectx/ikectx/racoon/isakmp"
)

func toIdentity(id *isakmp.ID) admin.Identity {
	if id == nil {
		return admin.Identity{}
	}
	return admin.Identity{Type: uint8(id.Type), Proto: id.ProtocolID, Port: id.Port, Data: append([]byte(nil), id.Data...)}
}

func fromIdentity(id admin.Identity) *isakmp.ID {
	if id.Type == 0 {
		return nil
	}
	return &isakmp.ID{Type: isakmp.IDType(id.Type), ProtocolID: id.Proto, Port: id.Port, Data: append([]byte(nil), id.Data...)}
}

func exportPhase1(p *ph1) *admin.Phase1Context {
	e, err := p.sa.Export()
	if err != nil {
		return nil
	}
	defer e.Wipe()
	side := admin.Responder
	if e.Initiator {
		side = admin.Initiator
	}
	pc := &admin.Phase1Context{
		Index: admin.Index{I: e.ICookie, R: e.RCookie}, Version: isakmp.Version, ExchangeType: uint8(e.Mode), Side: side,
		EncAlg: e.Chosen.Enc, KeyLength: uint16(e.Chosen.KeyBits), HashAlg: e.Chosen.Hash, AuthMethod: e.Chosen.Auth,
		DHGroup: e.Chosen.Group, Lifetime: e.Chosen.Lifetime, Created: e.Created,
		Local: e.Local, Remote: p.peer, LocalID: toIdentity(e.LocalID), RemoteID: toIdentity(e.RemoteID),
		NonceI: append([]byte(nil), e.Ni...), NonceR: append([]byte(nil), e.Nr...),
		SKEYIDd: admin.Secret(e.D).Clone(), SKEYIDa: admin.Secret(e.A).Clone(), SKEYIDe: admin.Secret(e.E).Clone(),
		EncKey: admin.Secret(e.Enc).Clone(), IV: admin.Secret(e.IV).Clone(), MessageIDs: e.MessageIDs,
	}
	for k, v := range e.MessageIVs {
		pc.MessageIVs = append(pc.MessageIVs, admin.MessageIV{MsgID: k, IV: admin.Secret(v).Clone()})
	}
	if p.remote != nil {
		pc.RemoteName = p.remote.String()
	}
	if p.remote == nil || p.remote.InitialContact {
		pc.Flags |= admin.Phase1FlagInitialContact
	}
	return pc
}

func (d *Daemon) importPhase1(pc *admin.Phase1Context, local, remote netip.AddrPort) error {
	for _, x := range d.ph1s {
		if x.sa.ICookie == pc.Index.I && x.sa.RCookie == pc.Index.R && !x.deleted {
			return fs.ErrExist
		}
	}
	l, r := pc.Local, pc.Remote
	if local.IsValid() {
		if local.Port() == 0 {
			local = netip.AddrPortFrom(local.Addr(), l.Port())
		}
		l = local
	}
	if remote.IsValid() {
		if remote.Port() == 0 {
			remote = netip.AddrPortFrom(remote.Addr(), r.Port())
		}
		r = remote
	}
	rm := d.findRemote(r.Addr())
	if rm == nil {
		return fmt.Errorf("no remote configuration for %s: %w", r.Addr(), fs.ErrNotExist)
	}
	cfg, err := d.phase1Config(rm, isakmp.ExchangeType(pc.ExchangeType), l.Addr(), r.Addr())
	if err != nil {
		return err
	}
	e := &ike.Phase1Export{
		Initiator: pc.Side == admin.Initiator, Mode: isakmp.ExchangeType(pc.ExchangeType), ICookie: pc.Index.I, RCookie: pc.Index.R,
		Chosen:  ike.Proposal1{Enc: pc.EncAlg, KeyBits: int(pc.KeyLength), Hash: pc.HashAlg, Auth: pc.AuthMethod, Group: pc.DHGroup, Lifetime: pc.Lifetime},
		Created: pc.Created, Local: pc.Local, Remote: pc.Remote, LocalID: fromIdentity(pc.LocalID), RemoteID: fromIdentity(pc.RemoteID),
		Ni: pc.NonceI, Nr: pc.NonceR, D: pc.SKEYIDd, A: pc.SKEYIDa, E: pc.SKEYIDe, Enc: pc.EncKey, IV: pc.IV,
		MessageIVs: map[uint32][]byte{}, MessageIDs: pc.MessageIDs, InitialContact: pc.Flags&admin.Phase1FlagInitialContact != 0,
	}
	for _, m := range pc.MessageIVs {
		e.MessageIVs[m.MsgID] = m.IV
	}
	sa, err := ike.Import(e, cfg, l, r)
	if err != nil {
		return fmt.Errorf("%w: %v", fs.ErrInvalid, err)
	}
	s, err := d.sockFor(r.Addr(), false, l.Addr())
	if err != nil {
		return err
	}
	ph := &ph1{sa: sa, remote: rm, sock: s, peer: r, imported: true}
	d.ph1s[cookieKey(sa.ICookie, sa.RCookie)] = ph
	d.logf("INFO: imported ISAKMP-SA %x:%x %s-%s", sa.ICookie, sa.RCookie, l, r)
	return nil
}
