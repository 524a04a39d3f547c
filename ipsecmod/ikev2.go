package ipsecmod

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ikectx/ikectx/ikev2"
	"github.com/ikectx/ikectx/ikev2/daemon"
	"github.com/ikectx/ikectx/ikev2/msg"
	"github.com/ikectx/ikectx/ipsecmod/ikev2ctx"
)

// The IKEv2 FPT (0x8004) and iked.
//
// Who installs what. On the nAR the child SAs' kernel entries (keys
// included) come with the SA FPT (0x8001) and the policies with the SP FPT
// (0x8002), installed by this module exactly as for IKEv1; the IKEv2
// record carries the child SAs' parameters and SPIs but no child keys.
// iked imports the IKE SA with its children at the new addresses without
// touching the kernel (ikev2.Manager.Import). Both views hold the same
// SPIs: the SA records are the pAR's SAD entries of the same children
// (pAR inbound = child SPIIn, pAR outbound = child SPIOut), rewritten to
// the nAR's addresses only. After the import iked sends the MOBIKE
// UPDATE_SA_ADDRESSES towards the MN's nCoA (paper 3.2.4, from the
// original responder), in the same request as an UPDATE_SPI for every
// transferred inbound ESP SPI that collides on the nAR under the SAD
// lookup rule and for the IKE SPI when iked holds it already (Algorithm
// 1: new SPIs from GETSPI, MaxRoundTrips and Timer, a full negotiation as
// the fallback). A colliding SA is never installed by this module (the
// other MN's SA keeps its SPI); the child under its new SPI is iked's to
// install (with --no-kernel it lives in iked's memory only).

// CtxFromState maps an IKE SA exported by iked (ikev2.SAState, keys
// included) to the transferred record, field by field. What the record
// has no field for is dropped: the connection name and this end's
// identity (the nAR uses its own connection for the peer's identity), the
// children's names and keys (the keys travel in the SA records). now gives
// the age.
func CtxFromState(st *ikev2.SAState, now time.Time) *ikev2ctx.SA {
	sa := &ikev2ctx.SA{SPIi: st.SPIi, SPIr: st.SPIr, Responder: !st.Initiator,
		Encr: st.Encr, KeyLength: uint16(st.KeyBits), Integ: st.Integ, PRF: st.PRF, DHGroup: st.DH,
		Lifetime: st.Lifetime, NextSendID: st.NextSendID, NextRecvID: st.NextRecvID,
		Local: st.Local, Remote: st.Remote,
		SKEYSEED: cpSecret(st.SKEYSEED), SKd: cpSecret(st.SKd), SKai: cpSecret(st.SKai), SKar: cpSecret(st.SKar),
		SKei: cpSecret(st.SKei), SKer: cpSecret(st.SKer), SKpi: cpSecret(st.SKpi), SKpr: cpSecret(st.SKpr),
		Ni: cpBytes(st.Ni), Nr: cpBytes(st.Nr),
		PAD: ikev2ctx.PAD{IDType: st.PeerID.Type, ID: cpBytes(st.PeerID.Data), AuthMethod: st.AuthMethod, Secret: cpSecret(st.PSK)}}
	if st.MOBIKE {
		sa.Flags |= ikev2ctx.FlagMOBIKE
	}
	if st.NATLocal || st.NATRemote {
		sa.Flags |= ikev2ctx.FlagNATDetected
	}
	if !st.Created.IsZero() && now.After(st.Created) {
		sa.Age = now.Sub(st.Created)
	}
	for _, c := range st.Children {
		ch := ikev2ctx.ChildSA{Proto: uint8(c.Protocol), Mode: 2, ESN: c.ESN, SPIIn: c.SPIIn, SPIOut: c.SPIOut,
			Encr: c.Encr, KeyLength: uint16(c.KeyBits), Integ: c.Integ, Lifetime: c.Lifetime, ReqID: c.ReqID}
		if c.Transport {
			ch.Mode = 1
		}
		i, r := c.LocalTS, c.RemoteTS
		if st.Initiator == false {
			i, r = r, i
		}
		ch.TSi, ch.TSr = tsToCtx(i), tsToCtx(r)
		sa.Children = append(sa.Children, ch)
	}
	return sa
}

// StateFromCtx is the inverse of CtxFromState (what iked imports): the
// name is empty (iked picks its connection for the PAD identity), the
// creation time is now minus the age.
func StateFromCtx(sa *ikev2ctx.SA, now time.Time) ikev2.SAState {
	st := ikev2.SAState{Initiator: !sa.Responder, SPIi: sa.SPIi, SPIr: sa.SPIr, State: "ESTABLISHED",
		Local: sa.Local, Remote: sa.Remote, MOBIKE: sa.Flags&ikev2ctx.FlagMOBIKE != 0, NATRemote: sa.Flags&ikev2ctx.FlagNATDetected != 0,
		Encr: sa.Encr, KeyBits: int(sa.KeyLength), Integ: sa.Integ, PRF: sa.PRF, DH: sa.DHGroup,
		Lifetime: sa.Lifetime, Created: now.Add(-sa.Age), NextSendID: sa.NextSendID, NextRecvID: sa.NextRecvID,
		PeerID: ikev2.Identity{Type: sa.PAD.IDType, Data: cpBytes(sa.PAD.ID)}, AuthMethod: sa.PAD.AuthMethod,
		SKEYSEED: cpBytes(sa.SKEYSEED), SKd: cpBytes(sa.SKd), SKai: cpBytes(sa.SKai), SKar: cpBytes(sa.SKar),
		SKei: cpBytes(sa.SKei), SKer: cpBytes(sa.SKer), SKpi: cpBytes(sa.SKpi), SKpr: cpBytes(sa.SKpr),
		Ni: cpBytes(sa.Ni), Nr: cpBytes(sa.Nr), PSK: cpBytes(sa.PAD.Secret)}
	for _, c := range sa.Children {
		cs := ikev2.ChildState{Protocol: msg.ProtocolID(c.Proto), SPIIn: c.SPIIn, SPIOut: c.SPIOut, ReqID: c.ReqID,
			Transport: c.Mode == 1, Encr: c.Encr, KeyBits: int(c.KeyLength), Integ: c.Integ, ESN: c.ESN,
			Created: st.Created, Lifetime: c.Lifetime}
		l, r := tsFromCtx(c.TSi), tsFromCtx(c.TSr)
		if sa.Responder {
			l, r = r, l
		}
		cs.LocalTS, cs.RemoteTS = l, r
		st.Children = append(st.Children, cs)
	}
	return st
}

func cpSecret(b []byte) ikev2ctx.Secret {
	if b == nil {
		return nil
	}
	return append(ikev2ctx.Secret(nil), b...)
}

func cpBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func tsToCtx(ss []msg.Selector) []ikev2ctx.TrafficSelector {
	var out []ikev2ctx.TrafficSelector
	for _, s := range ss {
		out = append(out, ikev2ctx.TrafficSelector{Proto: s.IPProto, StartPort: s.StartPort, EndPort: s.EndPort, Start: s.Start, End: s.End})
	}
	return out
}

func tsFromCtx(ts []ikev2ctx.TrafficSelector) []msg.Selector {
	var out []msg.Selector
	for _, t := range ts {
		typ := msg.TSIPv6AddrRange
		if t.Start.Is4() {
			typ = msg.TSIPv4AddrRange
		}
		out = append(out, msg.Selector{TSType: typ, IPProto: t.Proto, StartPort: t.StartPort, EndPort: t.EndPort, Start: t.Start, End: t.End})
	}
	return out
}

// Iked is the IKEv2Daemon of a running iked, reached through its control
// socket (`[iked] socket` in ipsec-cxtpd's configuration).
type Iked struct {
	Socket string
	// MaxRoundTrips and Timer are Algorithm 1's MAX_ROUND_TRIPS (3) and
	// TIMER (5 s).
	MaxRoundTrips int
	Timer         time.Duration
	Log           *slog.Logger
	Now           func() time.Time

	mu      sync.Mutex
	results []IKEv2Outcome
	wg      sync.WaitGroup
}

// IKEv2Outcome is what the nAR's iked did after an import: the MOBIKE
// move, with UPDATE_SPI when SPIs collided.
type IKEv2Outcome struct {
	MN           netip.Addr
	Key          string // iked's key of the imported SA
	IKECollision bool
	ESPColliding []uint32
	RoundTrips   int
	Updated      int  // UPDATE_SPI sent; applied by both ends unless Fallback
	Fallback     bool // a full IKEv2 negotiation was relaunched
	Err          error
}

func (o IKEv2Outcome) String() string {
	s := fmt.Sprintf("MN %v: IKE SA %s moved: round trips %d, SPIs updated %d, fallback %v", o.MN, o.Key, o.RoundTrips, o.Updated, o.Fallback)
	if o.Err != nil {
		s += ": " + o.Err.Error()
	}
	return s
}

func (d *Iked) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Iked) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (d *Iked) call(ctx context.Context, args ...string) (string, error) {
	type res struct {
		out string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		out, err := daemon.Control(d.Socket, args...)
		ch <- res{out, err}
	}()
	select {
	case r := <-ch:
		return r.out, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("iked %s: %s: %w", d.Socket, args[0], ctx.Err())
	}
}

// ExportIKEv2 asks iked for the MN's IKE SAs with their keys (control
// command export-peer) and maps each into the transferred record.
func (d *Iked) ExportIKEv2(ctx context.Context, mn netip.Addr) ([]*ikev2ctx.SA, error) {
	out, err := d.call(ctx, "export-peer", mn.String())
	defer clearString(&out)
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return nil, fmt.Errorf("iked has no IKE SA with %v: %w", mn, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("iked export-peer %v: %w", mn, err)
	}
	var sas []*ikev2ctx.SA
	now := d.now()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var st ikev2.SAState
		if err := json.Unmarshal([]byte(line), &st); err != nil {
			for _, s := range sas {
				s.Wipe()
			}
			return nil, fmt.Errorf("iked export-peer %v: %w", mn, err)
		}
		sas = append(sas, CtxFromState(&st, now))
		st.Wipe()
	}
	return sas, nil
}

// clearString is a best effort: Go strings are immutable, the JSON with
// keys is dropped as soon as possible.
func clearString(s *string) { *s = "" }

// ImportIKEv2 imports the SA, with the children's keys from imp.Keys, into
// iked at imp.Local/imp.Remote (control command import), then starts,
// without waiting, Algorithm 1 (control command repair):
// UPDATE_SA_ADDRESSES towards the nCoA with an UPDATE_SPI for each SPI in
// imp.ESPColliding and for the IKE SPI when iked reports it taken. Wait
// and Outcomes give the results.
func (d *Iked) ImportIKEv2(ctx context.Context, imp *IKEv2Import) error {
	local, remote, espColliding := imp.Local, imp.Remote, imp.ESPColliding
	st := StateFromCtx(imp.SA, d.now())
	for i := range st.Children {
		c := &st.Children[i]
		// Selectors that were the MN's previous CoA or the pAR's address
		// (host-to-host children) follow the addresses to the nCoA and
		// the nAR, as the SP records' selectors do and as the MN's iked
		// does on the MOBIKE update (ikev2.FollowHost).
		c.LocalTS, _ = ikev2.FollowHost(c.LocalTS, st.Local.Addr(), local.Addr())
		c.RemoteTS, _ = ikev2.FollowHost(c.RemoteTS, st.Remote.Addr(), remote.Addr())
		if k, ok := imp.Keys[c.SPIIn]; ok {
			c.EncIn, c.IntegIn = cpBytes(k.Enc), cpBytes(k.Auth)
		}
		if k, ok := imp.Keys[c.SPIOut]; ok {
			c.EncOut, c.IntegOut = cpBytes(k.Enc), cpBytes(k.Auth)
		}
	}
	j, err := json.Marshal(st)
	st.Wipe()
	if err != nil {
		return err
	}
	out, err := d.call(ctx, "import", local.String(), remote.String(), string(j))
	clear(j)
	if err != nil {
		return fmt.Errorf("iked import: %w", err)
	}
	f := strings.Fields(out)
	if len(f) == 0 {
		return fmt.Errorf("iked import: empty answer")
	}
	o := IKEv2Outcome{MN: remote.Addr(), Key: f[0], IKECollision: len(f) > 1 && f[1] == "collision", ESPColliding: espColliding}
	maxRT, timer := d.MaxRoundTrips, d.Timer
	if maxRT <= 0 {
		maxRT = 3
	}
	if timer <= 0 {
		timer = 5 * time.Second
	}
	args := []string{"repair", o.Key, local.String(), remote.String(), strconv.Itoa(maxRT), timer.String()}
	for _, s := range espColliding {
		args = append(args, fmt.Sprintf("%08x", s))
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		out, err := daemon.Control(d.Socket, args...)
		var rt, up int
		var fb bool
		if _, serr := fmt.Sscanf(out, "round-trips %d updated %d fallback %t", &rt, &up, &fb); serr != nil && err == nil {
			err = fmt.Errorf("iked repair: answer %q", strings.TrimSpace(out))
		}
		o.RoundTrips, o.Updated, o.Fallback, o.Err = rt, up, fb, err
		if err != nil {
			d.log().Error("ipsecmod: IKEv2 move after transfer", "outcome", o.String())
		} else {
			d.log().Info("ipsecmod: IKEv2 move after transfer", "outcome", o.String())
		}
		d.mu.Lock()
		d.results = append(d.results, o)
		if len(d.results) > 64 {
			d.results = d.results[len(d.results)-64:]
		}
		d.mu.Unlock()
	}()
	return nil
}

// Wait waits for the moves started by ImportIKEv2.
func (d *Iked) Wait() { d.wg.Wait() }

// Outcomes returns the last moves' outcomes.
func (d *Iked) Outcomes() []IKEv2Outcome {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]IKEv2Outcome(nil), d.results...)
}

var _ IKEv2Daemon = (*Iked)(nil)
