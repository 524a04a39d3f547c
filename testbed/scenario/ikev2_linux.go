//go:build linux

package scenario

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	cxtpdaemon "github.com/ikectx/ikectx/cxtp/daemon"
	ikeddaemon "github.com/ikectx/ikectx/ikev2/daemon"
	ipsecdaemon "github.com/ikectx/ikectx/ipsecmod/daemon"
	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/pfkey/setkey"
	"github.com/ikectx/ikectx/testbed/report"
	"github.com/ikectx/ikectx/testbed/topo"
	"github.com/ikectx/ikectx/testbed/traffic"
)

// The IKEv2 rows (report.IKEv2Scenarios). Every station runs an IKEv2
// daemon (ikectx iked with PF_KEY, or charon with kernel-netlink) instead
// of racoon; the MN's tunnel through the pAR comes up by that daemon
// before the handover, as the IKEv1 rows' by racoon. After the handover:
//
//   - ikev2-iked, ikev2-charon: the MN's SPD is rewritten to the nCoA and
//     the nAR (as in the IKEv1 rows, so that nothing leaves in clear) and
//     the MN's daemon initiates its connection "nar": IKE_SA_INIT +
//     IKE_AUTH with the child SA.
//   - ikev2-ct, ikev2-ct-collision: a predictive IKEv2 context transfer
//     (cxtpd + ipsec-cxtpd on the ARs, the SA, SP and IKEv2 FPTs); the MN
//     sends the CTAR without touching its SAD/SPD; the nAR activates the
//     context and its iked sends the MOBIKE UPDATE_SA_ADDRESSES to the
//     nCoA (with UPDATE_SPI for the colliding SPIs); the MN's iked moves
//     its SAs and policies.
//
// The collision scenario adds MN2 on the nAR's access link with its own
// iked, tunnel and UDP flow to the HA. Before the handover the nAR's iked
// changes the SPIs of its IKE SA and child with MN2, by UPDATE_SPI, to
// the ones the transfer will bring (the pAR's inbound ESP SPI and its IKE
// SPI with the MN): an ESP SPI collision under Linux's lookup rule (SPI +
// destination) and an IKE SPI collision in the nAR's iked.

// ikev2CannotRun says why an IKEv2 row cannot run here ("" when it can).
func ikev2CannotRun(cfg Config, sc string) string {
	if sc == report.IKEv2Charon {
		return charonCannotRun(cfg)
	}
	need := []string{"iked", "setkey", "udpgen"}
	if sc == report.IKEv2CT || sc == report.IKEv2Collision {
		need = append(need, "cxtpd", "ipsec-cxtpd")
	}
	for _, b := range need {
		if _, err := os.Stat(cfg.Bin(b)); err != nil {
			return b + " is not installed"
		}
	}
	return ""
}

// ikev2Progress is the IKEv2 part of a run's progress line.
func ikev2Progress(r report.Run) string {
	x := r.IKEv2
	if x == nil {
		return ""
	}
	s := fmt.Sprintf(", Algorithm 1: %d round trip(s), %d SPI(s) updated", x.RoundTrips, x.Updated)
	if x.Fallback {
		s += ", FALLBACK to a full exchange"
	}
	if x.MoveError != "" {
		s += ", move error: " + x.MoveError
	}
	if r.Scenario == report.IKEv2Collision {
		s += fmt.Sprintf(", MN2 %d lost (longest gap %.0f ms), nAR SAD ok %v", x.MN2Lost, x.MN2MaxGapMS, x.SADOK)
		if x.SADError != "" {
			s += " (" + x.SADError + ")"
		}
	}
	return s
}

// ikedCtl runs one iked control command.
func ikedCtl(sock string, args ...string) (string, error) {
	out, err := ikeddaemon.Control(sock, args...)
	if err == nil && strings.HasPrefix(out, "error: ") {
		err = fmt.Errorf("%s", strings.TrimSpace(strings.TrimPrefix(out, "error: ")))
	}
	if err != nil {
		return out, fmt.Errorf("iked %s: %s: %w", filepath.Dir(sock), strings.Join(args, " "), err)
	}
	return out, nil
}

// ikedSA is the established IKE SA of iked at sock with the peer at addr.
func ikedSA(sock string, peer netip.Addr) (ikeddaemon.StatusSA, error) {
	out, err := ikedCtl(sock, "status")
	if err != nil {
		return ikeddaemon.StatusSA{}, err
	}
	sas, err := ikeddaemon.ParseStatus(out)
	if err != nil {
		return ikeddaemon.StatusSA{}, err
	}
	for _, s := range sas {
		if s.State == "ESTABLISHED" && s.Remote.Addr() == peer && len(s.Children) > 0 {
			return s, nil
		}
	}
	return ikeddaemon.StatusSA{}, fmt.Errorf("iked %s: no established IKE SA with a child with %v:\n%s", filepath.Dir(sock), peer, out)
}

// iked writes a station's iked.toml and starts iked in ns; it returns the
// control socket once iked answers.
func (s *station) iked(ctx context.Context, ns string, peers []string, conns []topo.IKEv2Conn) (string, error) {
	dir := filepath.Join(s.dir, ns)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	sock := filepath.Join(dir, "iked.sock")
	conf := filepath.Join(dir, "iked.toml")
	if err := os.WriteFile(conf, []byte(s.plan.IkedConf(sock, peers, conns)), 0o600); err != nil {
		return "", err
	}
	if _, err := s.start("iked@"+ns, ns, s.cfg.Bin("iked"), "-c", conf, "-v"); err != nil {
		return "", err
	}
	if !waitFor(ctx, 60*time.Second, 20*time.Millisecond, func() bool { _, err := ikeddaemon.Control(sock, "status"); return err == nil }) {
		return "", fmt.Errorf("iked in %s never answered on %s", ns, sock)
	}
	return sock, nil
}

// setkeyIn runs parsed setkey statements through PF_KEY in namespace ns.
func setkeyIn(ctx context.Context, ns string, stmts *setkey.Script) error {
	_, err := inNetns(ns, func() (struct{}, error) {
		k, err := pfkey.Open()
		if err != nil {
			return struct{}{}, err
		}
		defer k.Close()
		return struct{}{}, setkey.Run(ctx, k, stmts, setkey.RunOptions{})
	})
	return err
}

func runIKEv2(ctx context.Context, cfg Config, sc string, index int) (r report.Run, pcap []byte) {
	r = report.Run{Scenario: sc, Index: index}
	plan := topo.Default()
	plan.AccessDelay, plan.AccessLoss = cfg.Delay, cfg.Loss
	// The pAR's capture asks iked over its control socket; under
	// emulation with MN2's flow it has taken over 2 s. A predictive
	// transfer is done before the handover: not part of the delay.
	plan.TransferTime = "10s"
	dir := filepath.Join(cfg.Work, fmt.Sprintf("%s-%d", sc, index))
	os.MkdirAll(dir, 0o755)
	s := &station{cfg: cfg, plan: plan, dir: dir}
	ct := sc == report.IKEv2CT || sc == report.IKEv2Collision
	collide := sc == report.IKEv2Collision
	charon := sc == report.IKEv2Charon
	teardown := func() {
		for _, c := range append(plan.MN2Teardown(), plan.Teardown()...) {
			s.run(c.NS, c.Args...)
		}
	}
	failed := true
	var daemons ikev2Daemons
	defer func() {
		daemons.stop(failed, cfg)
		s.stopAll(failed)
		for _, f := range s.cleanup {
			f()
		}
		teardown()
	}()
	fail := func(format string, a ...any) (report.Run, []byte) {
		r.Error = fmt.Sprintf(format, a...)
		return r, pcap
	}
	teardown() // leftovers of an aborted run
	if err := s.cmds(plan.Build()); err != nil {
		return fail("topology: %v", err)
	}
	if collide {
		if err := s.cmds(plan.MN2Build()); err != nil {
			return fail("MN2's link: %v", err)
		}
	}
	// SPDs: the MN's require policies for its pCoA (nothing leaves in
	// clear before the tunnel is up; the IKE daemon's policies replace
	// them), the nAR's default discard of its access prefix, the AR-AR
	// channel for a transfer; the ARs' daemons install their own.
	if err := s.setkey(topo.NSMN, "mn.setkey", plan.MNSetkey(plan.PCoA, plan.PAR)); err != nil {
		return fail("%v", err)
	}
	narSPD := plan.NARDiscardSetkey()
	if ct {
		narSPD += plan.ARARSetkey(plan.NARCore, plan.PARCore, false)
		if err := s.setkey(topo.NSPAR, "par-arar.setkey", plan.ARARSetkey(plan.PARCore, plan.NARCore, true)); err != nil {
			return fail("%v", err)
		}
	}
	if err := s.setkey(topo.NSNAR, "nar.setkey", narSPD); err != nil {
		return fail("%v", err)
	}
	if collide {
		if err := s.setkey(topo.NSMN2, "mn2.setkey", plan.MNSetkey(plan.MN2(), plan.NAR)); err != nil {
			return fail("%v", err)
		}
	}
	// the IKEv2 daemons
	narConns := []topo.IKEv2Conn{plan.ARIKEv2Conn("mn", topo.IDMN, plan.NAR, plan.NCoA)}
	narPeers := []string{topo.IDMN}
	if collide {
		narConns = append(narConns, plan.ARIKEv2Conn("mn2", topo.IDMN2, plan.NAR, plan.MN2()))
		narPeers = append(narPeers, topo.IDMN2)
	}
	var err error
	if charon {
		daemons, err = s.startCharons(ctx, narConns)
	} else {
		daemons, err = s.startIkeds(ctx, narPeers, narConns, collide)
	}
	if err != nil {
		return fail("%v", err)
	}
	var mnCtl, narCtl string
	if ct {
		s.modConf = func(dir, shm string, par bool) string {
			return plan.IPsecCxtpdIked(dir, shm, filepath.Join(s.dir, map[bool]string{true: topo.NSPAR, false: topo.NSNAR}[par], "iked.sock"), par)
		}
		if mnCtl, narCtl, err = s.startCXTP(ctx); err != nil {
			return fail("%v", err)
		}
	}
	sinkFile, sinkAddr, sender, err := s.startTraffic()
	if err != nil {
		return fail("%v", err)
	}
	// attached to the pAR: the MN's daemon brings the tunnel up
	pcoa := plan.PCoA.String()
	if err := daemons.initiate(topo.NSMN, "par"); err != nil {
		return fail("the MN's tunnel through the pAR: %v", err)
	}
	tunnelUp := time.Now()
	if _, ok := firstFrom(ctx, sinkFile, pcoa, 0, 60*time.Second); !ok {
		return fail("the tunnel through the pAR never carried a datagram to the HA")
	}
	var mn2Sender *proc
	var mn2From int64 // MN2's flow is checked from here (after its own SPI changes)
	var x *report.IKEv2Run
	var parSA ikeddaemon.StatusSA
	if ct {
		x = &report.IKEv2Run{}
		r.IKEv2 = x
		if parSA, err = ikedSA(daemons.sock[topo.NSPAR], plan.PCoA); err != nil {
			return fail("%v", err)
		}
	}
	if collide {
		// MN2's tunnel and flow through the nAR, then its SPIs on the nAR
		// set to the ones the transfer brings
		if mn2Sender, err = s.start("udpgen send mn2", topo.NSMN2, s.cfg.Bin("udpgen"), "send", "--to", sinkAddr, "--interval", interval.String()); err != nil {
			return fail("%v", err)
		}
		if err := daemons.initiate(topo.NSMN2, "nar"); err != nil {
			return fail("MN2's tunnel through the nAR: %v", err)
		}
		if _, ok := firstFrom(ctx, sinkFile, plan.MN2().String(), 0, 60*time.Second); !ok {
			return fail("MN2's tunnel through the nAR never carried a datagram to the HA")
		}
		if x.Colliding, err = s.makeCollision(daemons.sock[topo.NSNAR], parSA, plan.MN2()); err != nil {
			return fail("%v", err)
		}
		resumed, ok := firstFrom(ctx, sinkFile, plan.MN2().String(), time.Now().Add(100*time.Millisecond).UnixNano(), 10*time.Second)
		if !ok {
			return fail("MN2's flow stopped after its SPIs changed")
		}
		mn2From = resumed
	}
	time.Sleep(time.Duration(cfg.Before * float64(time.Second)))
	if ct {
		if _, err := s.requestTransfer(ctx, mnCtl, narCtl, plan.NAR.String()); err != nil {
			return fail("%v", err)
		}
	}
	fmt.Fprintf(cfg.Log, "%s run %d: tunnel through the pAR up %.0f ms before the handover\n", sc, index, float64(time.Since(tunnelUp).Milliseconds()))
	mnNAR, err := setkey.Parse("mn-nar.setkey", []byte(plan.MNSetkey(plan.NCoA, plan.NAR)), nil)
	if err != nil {
		return fail("%v", err)
	}
	capt, _, err := s.handover(&r)
	if err != nil {
		return fail("%v", err)
	}
	initErr := make(chan error, 1)
	if ct {
		// the CTAR; the MN's SAD/SPD wait for the nAR's MOBIKE
		if out, err := cxtpdaemon.Control(mnCtl, "attach", plan.NAR.String(), plan.NCoA.String()); err != nil {
			capt.stop()
			return fail("cxtpd attach: %v: %s", err, out)
		}
	} else if !charon {
		// iked: the MN's SPD to the nCoA and the nAR, then the MN's iked
		// initiates (charon's trapped child negotiates on the ACQUIRE of
		// the next datagram instead)
		t0 := time.Now()
		err := setkeyIn(ctx, topo.NSMN, mnNAR)
		r.MNRewriteMS = float64(time.Since(t0).Microseconds()) / 1000
		if err != nil {
			capt.stop()
			return fail("MN SPD rewrite: %v", err)
		}
		go func() { initErr <- daemons.initiate(topo.NSMN, "nar") }()
	}
	ncoa := plan.NCoA.String()
	restored, ok := firstFrom(ctx, sinkFile, ncoa, r.Attach, 60*time.Second)
	if !ok {
		pcap = capt.stop()
		select {
		case err := <-initErr:
			return fail("no datagram from the nCoA reached the HA within 60 s (initiate nar: %v)", err)
		default:
		}
		return fail("no datagram from the nCoA reached the HA within 60 s")
	}
	r.Restored = restored
	r.DelayMS = float64(restored-r.Attach) / 1e6
	s.stopSched(&r)
	time.Sleep(time.Duration(cfg.After * float64(time.Second)))
	pcap = capt.stop()
	if ct {
		if err := s.repairOutcome(ctx, x, daemons.sock[topo.NSNAR], parSA, plan.NCoA); err != nil {
			return fail("%v", err)
		}
	}
	if collide {
		s.checkNARSAD(ctx, x, parSA)
	}
	s.stop(sender)
	if mn2Sender != nil {
		s.stop(mn2Sender)
	}
	time.Sleep(100 * time.Millisecond)
	recs := sinkRecords(sinkFile)
	for _, rec := range recs {
		if rec.Src == pcoa || rec.Src == ncoa {
			r.Records = append(r.Records, rec)
		}
	}
	r.Lost, r.LostLink = LostAround(r.Records, pcoa, ncoa, r.Attach, interval)
	if collide {
		x.MN2Received, x.MN2Lost, x.MN2MaxGapMS = flowFrom(recs, plan.MN2().String(), max(mn2From, r.Attach-int64(time.Second)))
		if x.MN2Received == 0 {
			return fail("no datagram from MN2 around the handover")
		}
	}
	frames, err := report.ReadFrames(bytes.NewReader(pcap))
	if err != nil {
		return fail("reading the capture: %v", err)
	}
	r.Frames = frames
	failed = false
	return r, pcap
}

// flowFrom is the flow from src received from `from` (Unix ns) on: the
// datagrams received, the sequence numbers missing between the first and
// the last of them, and the longest gap between two arrivals in ms.
func flowFrom(recs []traffic.Record, src string, from int64) (received, lost int, maxGapMS float64) {
	var mine []traffic.Record
	for _, r := range recs {
		if r.Src == src && r.Recv >= from {
			mine = append(mine, r)
		}
	}
	if len(mine) == 0 {
		return 0, 0, 0
	}
	slices.SortFunc(mine, func(a, b traffic.Record) int { return int(a.Recv - b.Recv) })
	seen := map[uint64]bool{}
	lo, hi := mine[0].Seq, mine[0].Seq
	for i, r := range mine {
		seen[r.Seq] = true
		lo, hi = min(lo, r.Seq), max(hi, r.Seq)
		if i > 0 {
			maxGapMS = max(maxGapMS, float64(r.Recv-mine[i-1].Recv)/1e6)
		}
	}
	for q := lo; q <= hi; q++ {
		if !seen[q] {
			lost++
		}
	}
	return len(mine), lost, maxGapMS
}

// makeCollision gives MN2's IKE SA and child on the nAR (iked at narSock)
// the SPIs the transfer will bring: the pAR's inbound ESP SPI and its IKE
// SPI with the MN (parSA), by UPDATE_SPI from the nAR's iked; it returns
// them as report text.
func (s *station) makeCollision(narSock string, parSA ikeddaemon.StatusSA, mn2 netip.Addr) ([]string, error) {
	sa, err := ikedSA(narSock, mn2)
	if err != nil {
		return nil, err
	}
	espTo := parSA.Children[0].SPIIn
	if _, err := ikedCtl(narSock, "update-spi", fmt.Sprintf("%016x", sa.LocalSPI()), "esp",
		fmt.Sprintf("%08x", sa.Children[0].SPIIn), fmt.Sprintf("%08x", espTo)); err != nil {
		return nil, fmt.Errorf("MN2's inbound SPI on the nAR to the MN's 0x%08x: %w", espTo, err)
	}
	ikeTo := parSA.LocalSPI()
	if _, err := ikedCtl(narSock, "update-spi", fmt.Sprintf("%016x", sa.LocalSPI()), "ike",
		fmt.Sprintf("%016x", sa.LocalSPI()), fmt.Sprintf("%016x", ikeTo)); err != nil {
		return nil, fmt.Errorf("MN2's IKE SPI on the nAR to the MN's %016x: %w", ikeTo, err)
	}
	after, err := ikedSA(narSock, mn2)
	if err != nil {
		return nil, err
	}
	if after.Children[0].SPIIn != espTo || after.LocalSPI() != ikeTo {
		return nil, fmt.Errorf("MN2's SPIs on the nAR are esp 0x%08x ike %016x after UPDATE_SPI, want 0x%08x %016x",
			after.Children[0].SPIIn, after.LocalSPI(), espTo, ikeTo)
	}
	return []string{fmt.Sprintf("esp 0x%08x", espTo), fmt.Sprintf("ike %016x", ikeTo)}, nil
}

// outcomeRe is ipsec-cxtpd's status line of the nAR iked's move
// (ipsecmod.IKEv2Outcome).
var outcomeRe = regexp.MustCompile(`^ikev2 MN (\S+): IKE SA (\S+) moved: round trips (\d+), SPIs updated (\d+), fallback (true|false)(?:: (.*))?$`)

// repairOutcome reads the nAR's Algorithm 1 outcome from ipsec-cxtpd's
// status and the SPIs it changed (the nAR iked's SA with the nCoA against
// the pAR's with the pCoA).
func (s *station) repairOutcome(ctx context.Context, x *report.IKEv2Run, narSock string, parSA ikeddaemon.StatusSA, ncoa netip.Addr) error {
	status := filepath.Join(s.dir, topo.NSNAR, "ipsec-cxtpd.sock")
	var m []string
	var last string
	if !waitFor(ctx, 20*time.Second, 20*time.Millisecond, func() bool {
		out, err := ipsecdaemon.QueryStatus(status)
		if err != nil {
			return false
		}
		last = out
		for _, l := range strings.Split(out, "\n") {
			if m = outcomeRe.FindStringSubmatch(strings.TrimSpace(l)); m != nil && m[1] == ncoa.String() {
				return true
			}
		}
		return false
	}) {
		return fmt.Errorf("no IKEv2 move for %v in the nAR's ipsec-cxtpd status:\n%s", ncoa, last)
	}
	x.RoundTrips, _ = strconv.Atoi(m[3])
	x.Updated, _ = strconv.Atoi(m[4])
	x.Fallback = m[5] == "true"
	x.MoveError = m[6]
	sa, err := ikedSA(narSock, ncoa)
	if err != nil {
		return err
	}
	if old, nw := parSA.Children[0].SPIIn, sa.Children[0].SPIIn; old != nw {
		x.SPIChanges = append(x.SPIChanges, fmt.Sprintf("esp 0x%08x -> 0x%08x", old, nw))
	}
	if old, nw := parSA.LocalSPI(), sa.LocalSPI(); old != nw {
		x.SPIChanges = append(x.SPIChanges, fmt.Sprintf("ike %016x -> %016x", old, nw))
	}
	if x.Fallback || x.MoveError != "" {
		return fmt.Errorf("the nAR's MOBIKE after the transfer: %s", strings.TrimSpace(m[0]))
	}
	return nil
}

// checkNARSAD dumps the nAR's SAD after the repair: MN2's two SAs keep
// their SPIs (the colliding inbound one among them), the MN's two are
// there with the repaired inbound SPI, the colliding SPI is held by MN2's
// SA only, no other SA with the MNs. The listing has no keys.
func (s *station) checkNARSAD(ctx context.Context, x *report.IKEv2Run, parSA ikeddaemon.StatusSA) {
	plan := s.plan
	sas, err := inNetns(topo.NSNAR, func() ([]*pfkey.SAEntry, error) {
		k, err := pfkey.Open()
		if err != nil {
			return nil, err
		}
		defer k.Close()
		return k.SAs(ctx, pfkey.SATypeESP)
	})
	if err != nil {
		x.SADError = "SAD dump: " + err.Error()
		return
	}
	collided := parSA.Children[0].SPIIn
	type pair struct{ src, dst netip.Addr }
	count := map[pair]int{}
	var problems []string
	held := 0
	for _, e := range sas {
		x.SAD = append(x.SAD, fmt.Sprintf("esp 0x%08x %v -> %v reqid %d", e.SPI, e.Src, e.Dst, e.ReqID))
		count[pair{e.Src, e.Dst}]++
		if e.SPI == collided {
			held++
			if e.Src != plan.MN2() || e.Dst != plan.NAR {
				problems = append(problems, fmt.Sprintf("SPI 0x%08x is bound to %v -> %v, not MN2's inbound SA", e.SPI, e.Src, e.Dst))
			}
		}
		if e.Src == plan.NCoA && e.Dst == plan.NAR && e.SPI == collided {
			problems = append(problems, "the MN's inbound SA kept the colliding SPI")
		}
		e.Wipe()
	}
	if held != 1 {
		problems = append(problems, fmt.Sprintf("SPI 0x%08x held by %d SAs, want MN2's only", collided, held))
	}
	for _, p := range []pair{{plan.MN2(), plan.NAR}, {plan.NAR, plan.MN2()}, {plan.NCoA, plan.NAR}, {plan.NAR, plan.NCoA}} {
		if count[p] != 1 {
			problems = append(problems, fmt.Sprintf("%d SAs %v -> %v, want 1", count[p], p.src, p.dst))
		}
	}
	if len(problems) > 0 {
		x.SADError = strings.Join(problems, "; ")
		return
	}
	x.SADOK = true
}

// ikev2Daemons are the IKEv2 daemons of one run.
type ikev2Daemons struct {
	sock   map[string]string // iked: control socket by namespace
	initFn func(ns, conn string) error
	stopFn func(dump bool)
}

// initiate brings up connection conn of the daemon in ns and waits for it.
func (d ikev2Daemons) initiate(ns, conn string) error {
	if d.initFn == nil {
		return fmt.Errorf("no IKEv2 daemon in %s", ns)
	}
	return d.initFn(ns, conn)
}

func (d ikev2Daemons) stop(dump bool, cfg Config) {
	if d.stopFn != nil {
		d.stopFn(dump)
	}
}

// startIkeds starts iked on the MN, the pAR, the nAR (with narConns) and,
// for the collision scenario, MN2.
func (s *station) startIkeds(ctx context.Context, narPeers []string, narConns []topo.IKEv2Conn, mn2 bool) (ikev2Daemons, error) {
	plan := s.plan
	d := ikev2Daemons{sock: map[string]string{}}
	st := []struct {
		ns    string
		peers []string
		conns []topo.IKEv2Conn
	}{
		{topo.NSMN, []string{topo.IDAR}, plan.MNIKEv2Conns()},
		{topo.NSPAR, []string{topo.IDMN}, []topo.IKEv2Conn{plan.ARIKEv2Conn("mn", topo.IDMN, plan.PAR, plan.PCoA)}},
		{topo.NSNAR, narPeers, narConns},
	}
	if mn2 {
		st = append(st, struct {
			ns    string
			peers []string
			conns []topo.IKEv2Conn
		}{topo.NSMN2, []string{topo.IDAR}, []topo.IKEv2Conn{plan.MN2IKEv2Conn()}})
	}
	for _, x := range st {
		sock, err := s.iked(ctx, x.ns, x.peers, x.conns)
		if err != nil {
			return d, err
		}
		d.sock[x.ns] = sock
	}
	d.initFn = func(ns, conn string) error {
		_, err := ikedCtl(d.sock[ns], "initiate", conn)
		return err
	}
	return d, nil
}
