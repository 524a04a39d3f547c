package stress

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/netip"
	"runtime"
	"syscall"
	"time"

	"github.com/ikectx/ikectx/ikev2"
	"github.com/ikectx/ikectx/ikev2/msg"
	"github.com/ikectx/ikectx/ipsecmod"
	"github.com/ikectx/ikectx/ipsecmod/ikev2ctx"
	"github.com/ikectx/ikectx/pfkey"
)

// Options are one stress run's parameters.
type Options struct {
	// MNs is the number of mobile nodes handed over (default 200).
	MNs int
	// Children is the number of child SAs per MN (default 1); all
	// colliding SPIs of an MN go in one UPDATE_SPI request.
	Children int
	// Rule is the SAD lookup rule on the nAR (default spi-dst, Linux's).
	Rule ipsecmod.LookupRule
	// Seed drives every choice the harness makes (which MNs collide, the
	// pre-filled SAs, the memory SADs' SPIs). IKE SPIs and keys come from
	// the engine's crypto/rand.
	Seed uint64
	// CollideESP and CollideIKE are the fractions of MNs whose transferred
	// inbound ESP SPIs (every child) and whose IKE SPI are already taken
	// on the nAR (defaults 1 and 0.5; negative means 0).
	CollideESP, CollideIKE float64
	// Others is the number of other MNs attached to the nAR whose SAs
	// collide with nothing (default MNs): pre-filled, must stay untouched.
	Others int
	// SPIRange, when not 0, makes every GETSPI of the memory SADs (pAR
	// and nAR) draw from [0x100, 0x100+SPIRange): a high collision rate,
	// where SPIs the nAR picks for repairs and for other MNs can collide
	// with later imports. 0 is the whole 32-bit space.
	SPIRange uint32
	// KernelRule (memory backend) is the rule the nAR's SAD itself
	// enforces on Add and GETSPI when it is looser than Rule (0: Rule):
	// e.g. spi-dst with Rule spi, a Linux nAR configured with
	// sad_lookup = spi, where an SPI from GETSPI can collide under Rule and
	// Algorithm 1 needs more round trips.
	KernelRule ipsecmod.LookupRule
	// MaxRoundTrips and Timer are Algorithm 1's (3, 5 s).
	MaxRoundTrips int
	Timer         time.Duration
	// Backend is where the nAR's and the MNs' SAs live (nil: memory).
	Backend Backend
	// Logf, when set, gets progress lines.
	Logf func(format string, args ...any)

	tamper func(*run) // tests: break the end state before the checks
}

func (o *Options) defaults() {
	if o.MNs <= 0 {
		o.MNs = 200
	}
	if o.Children <= 0 {
		o.Children = 1
	}
	if o.Rule == 0 {
		o.Rule = ipsecmod.RuleSPIDst
	}
	if o.CollideESP == 0 {
		o.CollideESP = 1
	}
	if o.CollideIKE == 0 {
		o.CollideIKE = 0.5
	}
	if o.Others == 0 {
		o.Others = o.MNs
	}
	if o.Others < 0 {
		o.Others = 0
	}
	if o.MaxRoundTrips <= 0 {
		o.MaxRoundTrips = 3
	}
	if o.Timer <= 0 {
		o.Timer = 5 * time.Second
	}
	if o.Backend == nil {
		m := NewMemory(o.Rule, o.Seed, o.SPIRange)
		m.NARSAD.Kernel = o.KernelRule
		o.Backend = m
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Backend is where the nAR's SAD and the MNs' SAs live: memory SADs
// (Memory) or the kernel through PF_KEY in namespaces (the lab).
type Backend interface {
	Name() string
	// Setup creates the nodes' addresses and links for the plan.
	Setup(p *Plan) error
	// NAR is the nAR's kernel as ipsec-cxtpd (ipsecmod) and iked (ikev2)
	// use it.
	NAR() (ipsecmod.Kernel, ikev2.Kernel)
	// Probe returns the SAs of the nAR's SAD (not larval) that an inbound
	// lookup for an ESP packet with spi from src to dst can find under
	// rule.
	Probe(rule ipsecmod.LookupRule, spi uint32, src, dst netip.Addr) ([]*pfkey.SAEntry, error)
	// MN is the kernel of the MNs' node (one for all of them).
	MN() ikev2.Kernel
	// Traffic sends traffic through every MN's SAs both ways and reports
	// per MN whether it crossed.
	Traffic(p *Plan, mns []MNSAs) ([]TrafficResult, error)
	Close() error
}

// MNSAs is what the traffic check needs of one MN after the handover.
type MNSAs struct {
	Index    int
	HoA      netip.Addr
	NCoA     netip.Addr
	Children []ikev2.ChildState // the MN's view, keys included
}

// TrafficResult is the traffic check of one MN.
type TrafficResult struct {
	Index int
	OK    bool
	// BytesIn is the nAR's inbound SA byte counter for the MN after the
	// traffic (lab), 0 in memory.
	BytesIn uint64
	Err     string
}

// Plan is the addressing: pAR and nAR access links, the MNs' previous and
// new CoAs and home addresses, the network behind the ARs (the
// correspondent), the other MNs attached to the nAR.
type Plan struct {
	PAR, NAR       netip.Addr
	Corr           netip.Prefix
	CorrAddr       netip.Addr
	HomeNet        netip.Prefix
	NCoANet        netip.Prefix
	PCoA, NCoA     []netip.Addr
	HoA            []netip.Addr
	CollOwner      []netip.Addr // the other MN whose SA collides with MN i's
	Others         []netip.Addr // other MNs that collide with nothing
	IKEPort        uint16
	IKEProposal    string
	ESPProposal    string
	MNID, ARID     ikev2.Identity
	PSK            []byte
	ChildrenPerMN  int
	TunnelSelector bool
}

func hostIn(p netip.Prefix, n int) netip.Addr {
	b := p.Addr().As16()
	b[12], b[13], b[14], b[15] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return netip.AddrFrom16(b)
}

// NewPlan numbers n MNs and others other MNs.
func NewPlan(n, others int) *Plan {
	pnet, nnet := netip.MustParsePrefix("fd00:4::/64"), netip.MustParsePrefix("fd00:5::/64")
	p := &Plan{PAR: hostIn(pnet, 1), NAR: hostIn(nnet, 1), Corr: netip.MustParsePrefix("fd00:b::/64"),
		CorrAddr: netip.MustParseAddr("fd00:b::1"), HomeNet: netip.MustParsePrefix("fd00:a::/64"), NCoANet: nnet, IKEPort: 500,
		IKEProposal: "aes128-sha256-x25519", ESPProposal: "aes128-sha1", PSK: []byte("stress-test-group-psk")}
	p.MNID, _ = ikev2.ParseIdentity("mn@stress.example")
	p.ARID, _ = ikev2.ParseIdentity("ar.stress.example")
	for i := range n {
		p.PCoA = append(p.PCoA, hostIn(pnet, 0x10000+i))
		p.NCoA = append(p.NCoA, hostIn(nnet, 0x10000+i))
		p.HoA = append(p.HoA, hostIn(p.HomeNet, 0x10000+i))
		p.CollOwner = append(p.CollOwner, hostIn(nnet, 0x20000+i))
	}
	for j := range others {
		p.Others = append(p.Others, hostIn(nnet, 0x30000+j))
	}
	return p
}

// MNResult is what happened to one MN.
type MNResult struct {
	Index        int
	ESPColliding int  // transferred inbound ESP SPIs found colliding by ipsecmod
	IKECollision bool // the IKE SPI was taken in the nAR's IKE SA table
	LateESP      int  // ESP SPIs found colliding again after a round (re-checked in the SAD)
	WithEarlier  int  // colliding ESP SPIs held by an SA an earlier MN's handover created (not pre-filled)
	RoundTrips   int
	Updated      int
	Fallback     bool
	Err          string
	Duration     time.Duration // pre-install + activation + Algorithm 1
	// The parts of Duration: ipsecmod's pre-install of the three
	// contexts, their activation (the IKE SA imported, Algorithm 1's
	// request built), the round trip(s) to the MN until the answer is
	// processed.
	PreInstall, Activate, Repair time.Duration
}

// run is one stress run's state.
type run struct {
	tamper  func(*run)
	o       Options
	p       *Plan
	w       *wire
	parSAD  *SAD
	par     *ikev2.Manager
	nar     *ikev2.Manager
	mns     []*ikev2.Manager
	narK    ipsecmod.Kernel
	prefill []*pfkey.SAEntry
	preSPI  map[uint32]bool
	otherIK [][2]uint64 // other MNs' IKE SPIs (SPIi, SPIr) on the nAR
	rng     *mrand.Rand
	res     []MNResult
	cur     *MNResult
	curDone bool
}

// Run performs one stress run and checks its outcome: the report lists
// every problem found (Report.Problems); err is for a run that could not
// be carried out.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	r := &run{tamper: o.tamper, o: o, p: NewPlan(o.MNs, o.Others), w: newWire(), rng: mrand.New(mrand.NewPCG(o.Seed, 0x5eed))}
	r.p.ChildrenPerMN = o.Children
	rep := &Report{Backend: o.Backend.Name(), Rule: o.Rule.String(), KernelRule: kernelRule(o), MNs: o.MNs, Children: o.Children, Seed: o.Seed,
		SPIRange: o.SPIRange, MaxRoundTrips: o.MaxRoundTrips, RoundTrips: map[string]int{}}
	var ms0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	t0 := time.Now()
	if err := o.Backend.Setup(r.p); err != nil {
		return nil, fmt.Errorf("stress: %s setup: %w", o.Backend.Name(), err)
	}
	rep.SetupTime = ms(time.Since(t0))
	if err := r.nodes(); err != nil {
		return nil, err
	}
	t1 := time.Now()
	if err := r.establish(); err != nil {
		return nil, err
	}
	rep.EstablishTime = ms(time.Since(t1))
	o.Logf("stress: %d MNs with %d child(ren) each established with the pAR in %v", o.MNs, o.Children, time.Since(t1).Round(time.Millisecond))
	data, err := r.capture(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.prefillNAR(ctx); err != nil {
		return nil, err
	}
	rep.Prefilled, rep.OtherIKESAs = len(r.prefill), len(r.otherIK)
	o.Logf("stress: nAR pre-filled with %d SAs and %d IKE SAs", len(r.prefill), len(r.otherIK))
	t2 := time.Now()
	msgs0, bytes0 := r.w.Messages, r.w.Bytes
	if err := r.transfer(ctx, data); err != nil {
		return nil, err
	}
	rep.TransferTime = ms(time.Since(t2))
	rep.IKEMessages, rep.IKEBytes = r.w.Messages-msgs0, r.w.Bytes-bytes0
	o.Logf("stress: %d MNs transferred and repaired in %v", o.MNs, time.Since(t2).Round(time.Millisecond))
	rep.MN = r.res
	rep.tally()
	t3 := time.Now()
	if r.tamper != nil {
		r.tamper(r)
	}
	views, problems := r.check(ctx)
	defer func() {
		for _, v := range views {
			for _, c := range v.Children {
				clear(c.EncIn)
				clear(c.IntegIn)
				clear(c.EncOut)
				clear(c.IntegOut)
			}
		}
	}()
	rep.Problems = append(rep.Problems, problems...)
	rep.CheckTime = ms(time.Since(t3))
	t4 := time.Now()
	tr, err := o.Backend.Traffic(r.p, views)
	rep.TrafficTime = ms(time.Since(t4))
	if err != nil {
		rep.Problems = append(rep.Problems, "traffic: "+err.Error())
	}
	for _, x := range tr {
		if x.OK {
			rep.TrafficOK++
		} else {
			rep.Problems = append(rep.Problems, fmt.Sprintf("MN %d: traffic: %s", x.Index, x.Err))
		}
		rep.Traffic = append(rep.Traffic, x)
	}
	if n, np := sadSize(ctx, r.narK); n >= 0 {
		rep.NARSAs, rep.NARPolicies = n, np
	}
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	rep.HeapMB = float64(ms1.HeapAlloc) / (1 << 20)
	rep.AllocMB = float64(ms1.TotalAlloc-ms0.TotalAlloc) / (1 << 20)
	rep.TotalTime = ms(time.Since(t0))
	return rep, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func sadSize(ctx context.Context, k ipsecmod.Kernel) (int, int) {
	sas, err := k.SAs(ctx, pfkey.SATypeUnspec)
	if err != nil {
		return -1, -1
	}
	for _, s := range sas {
		s.Wipe()
	}
	pols, err := k.Policies(ctx)
	if err != nil {
		return len(sas), -1
	}
	return len(sas), len(pols)
}

func (r *run) conf(name string, local, remote ikev2.Identity, lts, rts netip.Prefix) (*ikev2.Config, error) {
	ike, err := ikev2.ParseProposal(r.p.IKEProposal, msg.ProtoIKE)
	if err != nil {
		return nil, err
	}
	esp, err := ikev2.ParseProposal(r.p.ESPProposal, msg.ProtoESP)
	if err != nil {
		return nil, err
	}
	return &ikev2.Config{Name: name, LocalID: local, RemoteID: remote, IKEProposals: []msg.Proposal{ike}, ESPProposals: []msg.Proposal{esp},
		LocalTS: []netip.Prefix{lts}, RemoteTS: []netip.Prefix{rts}, MOBIKE: true, UpdateSPI: msg.DefaultUpdateSPI,
		IKELifetime: time.Hour, ChildLifetime: time.Hour}, nil
}

func (r *run) manager(c *ikev2.Config, k ikev2.Kernel) *ikev2.Manager {
	pad := []ikev2.PADEntry{{ID: r.p.MNID, Method: "psk", PSK: r.p.PSK}, {ID: r.p.ARID, Method: "psk", PSK: r.p.PSK}}
	m := ikev2.NewManager([]*ikev2.Config{c}, pad, k, r.w.send)
	// Nothing is lost on the wire: no retransmission is due while a
	// burst is pumped; Tick is never called.
	m.RetransmitBase = time.Minute
	return m
}

// nodes creates the Managers: pAR and nAR (responders for the MNs, one
// connection for the MNs' group identity) and one per MN.
func (r *run) nodes() error {
	p := r.p
	r.parSAD = NewSAD(r.o.Rule, r.o.Seed^0x9a9)
	if r.o.SPIRange > 0 {
		r.parSAD.Min, r.parSAD.Max = 0x100, 0x100+r.o.SPIRange-1
	}
	arConf, err := r.conf("mn", p.ARID, p.MNID, p.Corr, p.HomeNet)
	if err != nil {
		return err
	}
	r.par = r.manager(arConf, r.parSAD.IKE())
	narConf, _ := r.conf("mn", p.ARID, p.MNID, p.Corr, p.HomeNet)
	narK, narIKE := r.o.Backend.NAR()
	r.narK = narK
	r.nar = r.manager(narConf, narIKE)
	r.w.attach(p.PAR, r.par)
	r.w.attach(p.NAR, r.nar)
	mk := r.o.Backend.MN()
	for i := range r.o.MNs {
		c, _ := r.conf(fmt.Sprintf("mn-%d", i), p.MNID, p.ARID, netip.PrefixFrom(p.HoA[i], 128), p.Corr)
		m := r.manager(c, mk)
		r.mns = append(r.mns, m)
		r.w.attach(p.PCoA[i], m)
		r.w.attach(p.NCoA[i], m)
	}
	return nil
}

// establish runs IKE_SA_INIT + IKE_AUTH (and CREATE_CHILD_SA for extra
// children) between every MN and the pAR.
func (r *run) establish() error {
	p := r.p
	for i, m := range r.mns {
		var res error = errors.New("no answer")
		sa, err := m.Initiate(fmt.Sprintf("mn-%d", i), netip.AddrPortFrom(p.PCoA[i], p.IKEPort), netip.AddrPortFrom(p.PAR, p.IKEPort), func(err error) { res = err })
		if err != nil {
			return fmt.Errorf("stress: MN %d: initiate: %w", i, err)
		}
		if err := r.w.pump(100); err != nil {
			return err
		}
		if res != nil {
			return fmt.Errorf("stress: MN %d: IKE_SA_INIT+IKE_AUTH with the pAR: %w", i, res)
		}
		for range r.o.Children - 1 {
			res = errors.New("no answer")
			if err := m.CreateChild(sa.LocalSPI(), func(err error) { res = err }); err != nil {
				return fmt.Errorf("stress: MN %d: create child: %w", i, err)
			}
			if err := r.w.pump(100); err != nil {
				return err
			}
			if res != nil {
				return fmt.Errorf("stress: MN %d: CREATE_CHILD_SA with the pAR: %w", i, res)
			}
		}
	}
	return nil
}

func localSPI(s ikev2.SAState) uint64 {
	if s.Initiator {
		return s.SPIi
	}
	return s.SPIr
}

// parIKE is the pAR's iked as ipsec-cxtpd's capture sees it, in process:
// export-peer.
type parIKE struct{ m *ikev2.Manager }

func (d parIKE) ExportIKEv2(ctx context.Context, mn netip.Addr) ([]*ikev2ctx.SA, error) {
	var out []*ikev2ctx.SA
	for _, s := range d.m.SAs() {
		if s.Remote.Addr() != mn {
			continue
		}
		st, err := d.m.Export(localSPI(s))
		if err != nil {
			return nil, err
		}
		out = append(out, ipsecmod.CtxFromState(&st, time.Now()))
		st.Wipe()
	}
	return out, nil
}

func (parIKE) ImportIKEv2(context.Context, *ipsecmod.IKEv2Import) error {
	return errors.ErrUnsupported
}

// capture runs the pAR's ipsecmod capture of every MN: the SA (0x8001),
// SP (0x8002) and IKEv2 (0x8004) contexts as the bytes CXTP carries.
func (r *run) capture(ctx context.Context) ([][3][]byte, error) {
	pm, err := ipsecmod.New(ipsecmod.Config{Address: r.p.PAR, Kernel: r.parSAD, IKEv2: parIKE{r.par}, Rule: r.o.Rule})
	if err != nil {
		return nil, err
	}
	out := make([][3][]byte, r.o.MNs)
	for i := range r.o.MNs {
		for j, k := range kinds {
			b, err := pm.Capture(ctx, k, r.p.PCoA[i])
			if err != nil {
				return nil, fmt.Errorf("stress: MN %d: pAR capture %v: %w", i, k, err)
			}
			out[i][j] = b
		}
	}
	return out, nil
}

var kinds = [3]ipsecmod.Kind{ipsecmod.KindSA, ipsecmod.KindSP, ipsecmod.KindIKEv2}

func randKey(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func (r *run) spiInRange() uint32 {
	if r.o.SPIRange > 0 {
		return 0x100 + uint32(r.rng.Uint64N(uint64(r.o.SPIRange)))
	}
	return 0x100 + uint32(r.rng.Uint64N(0xffffffff-0x100))
}

func prefillSA(spi uint32, src, dst netip.Addr, reqid uint32) *pfkey.SAEntry {
	return &pfkey.SAEntry{Type: pfkey.SATypeESP, SPI: spi, Src: src, Dst: dst, Mode: pfkey.ModeTunnel, ReqID: reqid, Replay: 32,
		State: pfkey.SAStateMature, Auth: pfkey.AuthSHA1HMAC, Enc: pfkey.EncAESCBC,
		Keys: pfkey.Keys{Enc: randKey(16), Auth: randKey(20)}}
}

// prefillNAR fills the nAR's SAD and IKE SA table before the handovers:
// for a fraction of the MNs an SA of another MN that collides, under the
// rule, with each of the MN's transferred inbound ESP SPIs, and an IKE SA
// holding its IKE SPI; and the SAs and IKE SAs of other MNs that collide
// with nothing. All must be untouched at the end.
func (r *run) prefillNAR(ctx context.Context) error {
	p := r.p
	r.preSPI = map[uint32]bool{}
	add := func(e *pfkey.SAEntry) error {
		if err := r.narK.Add(ctx, e); err != nil {
			return err
		}
		r.prefill = append(r.prefill, e)
		r.preSPI[e.SPI] = true
		return nil
	}
	byMN := map[netip.Addr]ikev2.SAState{}
	for _, s := range r.par.SAs() {
		byMN[s.Remote.Addr()] = s
	}
	reqid := uint32(0x3000)
	for i := range r.o.MNs {
		s := byMN[p.PCoA[i]]
		if r.rng.Float64() < r.o.CollideESP {
			for k, c := range s.Children {
				// The SA the lookup rule confuses with the MN's inbound
				// SA nCoA -> nAR under the transferred SPI.
				src, dst := p.CollOwner[i], p.NAR
				switch r.o.Rule {
				case ipsecmod.RuleSPI:
					if (i+k)%2 == 1 { // any SA with the SPI: here the nAR's outbound SA to the other MN
						src, dst = p.NAR, p.CollOwner[i]
					}
				case ipsecmod.RuleSPIDstSrc:
					src = p.NCoA[i] // a stale SA of a previous holder of the nCoA
				}
				reqid++
				if err := add(prefillSA(c.SPIIn, src, dst, reqid)); err != nil {
					return fmt.Errorf("stress: pre-fill an SA colliding with MN %d's SPI 0x%08x: %w", i, c.SPIIn, err)
				}
			}
		}
		if r.rng.Float64() < r.o.CollideIKE {
			if err := r.otherIKE(s.SPIr, p.CollOwner[i]); err != nil {
				return err
			}
		}
	}
	for j, a := range p.Others {
		for _, dir := range [2]bool{true, false} {
			for try := 0; ; try++ {
				src, dst := a, p.NAR
				if !dir {
					src, dst = p.NAR, a
				}
				reqid++
				spi := r.spiInRange()
				// Colliding with nothing under the rule in force, even
				// where the kernel's own rule is looser.
				hs, err := r.o.Backend.Probe(r.o.Rule, spi, src, dst)
				if err != nil {
					return fmt.Errorf("stress: pre-fill other MN %d's SA: %w", j, err)
				}
				if len(hs) == 0 {
					if err = add(prefillSA(spi, src, dst, reqid)); err == nil {
						break
					}
				} else {
					err = fmt.Errorf("spi 0x%08x taken: %w", spi, syscall.EEXIST)
				}
				if !pfkey.IsExist(err) || try > 100 {
					return fmt.Errorf("stress: pre-fill other MN %d's SA: %w", j, err)
				}
			}
		}
		if err := r.otherIKE(0, a); err != nil {
			return err
		}
	}
	return nil
}

// otherIKE puts another MN's IKE SA into the nAR's table, with spir as
// the nAR's SPI (0: random).
func (r *run) otherIKE(spir uint64, peer netip.Addr) error {
	if spir == 0 {
		spir = r.rng.Uint64() | 1
	}
	spii := r.rng.Uint64() | 1
	id, _ := ikev2.ParseIdentity(fmt.Sprintf("other-%v@stress.example", peer))
	st := ikev2.SAState{Name: "other-mns", Initiator: false, SPIi: spii, SPIr: spir, State: "ESTABLISHED",
		Local: netip.AddrPortFrom(r.p.NAR, r.p.IKEPort), Remote: netip.AddrPortFrom(peer, r.p.IKEPort), MOBIKE: true,
		Encr: msg.ENCR_AES_CBC, KeyBits: 128, Integ: msg.AUTH_HMAC_SHA2_256_128, PRF: msg.PRF_HMAC_SHA2_256, DH: msg.DH_CURVE25519,
		Lifetime: time.Hour, Created: time.Now(), NextSendID: 0, NextRecvID: 2, PeerID: id, LocalID: r.p.ARID,
		SKEYSEED: randKey(32), SKd: randKey(32), SKai: randKey(32), SKar: randKey(32), SKei: randKey(16), SKer: randKey(16),
		SKpi: randKey(32), SKpr: randKey(32), Ni: randKey(32), Nr: randKey(32), PSK: randKey(16)}
	defer st.Wipe()
	if _, err := r.nar.Import(st, netip.AddrPort{}, netip.AddrPort{}); err != nil {
		return fmt.Errorf("stress: pre-fill another MN's IKE SA %016x: %w", spir, err)
	}
	r.otherIK = append(r.otherIK, [2]uint64{spii, spir})
	return nil
}

// narIKE is the nAR's iked as ipsec-cxtpd's activation sees it, in
// process: import, then Algorithm 1 (what `iked ctl import` and `repair`
// do), with the collisions re-checked in the nAR's SAD after each round.
type narIKE struct{ r *run }

func (d narIKE) ExportIKEv2(context.Context, netip.Addr) ([]*ikev2ctx.SA, error) {
	return nil, errors.ErrUnsupported
}

func (d narIKE) ImportIKEv2(ctx context.Context, imp *ipsecmod.IKEv2Import) error {
	r := d.r
	res := r.cur
	st := ipsecmod.StateFromCtx(imp.SA, time.Now())
	for i := range st.Children {
		c := &st.Children[i]
		if k, ok := imp.Keys[c.SPIIn]; ok {
			c.EncIn, c.IntegIn = append([]byte(nil), k.Enc...), append([]byte(nil), k.Auth...)
		}
		if k, ok := imp.Keys[c.SPIOut]; ok {
			c.EncOut, c.IntegOut = append([]byte(nil), k.Enc...), append([]byte(nil), k.Auth...)
		}
	}
	key, err := r.nar.Import(st, imp.Local, imp.Remote)
	st.Wipe()
	if errors.Is(err, ikev2.ErrSPICollision) {
		res.IKECollision = true
	} else if err != nil {
		return err
	}
	res.ESPColliding += len(imp.ESPColliding)
	bad := map[uint32]bool{}
	for _, s := range imp.ESPColliding {
		bad[s] = true
		if !r.preSPI[s] {
			res.WithEarlier++
		}
	}
	opt := ikev2.RepairOptions{Local: imp.Local, Remote: imp.Remote, MaxRoundTrips: r.o.MaxRoundTrips, Timer: r.o.Timer,
		Collisions: func(s ikev2.SAState) ([]uint32, bool) {
			// Called with the nAR's Manager locked: only the SAD is read.
			var out []uint32
			for _, c := range s.Children {
				if bad[c.SPIIn] {
					out = append(out, c.SPIIn)
					continue
				}
				src, dst := s.Remote.Addr(), s.Local.Addr()
				hs, err := r.o.Backend.Probe(r.o.Rule, c.SPIIn, src, dst)
				if err != nil {
					continue
				}
				for _, h := range hs {
					if h.SPI != c.SPIIn || h.Src != src || h.Dst != dst {
						out = append(out, c.SPIIn)
						res.LateESP++
						break
					}
				}
				for _, h := range hs {
					h.Wipe()
				}
			}
			return out, false
		}}
	return r.nar.RepairSPIs(key, opt, func(x ikev2.RepairResult) {
		res.RoundTrips, res.Updated, res.Fallback = x.RoundTrips, x.Updated, x.Fallback
		if x.Err != nil {
			res.Err = x.Err.Error()
		}
		r.curDone = true
	})
}

// transfer hands every MN over, one after the other: the nAR's ipsecmod
// pre-installs and activates the three contexts (SAs that collide are not
// installed), the IKEv2 activation imports the IKE SA and runs Algorithm 1
// (UPDATE_SA_ADDRESSES to the nCoA with an UPDATE_SPI for every colliding
// SPI), and the MN answers.
func (r *run) transfer(ctx context.Context, data [][3][]byte) error {
	nm, err := ipsecmod.New(ipsecmod.Config{Address: r.p.NAR, Kernel: r.narK, IKEv2: narIKE{r}, Rule: r.o.Rule, CallTimeout: 30 * time.Second})
	if err != nil {
		return err
	}
	r.res = make([]MNResult, r.o.MNs)
	for i := range r.o.MNs {
		res := &r.res[i]
		res.Index = i
		r.cur, r.curDone = res, false
		pcoa, ncoa := r.p.PCoA[i], r.p.NCoA[i]
		t0 := time.Now()
		for j, k := range kinds {
			if err := nm.PreInstall(ctx, k, pcoa, ncoa, data[i][j]); err != nil {
				return fmt.Errorf("stress: MN %d: nAR pre-install %v: %w", i, k, err)
			}
		}
		t1 := time.Now()
		for _, k := range kinds {
			if err := nm.Activate(ctx, k, pcoa, ncoa); err != nil {
				res.Err = fmt.Sprintf("activate %v: %v", k, err)
			}
		}
		t2 := time.Now()
		if err := r.w.pump(1000); err != nil {
			return fmt.Errorf("stress: MN %d: %w", i, err)
		}
		res.Duration = time.Since(t0)
		res.PreInstall, res.Activate, res.Repair = t1.Sub(t0), t2.Sub(t1), time.Since(t2)
		if !r.curDone && res.Err == "" {
			res.Err = "Algorithm 1 did not finish"
		}
		for j := range data[i] {
			clear(data[i][j])
		}
	}
	r.cur = nil
	return nil
}

func kernelRule(o Options) string {
	if _, mem := o.Backend.(*Memory); mem && o.KernelRule != 0 && o.KernelRule != o.Rule {
		return o.KernelRule.String()
	}
	return ""
}
