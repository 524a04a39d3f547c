//go:build linux

package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"golang.org/x/sys/unix"

	cxtpdaemon "github.com/ikectx/ikectx/cxtp/daemon"
	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/pfkey/setkey"
	"github.com/ikectx/ikectx/racoon/admin"
	"github.com/ikectx/ikectx/testbed/report"
	"github.com/ikectx/ikectx/testbed/topo"
	"github.com/ikectx/ikectx/testbed/traffic"
)

const interval = 50 * time.Millisecond

// Main runs every scenario cfg.Runs times and writes the marker lines.
func Main(ctx context.Context, cfg Config) error {
	if cfg.Runs <= 0 {
		cfg.Runs = 5
	}
	if len(cfg.Scenarios) == 0 {
		cfg.Scenarios = report.Scenarios
	}
	if cfg.Before <= 0 {
		cfg.Before = 1.5
	}
	if cfg.After <= 0 {
		cfg.After = 1
	}
	if cfg.Bin == nil {
		cfg.Bin = func(n string) string { return "/usr/local/bin/" + n }
	}
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	if cfg.Work == "" {
		d, err := os.MkdirTemp("", "testbed-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		cfg.Work = d
	}
	// the first use of randomness can stall in a fresh VM
	if f, err := os.Open("/dev/random"); err == nil {
		f.Read(make([]byte, 16))
		f.Close()
	}
	// every run and pcap goes out twice: once as it ends, again at the end
	var sent []report.Run
	pcaps := map[string][]byte{}
	defer func() {
		for _, r := range sent {
			if r.Pcap != "" {
				WritePcap(cfg.Out, r.Pcap, pcaps[r.Pcap])
			}
			WriteRun(cfg.Out, r)
		}
	}()
	for _, sc := range cfg.Scenarios {
		if why := cannotRun(cfg, sc); why != "" {
			fmt.Fprintf(cfg.Out, "%s%s %s\n", MarkNotRun, sc, why)
			fmt.Fprintf(cfg.Out, "%s%s: not run (%s)\n", MarkProgress, sc, why)
			continue
		}
		for i := 1; i <= cfg.Runs; i++ {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			run := runOnce
			if report.IsIKEv2(sc) {
				run = runIKEv2 // ikev2_linux.go
			}
			r, pcap := run(ctx, cfg, sc, i)
			if len(pcap) > 0 {
				r.Pcap = fmt.Sprintf("%s-%d.pcap", sc, i)
				if err := WritePcap(cfg.Out, r.Pcap, pcap); err != nil {
					return err
				}
			}
			if err := WriteRun(cfg.Out, r); err != nil {
				return err
			}
			sent = append(sent, r)
			if r.Pcap != "" {
				pcaps[r.Pcap] = pcap
			}
			fmt.Fprintf(cfg.Out, "%s%s\n", MarkProgress, progress(r, cfg.Runs))
		}
	}
	return nil
}

func progress(r report.Run, runs int) string {
	if r.Error != "" {
		return fmt.Sprintf("%s run %d/%d: FAILED: %s", r.Scenario, r.Index, runs, r.Error)
	}
	m, b, a, ab := r.Messages()
	s := fmt.Sprintf("%s run %d/%d: set-up delay %.1f ms, %d UDP lost, %d messages %d bytes", r.Scenario, r.Index, runs, r.DelayMS, r.Lost, m, b)
	if a > 0 {
		s += fmt.Sprintf(" [%d ack, %d bytes]", a, ab)
	}
	if r.PathOpenMS > 0 {
		s += fmt.Sprintf(", path open %.1f ms (CTAA at the MN %.1f ms, MN activation %.1f ms, %d datagrams held until it)", r.PathOpenMS, r.CTAAMS, r.MNActivateMS, r.Queued)
	} else {
		s += fmt.Sprintf(", MN SAD/SPD rewrite %.1f ms", r.MNRewriteMS)
	}
	if r.FloorMS > 0 {
		s += fmt.Sprintf(", floor %.1f ms (round trip %.1f ms; between processes %.1f ms), phase 1s on the nAR's racoon %d", r.FloorMS, r.RTTMS, r.ProcRTTMS, r.NARPhase1s)
	}
	if r.Rekey {
		if r.RekeyOK {
			s += fmt.Sprintf(", quick-mode rekey MN<->nAR %.1f ms (%d IKE frames, %d bytes)", r.RekeyMS, r.RekeyFrames, r.RekeyBytes)
		} else {
			s += fmt.Sprintf(", rekey FAILED: %s", r.RekeyError)
		}
	}
	s += ikev2Progress(r)
	if len(r.CPUMS) > 0 {
		s += ", CPU in the set-up window " + report.CPULine(r.CPUMS) + " ms"
	}
	if r.LinkChangeMS > 0 {
		s += fmt.Sprintf(" (link change %.0f ms, %d lost)", r.LinkChangeMS, r.LostLink)
	}
	return s
}

func cannotRun(cfg Config, sc string) string {
	if report.IsIKEv2(sc) {
		return ikev2CannotRun(cfg, sc)
	}
	switch sc {
	case report.Main, report.Aggressive:
		for _, b := range []string{"racoon", "setkey", "udpgen"} {
			if _, err := os.Stat(cfg.Bin(b)); err != nil {
				return b + " is not installed"
			}
		}
		return ""
	case report.Predictive, report.Reactive:
		for _, b := range []string{"racoon", "setkey", "udpgen", "cxtpd"} {
			if _, err := os.Stat(cfg.Bin(b)); err != nil {
				return b + " is not installed"
			}
		}
		if _, err := os.Stat(cfg.Bin("ipsec-cxtpd")); err != nil {
			return "ipsec-cxtpd (the IPsec-CXTP module, issue 5 sections 1-2) is not in the tree yet"
		}
		return ""
	}
	return "unknown scenario"
}

// station runs commands and daemons.
type station struct {
	cfg     Config
	plan    topo.Plan
	dir     string
	mu      sync.Mutex
	procs   []*proc
	cleanup []func()
	// modConf, when set, writes ipsec-cxtpd's configuration (default: the
	// racoon one, topo.Plan.IPsecCxtpd).
	modConf func(dir, shmName string, par bool) string
	// mnMove: the MN's cxtpd moves the MN's SAD/SPD itself ([mobile]
	// move_ipsec; the IKEv1 context transfers, not IKEv2's MOBIKE).
	mnMove bool
	sched  *schedTrace // the run's scheduler trace (table1 --sched)
}

type proc struct {
	name string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	log  string
}

func (s *station) run(ns string, args ...string) error {
	var c *exec.Cmd
	switch {
	case ns == "":
		c = exec.Command(args[0], args[1:]...)
	case args[0] == topo.IP:
		// ip -n is one exec, without netns exec's mount namespace
		c = exec.Command(topo.IP, append([]string{"-n", ns}, args[1:]...)...)
	default:
		c = exec.Command(topo.IP, append([]string{"netns", "exec", ns}, args...)...)
	}
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("[%s] %s: %v: %s", ns, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func (s *station) cmds(cs []topo.Cmd) error {
	for _, c := range cs {
		if err := s.run(c.NS, c.Args...); err != nil {
			return err
		}
	}
	return nil
}

// startCXTP starts ipsec-cxtpd and cxtpd on the ARs and cxtpd (role mn)
// on the MN, and returns the MN's and the nAR's control sockets.
func (s *station) startCXTP(ctx context.Context) (mnCtl, narCtl string, err error) {
	tag := fmt.Sprintf("%d", os.Getpid())
	for _, st := range []struct {
		ns  string
		par bool
	}{{topo.NSPAR, true}, {topo.NSNAR, false}} {
		dir := filepath.Join(s.dir, st.ns)
		shmName := "/tb-" + st.ns + "-" + tag
		shmFile := "/dev/shm" + shmName
		os.Remove(shmFile)
		s.cleanup = append(s.cleanup, func() { os.Remove(shmFile) })
		mod := filepath.Join(dir, "ipsec-cxtpd.toml")
		modText := s.plan.IPsecCxtpd(dir, shmName, filepath.Join(dir, "racoon.sock"), st.par)
		if s.modConf != nil {
			modText = s.modConf(dir, shmName, st.par)
		}
		if err := os.WriteFile(mod, []byte(modText), 0o644); err != nil {
			return "", "", err
		}
		conf := filepath.Join(dir, "cxtpd.toml")
		if err := os.WriteFile(conf, []byte(s.plan.CxtpdAR(dir, shmName, st.par)), 0o644); err != nil {
			return "", "", err
		}
		p, err := s.start("ipsec-cxtpd@"+st.ns, st.ns, s.cfg.Bin("ipsec-cxtpd"), "-c", mod)
		if err != nil {
			return "", "", err
		}
		p.log = ""
		p2, err := s.start("cxtpd@"+st.ns, st.ns, s.cfg.Bin("cxtpd"), "-c", conf)
		if err != nil {
			return "", "", err
		}
		p2.log = filepath.Join(dir, "cxtpd.log")
		if !st.par {
			narCtl = filepath.Join(dir, "cxtpd.sock")
		}
	}
	dir := filepath.Join(s.dir, topo.NSMN)
	conf := filepath.Join(dir, "cxtpd.toml")
	if err := os.WriteFile(conf, []byte(s.plan.CxtpdMN(dir, s.mnMove)), 0o644); err != nil {
		return "", "", err
	}
	p, err := s.start("cxtpd@mn", topo.NSMN, s.cfg.Bin("cxtpd"), "-c", conf)
	if err != nil {
		return "", "", err
	}
	p.log = filepath.Join(dir, "cxtpd.log")
	mnCtl = filepath.Join(dir, "cxtpd.sock")
	for _, ctl := range []string{filepath.Join(s.dir, topo.NSPAR, "cxtpd.sock"), narCtl, mnCtl} {
		ctl := ctl
		if !waitFor(ctx, 30*time.Second, 20*time.Millisecond, func() bool { _, err := cxtpdaemon.Control(ctl, "status"); return err == nil }) {
			return "", "", fmt.Errorf("cxtpd %s never answered", ctl)
		}
	}
	return mnCtl, narCtl, nil
}

// requestTransfer asks, from the MN, for a predictive transfer to the
// nAR (`cxtpd handover ARGS...`: the nAR, and the nCoA when the MN's cxtpd
// moves the MN) and waits until the nAR has stored the context. It
// returns the MN's answer.
func (s *station) requestTransfer(ctx context.Context, mnCtl, narCtl string, args ...string) (string, error) {
	out, err := cxtpdaemon.Control(mnCtl, append([]string{"handover"}, args...)...)
	if err != nil {
		return out, fmt.Errorf("cxtpd handover: %v: %s", err, out)
	}
	if !waitFor(ctx, 30*time.Second, 20*time.Millisecond, func() bool { return counter(narCtl, "contexts stored") >= 1 }) {
		return out, errors.New("the nAR never stored the MN's context")
	}
	return out, nil
}

// counter reads one counter line ("contexts stored 1") of cxtpd's status.
func counter(ctl, name string) int {
	out, err := cxtpdaemon.Control(ctl, "status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, name+" "); ok {
			var n int
			fmt.Sscan(rest, &n)
			return n
		}
	}
	return 0
}

// pingRTT is the average of three ICMPv6 echoes from ns to dst, in ms.
func (s *station) pingRTT(ns string, dst netip.Addr) (float64, error) {
	out, err := exec.Command(topo.IP, "netns", "exec", ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", dst.String()).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("ping %v: %v: %s", dst, err, bytes.TrimSpace(out))
	}
	// busybox: "round-trip min/avg/max = 0.101/0.160/0.230 ms";
	// iputils: "rtt min/avg/max/mdev = 0.101/0.160/0.230/0.050 ms"
	m := regexp.MustCompile(`= [0-9.]+/([0-9.]+)/`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("ping %v: no round-trip line: %s", dst, out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// echoPort is where `udpgen echo` answers on the nAR.
const echoPort = 9001

// processRTT is the median of five MN-nAR round trips between two
// processes: the driver in the MN's namespace and `udpgen echo` on the nAR.
func (s *station) processRTT(ctx context.Context) (time.Duration, error) {
	to := netip.AddrPortFrom(s.plan.NAR, echoPort)
	p, err := s.start("udpgen echo", topo.NSNAR, s.cfg.Bin("udpgen"), "echo", "--listen", to.String())
	if err != nil {
		return 0, err
	}
	defer s.stop(p)
	time.Sleep(200 * time.Millisecond) // listening
	return inNetns(topo.NSMN, func() (time.Duration, error) { return traffic.EchoRTT(ctx, to, 5, 2*time.Second) })
}

// policyAddTime adds the three policies an activation installs (out, in,
// fwd; for an MN address that no traffic uses) through PF_KEY in the
// current namespace, times the adds and removes them: the median of three
// rounds (one round alone varies by a factor of five under emulation).
func policyAddTime(ctx context.Context, plan topo.Plan) (time.Duration, error) {
	k, err := pfkey.Open()
	if err != nil {
		return 0, err
	}
	defer k.Close()
	mn := netip.MustParseAddr("2001:db8:2::f100")
	req := func(src, dst netip.Addr) []pfkey.IPSecRequest {
		return []pfkey.IPSecRequest{{Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelRequire,
			Src: netip.AddrPortFrom(src, 0), Dst: netip.AddrPortFrom(dst, 0)}}
	}
	ha := netip.PrefixFrom(plan.HA, 128)
	m := netip.PrefixFrom(mn, 128)
	ps := []*pfkey.PolicyEntry{
		{Src: ha, Dst: m, Proto: pfkey.ProtoAny, Dir: pfkey.DirOutbound, Type: pfkey.PolicyIPsec, Requests: req(plan.NAR, mn)},
		{Src: m, Dst: ha, Proto: pfkey.ProtoAny, Dir: pfkey.DirInbound, Type: pfkey.PolicyIPsec, Requests: req(mn, plan.NAR)},
		{Src: m, Dst: ha, Proto: pfkey.ProtoAny, Dir: pfkey.DirForward, Type: pfkey.PolicyIPsec, Requests: req(mn, plan.NAR)},
	}
	var rounds []time.Duration
	for range 3 {
		t0 := time.Now()
		for _, p := range ps {
			if err := k.SPDAdd(ctx, p); err != nil {
				return 0, fmt.Errorf("SPDADD %v: %w", p, err)
			}
		}
		rounds = append(rounds, time.Since(t0))
		for _, p := range ps {
			k.SPDDelete(ctx, p)
		}
	}
	slices.Sort(rounds)
	return rounds[1], nil
}

// batch runs ip commands of one namespace in one `ip -n NS -batch -`:
// one exec instead of one per command (each costs tens to hundreds of
// milliseconds under emulation), so the link change is short.
func (s *station) batch(ns string, cs []topo.Cmd) error {
	var b strings.Builder
	for _, c := range cs {
		if c.NS != ns || len(c.Args) == 0 || c.Args[0] != topo.IP {
			return s.cmds(cs)
		}
		b.WriteString(strings.Join(c.Args[1:], " ") + "\n")
	}
	cmd := exec.Command(topo.IP, "-n", ns, "-batch", "-")
	cmd.Stdin = strings.NewReader(b.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("[%s] ip -batch: %v: %s", ns, err, bytes.TrimSpace(out))
	}
	return nil
}

func (s *station) setkey(ns, name, text string) error {
	f := filepath.Join(s.dir, name)
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		return err
	}
	return s.run(ns, s.cfg.Bin("setkey"), "-f", f)
}

func (s *station) start(name, ns string, args ...string) (*proc, error) {
	p := &proc{name: name, out: &bytes.Buffer{}}
	p.cmd = exec.Command(topo.IP, append([]string{"netns", "exec", ns}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

func (s *station) stop(p *proc) {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// pids maps the running processes' ids to their names.
func (s *station) pids() map[int]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]string{}
	for _, p := range s.procs {
		if p.cmd.Process != nil && p.cmd.ProcessState == nil {
			out[p.cmd.Process.Pid] = p.name
		}
	}
	return out
}

func (s *station) stopAll(dump bool) {
	s.mu.Lock()
	ps := append([]*proc(nil), s.procs...)
	s.mu.Unlock()
	for i := len(ps) - 1; i >= 0; i-- {
		s.stop(ps[i])
		if dump {
			fmt.Fprintf(s.cfg.Log, "--- %s output:\n%s\n", ps[i].name, ps[i].out)
			if ps[i].log != "" {
				b, _ := os.ReadFile(ps[i].log)
				fmt.Fprintf(s.cfg.Log, "--- %s log:\n%s\n", ps[i].name, b)
			}
		}
	}
}

func (s *station) racoon(ns, mode string, listen, peers, passive []netip.Addr) (*admin.Client, error) {
	dir := filepath.Join(s.dir, ns)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "psk.txt"), []byte(s.plan.PSKFile(peers)), 0o600); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "racoon.conf")
	if err := os.WriteFile(conf, []byte(s.plan.RacoonConfPassive(dir, mode, listen, peers, passive)), 0o644); err != nil {
		return nil, err
	}
	p, err := s.start("racoon@"+ns, ns, s.cfg.Bin("racoon"), "-F", "-f", conf, "-l", filepath.Join(dir, "racoon.log"))
	if err != nil {
		return nil, err
	}
	p.log = filepath.Join(dir, "racoon.log")
	return &admin.Client{Path: filepath.Join(dir, "racoon.sock")}, nil
}

func waitFor(ctx context.Context, limit time.Duration, step time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(step)
	}
	return true
}

// firstFrom waits for a datagram (not a probe) from src at the HA received
// at or after `after` (Unix ns) and returns its arrival, the sink's kernel
// time stamp. The file is read every 50 ms: the time comes from the record,
// not from when the driver sees it, and reading it more often took the
// CPU the stations share while the set-up delay was being measured.
func firstFrom(ctx context.Context, sinkFile, src string, after int64, limit time.Duration) (int64, bool) {
	var at int64
	ok := waitFor(ctx, limit, 50*time.Millisecond, func() bool {
		for _, rec := range sinkRecords(sinkFile) {
			if rec.Src == src && rec.Recv >= after && !rec.Probe() {
				at = rec.Recv
				return true
			}
		}
		return false
	})
	return at, ok
}

// sinkRecords reads the sink's file so far.
func sinkRecords(path string) []traffic.Record {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	recs, _ := traffic.ReadRecords(f)
	return recs
}

func runOnce(ctx context.Context, cfg Config, sc string, index int) (r report.Run, pcap []byte) {
	r = report.Run{Scenario: sc, Index: index}
	plan := topo.Default()
	plan.AccessDelay, plan.AccessLoss = cfg.Delay, cfg.Loss
	dir := filepath.Join(cfg.Work, fmt.Sprintf("%s-%d", sc, index))
	os.MkdirAll(dir, 0o755)
	s := &station{cfg: cfg, plan: plan, dir: dir}
	failed := true
	defer func() {
		s.stopAll(failed)
		for _, f := range s.cleanup {
			f()
		}
		for _, c := range plan.Teardown() {
			s.run(c.NS, c.Args...)
		}
	}()
	fail := func(format string, a ...any) (report.Run, []byte) {
		r.Error = fmt.Sprintf(format, a...)
		return r, pcap
	}
	for _, c := range plan.Teardown() { // leftovers of an aborted run
		s.run(c.NS, c.Args...)
	}
	if err := s.cmds(plan.Build()); err != nil {
		return fail("topology: %v", err)
	}
	mode := "main"
	if sc == report.Aggressive {
		mode = "aggressive"
	}
	// SPDs: the MN and pAR with the MN at its pCoA; the nAR configured
	// for the MN's nCoA (its racoon answers the MN's phase 1)
	if err := s.setkey(topo.NSMN, "mn.setkey", plan.MNSetkey(plan.PCoA, plan.PAR)); err != nil {
		return fail("%v", err)
	}
	if err := s.setkey(topo.NSPAR, "par.setkey", plan.ARSetkey(plan.PAR, plan.PCoA)); err != nil {
		return fail("%v", err)
	}
	ct := sc == report.Predictive || sc == report.Reactive
	narSPD := plan.ARSetkey(plan.NAR, plan.NCoA)
	if ct {
		// the nAR discards the MN's traffic until the context is active;
		// the AR-AR channel is ESP
		narSPD = plan.NARDiscardSetkey() + plan.ARARSetkey(plan.NARCore, plan.PARCore, false)
		if err := s.setkey(topo.NSPAR, "par-arar.setkey", plan.ARARSetkey(plan.PARCore, plan.NARCore, true)); err != nil {
			return fail("%v", err)
		}
	}
	if err := s.setkey(topo.NSNAR, "nar.setkey", narSPD); err != nil {
		return fail("%v", err)
	}
	var clients []*admin.Client
	// with a context transfer the MN's SA to the nAR comes with the
	// context: its racoon answers the nAR but never initiates to it (nor
	// acts on the ACQUIRE of the datagrams the kernel holds meanwhile)
	var mnPassive []netip.Addr
	if ct {
		mnPassive = []netip.Addr{plan.NAR}
	}
	for _, st := range []struct {
		ns                     string
		listen, peers, passive []netip.Addr
	}{
		{topo.NSMN, []netip.Addr{plan.PCoA, plan.NCoA}, []netip.Addr{plan.PAR, plan.NAR}, mnPassive},
		{topo.NSPAR, []netip.Addr{plan.PAR}, []netip.Addr{plan.PCoA}, nil},
		{topo.NSNAR, []netip.Addr{plan.NAR}, []netip.Addr{plan.NCoA}, nil},
	} {
		cl, err := s.racoon(st.ns, mode, st.listen, st.peers, st.passive)
		if err != nil {
			return fail("%v", err)
		}
		clients = append(clients, cl)
	}
	for i, cl := range clients {
		cl := cl
		if !waitFor(ctx, 60*time.Second, 20*time.Millisecond, func() bool { _, err := cl.Phase1s(ctx); return err == nil }) {
			return fail("racoon %d: admin socket never answered", i)
		}
	}
	var mnCtl, narCtl string
	var probe *net.UDPConn
	if ct {
		var err error
		s.mnMove = true // the MN's cxtpd moves the MN's SAD/SPD itself
		if mnCtl, narCtl, err = s.startCXTP(ctx); err != nil {
			return fail("%v", err)
		}
		// the MN's kernel holds the datagrams that meet its new outbound
		// policy before their SA is in (see ipsecmod.MNPlan); the probe's
		// UDP socket is opened ahead
		if _, err := inNetns(topo.NSMN, func() (struct{}, error) { return struct{}{}, larvalQueue() }); err != nil {
			return fail("MN: %v", err)
		}
		if probe, err = inNetns(topo.NSMN, func() (*net.UDPConn, error) { return net.ListenUDP("udp6", &net.UDPAddr{}) }); err != nil {
			return fail("MN: probe socket: %v", err)
		}
		defer probe.Close()
	}
	sinkFile, _, sender, err := s.startTraffic()
	if err != nil {
		return fail("%v", err)
	}
	// attached to the pAR: wait for the tunnel (the first datagram's
	// ACQUIRE runs IKE with the pAR), then some steady traffic
	pcoa := plan.PCoA.String()
	var tunnelUp time.Time
	if !waitFor(ctx, 90*time.Second, 20*time.Millisecond, func() bool {
		for _, rec := range sinkRecords(sinkFile) {
			if rec.Src == pcoa {
				tunnelUp = time.Now()
				return true
			}
		}
		return false
	}) {
		return fail("the tunnel through the pAR never carried a datagram to the HA")
	}
	time.Sleep(time.Duration(cfg.Before * float64(time.Second)))
	// the pAR's phase 1 with the MN (the one a context transfer moves)
	var parPhase1 admin.Index
	if p1, err := clients[1].Phase1s(ctx); err == nil && len(p1) == 1 {
		parPhase1 = p1[0].Index
	} else if ct {
		return fail("the pAR's racoon holds %d phase 1s (%v), want 1", len(p1), err)
	}
	if sc == report.Predictive {
		// the MN asks the pAR for a predictive transfer to the nAR; it is
		// stored (and pre-installed) on the nAR before the MN moves. The
		// request names the nCoA: the MN's cxtpd prepares the MN's own
		// move then (policies and inbound SA at the new addresses; its
		// outbound SA parked until the CTAA)
		out, err := s.requestTransfer(ctx, mnCtl, narCtl, plan.NAR.String(), plan.NCoA.String())
		if err != nil {
			return fail("%v", err)
		}
		mr, ok, err := cxtpdaemon.ParseMoveReport(out)
		if !ok || err != nil {
			return fail("cxtpd handover: no MN move prepared (%v): %s", err, out)
		}
		r.MNPrepareMS = mr.PrepareMS
	}
	fmt.Fprintf(cfg.Log, "%s run %d: tunnel through the pAR up %.0f ms before the handover\n", sc, index, float64(time.Since(tunnelUp).Milliseconds()))

	// the IKE scenarios' new SPD for the MN, parsed ahead: only the
	// kernel calls count in the delay, as with the context transfer's
	// rewrite
	mnNAR, err := setkey.Parse("mn-nar.setkey", []byte(plan.MNSetkey(plan.NCoA, plan.NAR)), nil)
	if err != nil {
		return fail("%v", err)
	}
	capt, attach, err := s.handover(&r)
	if err != nil {
		return fail("%v", err)
	}
	var activated time.Time
	if ct {
		// context transfer: the CTAR leaves first. The MN's cxtpd moves
		// the MN's own SAD/SPD (the paper's automatic update): prepared
		// already (predictive) or while the CTAR is on its way
		// (reactive); on the CTAA, in the process that received it, its
		// outbound SA is switched in and the datagrams its kernel held
		// leave. The answer carries the move's times.
		out, err := cxtpdaemon.Control(mnCtl, "attach", plan.NAR.String(), plan.NCoA.String())
		if err != nil {
			capt.stop()
			return fail("cxtpd attach: %v: %s", err, out)
		}
		mr, ok, err := cxtpdaemon.ParseMoveReport(out)
		if !ok || err != nil || mr.ActivatedAt.IsZero() {
			capt.stop()
			return fail("cxtpd attach: the MN's move was not activated (%v): %s", err, out)
		}
		if sc == report.Reactive {
			r.MNPrepareMS = mr.PrepareMS
			r.MNRewriteMS = mr.PrepareMS
		}
		r.CTAAMS = float64(mr.CTAAAt.Sub(attach).Microseconds()) / 1000
		activated = mr.ActivatedAt
		r.MNActivateMS = mr.ActivateMS
		r.MNRewriteMS += r.MNActivateMS
		// the probe: one datagram through the tunnel, now open
		buf := traffic.Packet{Seq: traffic.ProbeBit, Sent: time.Now()}.AppendBinary(nil, traffic.HeaderLen)
		if _, err := probe.WriteToUDPAddrPort(buf, netip.AddrPortFrom(plan.HA, plan.SinkPort)); err != nil {
			fmt.Fprintf(cfg.Log, "%s run %d: probe: %v\n", sc, index, err)
		}
	} else {
		// IKE: the MN's SPD now points at the nAR (setkey's statements
		// through PF_KEY in the MN's namespace); the next datagram raises
		// the ACQUIRE
		t0 := time.Now()
		_, err := inNetns(topo.NSMN, func() (struct{}, error) {
			k, err := pfkey.Open()
			if err != nil {
				return struct{}{}, err
			}
			defer k.Close()
			return struct{}{}, setkey.Run(ctx, k, mnNAR, setkey.RunOptions{})
		})
		r.MNRewriteMS = float64(time.Since(t0).Microseconds()) / 1000
		if err != nil {
			capt.stop()
			return fail("MN SPD rewrite: %v", err)
		}
	}
	ncoa := plan.NCoA.String()
	restored, ok := firstFrom(ctx, sinkFile, ncoa, r.Attach, 60*time.Second)
	if !ok {
		pcap = capt.stop()
		return fail("no datagram from the nCoA reached the HA within 60 s")
	}
	r.Restored = restored
	r.DelayMS = float64(restored-r.Attach) / 1e6
	s.stopSched(&r)
	if ct {
		// the floor of a context activation, measured in the same run:
		// one MN-nAR round trip plus the PF_KEY calls that switch a
		// pre-installed context on (the MN's three policies on the nAR)
		rtt, err1 := s.pingRTT(topo.NSMN, plan.NAR)
		act, err2 := inNetns(topo.NSNAR, func() (time.Duration, error) { return policyAddTime(ctx, plan) })
		if err1 == nil && err2 == nil {
			r.RTTMS = rtt
			r.FloorMS = rtt + float64(act.Microseconds())/1000
		} else {
			fmt.Fprintf(cfg.Log, "%s run %d: floor not measured: %v %v\n", sc, index, err1, err2)
		}
		// the same round trip between two processes (what a request and
		// its answer cost on top of the kernel's echo), not in the floor
		if d, err := s.processRTT(ctx); err == nil {
			r.ProcRTTMS = float64(d.Microseconds()) / 1000
		} else {
			fmt.Fprintf(cfg.Log, "%s run %d: round trip between processes: %v\n", sc, index, err)
		}
	}
	time.Sleep(time.Duration(cfg.After * float64(time.Second)))
	if ct {
		// the phase-1 state moved with the context: the nAR's racoon, which
		// negotiated nothing itself, now holds the MN's ISAKMP SA. The nAR
		// imports it after its CTAA (cxtpd's after_ack): the rekey below
		// waits for it (bounded) rather than race it.
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			p1, err := clients[2].Phase1s(ctx)
			if err == nil {
				r.NARPhase1s = len(p1)
			}
			if r.NARPhase1s > 0 || time.Now().After(deadline) {
				break
			}
		}
	}
	pcap = capt.stop()
	if ct {
		// a quick-mode rekey MN<->nAR with the phase 1 imported from the
		// pAR, while the generator still runs
		r.Rekey = true
		if err := s.rekey(ctx, &r, clients[0], clients[2], parPhase1, sinkFile); err != nil {
			r.RekeyError = err.Error()
			fmt.Fprintf(cfg.Log, "%s run %d: rekey: %v\n", sc, index, err)
		}
	}
	s.stop(sender)
	time.Sleep(100 * time.Millisecond)
	for _, rec := range sinkRecords(sinkFile) {
		if !rec.Probe() {
			r.Records = append(r.Records, rec)
			continue
		}
		if open := float64(rec.Recv-r.Attach) / 1e6; ct && rec.Src == ncoa && (r.PathOpenMS == 0 || open < r.PathOpenMS) {
			r.PathOpenMS = open
		}
	}
	if ct {
		// the path opened with the first delivery through it: the probe,
		// or a datagram the MN's kernel held until the activation
		for _, rec := range r.Records {
			if rec.Src == ncoa && rec.Recv >= r.Attach && rec.Sent < activated.UnixNano() {
				r.Queued++
				if open := float64(rec.Recv-r.Attach) / 1e6; r.PathOpenMS == 0 || open < r.PathOpenMS {
					r.PathOpenMS = open
				}
			}
		}
		if r.PathOpenMS == 0 || r.DelayMS < r.PathOpenMS {
			// a datagram sent after the activation got there first
			r.PathOpenMS = r.DelayMS
		}
		r.GridWaitMS = r.DelayMS - r.PathOpenMS
	}
	r.Lost, r.LostLink = LostAround(r.Records, pcoa, ncoa, r.Attach, interval)
	frames, err := report.ReadFrames(bytes.NewReader(pcap))
	if err != nil {
		return fail("reading the capture: %v", err)
	}
	r.Frames = frames
	failed = false
	return r, pcap
}

// rekey starts a quick mode on the nAR's racoon for its outbound policy
// to the MN's nCoA (racoonctl establish-sa esp), which the phase 1
// imported from the pAR carries, and checks it: two new ESP SAs (SPIs not
// held before) between the nCoA and the nAR in each kernel, still exactly
// one ISAKMP SA on the MN's and the nAR's racoon with the cookies of the
// pAR's phase 1 (want), and MN-HA datagrams through the new SAs. The IKE
// frames on the MN's nAR-side interface are counted from a capture of
// their own (the run's capture has stopped).
func (s *station) rekey(ctx context.Context, r *report.Run, mn, nar *admin.Client, want admin.Index, sinkFile string) error {
	plan := s.plan
	old := map[uint32]bool{}
	for _, cl := range []*admin.Client{mn, nar} {
		sas, err := cl.SAs(ctx, admin.ProtoESP)
		if err != nil {
			return fmt.Errorf("show-sa esp: %w", err)
		}
		for _, sa := range sas {
			old[sa.SPI] = true
		}
	}
	pol, err := inNetns(topo.NSNAR, func() (*pfkey.PolicyEntry, error) {
		k, err := pfkey.Open()
		if err != nil {
			return nil, err
		}
		defer k.Close()
		pols, err := k.Policies(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range pols {
			if p.Dir == pfkey.DirOutbound && p.Type == pfkey.PolicyIPsec && p.Dst.Contains(plan.NCoA) {
				return p, nil
			}
		}
		return nil, fmt.Errorf("no outbound policy to the nCoA on the nAR")
	})
	if err != nil {
		return err
	}
	// the new SAs between the nCoA and the nAR in a kernel
	fresh := func(cl *admin.Client) (toMN, fromMN *pfkey.SAEntry) {
		sas, err := cl.SAs(ctx, admin.ProtoESP)
		if err != nil {
			return nil, nil
		}
		for _, sa := range sas {
			if old[sa.SPI] {
				continue
			}
			switch {
			case sa.Src == plan.NCoA && sa.Dst == plan.NAR:
				fromMN = sa
			case sa.Src == plan.NAR && sa.Dst == plan.NCoA:
				toMN = sa
			}
		}
		return toMN, fromMN
	}
	capt, err := startCapture(topo.NSMN, "mn1")
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	t0 := time.Now()
	err = nar.EstablishSA(ctx, &admin.EstablishRequest{Proto: admin.ProtoESP, Indexes: admin.Indexes{
		PrefS: uint8(pol.Src.Bits()), PrefD: uint8(pol.Dst.Bits()), ULProto: 255,
		Src: netip.AddrPortFrom(pol.Src.Addr(), 0), Dst: netip.AddrPortFrom(pol.Dst.Addr(), 0),
	}})
	if err != nil {
		capt.stop()
		return fmt.Errorf("establish-sa esp %v %v on the nAR: %w", pol.Src, pol.Dst, err)
	}
	var mnOut, narIn *pfkey.SAEntry
	ok := waitFor(ctx, 20*time.Second, 5*time.Millisecond, func() bool {
		mt, mf := fresh(mn)
		nt, nf := fresh(nar)
		if mt == nil || mf == nil || nt == nil || nf == nil {
			return false
		}
		mnOut, narIn = mf, nf
		return true
	})
	done := time.Now()
	r.RekeyMS = float64(done.Sub(t0).Microseconds()) / 1000
	time.Sleep(200 * time.Millisecond)
	frames, ferr := report.ReadFrames(bytes.NewReader(capt.stop()))
	for _, f := range frames {
		if f.Kind == report.KindIKE {
			r.RekeyFrames++
			r.RekeyBytes += f.Len
		}
	}
	if !ok {
		return fmt.Errorf("no new ESP SAs between the nCoA and the nAR in both kernels within 20 s (%d IKE frames)", r.RekeyFrames)
	}
	if ferr != nil {
		return fmt.Errorf("reading the rekey capture: %w", ferr)
	}
	if narIn.SPI != mnOut.SPI {
		return fmt.Errorf("the MN's new outbound SA 0x%x is not the nAR's new inbound 0x%x", mnOut.SPI, narIn.SPI)
	}
	for _, st := range []struct {
		name string
		cl   *admin.Client
	}{{"MN", mn}, {"nAR", nar}} {
		p1, err := st.cl.Phase1s(ctx)
		if err != nil {
			return fmt.Errorf("show-sa isakmp on the %s: %w", st.name, err)
		}
		if len(p1) != 1 || p1[0].Index != want {
			var l []string
			for _, p := range p1 {
				l = append(l, fmt.Sprintf("%x/%x", p.Index.I, p.Index.R))
			}
			return fmt.Errorf("the %s's racoon holds phase 1s %v, want only the pAR's %x/%x", st.name, l, want.I, want.R)
		}
	}
	// MN-HA traffic through the new SAs: a datagram from the nCoA at the
	// HA after the rekey, bytes on the MN's new outbound SA and on the
	// nAR's new inbound one
	ncoa := plan.NCoA.String()
	if !waitFor(ctx, 5*time.Second, 20*time.Millisecond, func() bool {
		delivered := false
		for _, rec := range sinkRecords(sinkFile) {
			if rec.Src == ncoa && rec.Recv > done.UnixNano() {
				delivered = true
				break
			}
		}
		_, mo := fresh(mn)
		_, ni := fresh(nar)
		return delivered && mo != nil && ni != nil && mo.Current.Bytes > 0 && ni.Current.Bytes > 0
	}) {
		return fmt.Errorf("no MN-HA datagram through the new SAs (0x%x) within 5 s of the rekey", mnOut.SPI)
	}
	r.RekeyOK = true
	return nil
}

// capture is an AF_PACKET capture of one interface into a pcap.
type capture struct {
	h    *pcapgo.EthernetHandle
	mu   sync.Mutex
	buf  bytes.Buffer
	w    *pcapgo.Writer
	done chan struct{}
}

// startTraffic starts the sink on the HA (records in rx.jsonl of the
// run's directory) and, 100 ms later, the MN's generator towards it; it
// returns the records' file, the sink's address and the generator.
func (s *station) startTraffic() (sinkFile, sinkAddr string, sender *proc, err error) {
	sinkFile = filepath.Join(s.dir, "rx.jsonl")
	sinkAddr = netip.AddrPortFrom(s.plan.HA, s.plan.SinkPort).String()
	if _, err := s.start("udpgen sink", topo.NSHA, s.cfg.Bin("udpgen"), "sink", "--listen", sinkAddr, "--out", sinkFile); err != nil {
		return "", "", nil, err
	}
	time.Sleep(100 * time.Millisecond)
	sender, err = s.start("udpgen send", topo.NSMN, s.cfg.Bin("udpgen"), "send", "--to", sinkAddr, "--interval", interval.String())
	if err != nil {
		return "", "", nil, err
	}
	return sinkFile, sinkAddr, sender, nil
}

// handover captures the MN's nAR-side link (from before it comes up), moves
// the MN from the pAR's link to the nAR's (plan.Handover in one ip -batch)
// and records the link change and the attachment in r.
func (s *station) handover(r *report.Run) (*capture, time.Time, error) {
	capt, err := startCapture(topo.NSMN, "mn1")
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("capture: %w", err)
	}
	s.startSched(r)
	leave := time.Now()
	if err := s.batch(topo.NSMN, s.plan.Handover()); err != nil {
		capt.stop()
		return nil, time.Time{}, fmt.Errorf("handover: %w", err)
	}
	attach := time.Now()
	r.LinkChangeMS = float64(attach.Sub(leave).Microseconds()) / 1000
	r.Attach = attach.UnixNano()
	return capt, attach, nil
}

// startCapture opens an AF_PACKET socket on dev inside namespace ns.
func startCapture(ns, dev string) (*capture, error) {
	h, err := inNetns(ns, func() (*pcapgo.EthernetHandle, error) { return pcapgo.NewEthernetHandle(dev) })
	if err != nil {
		return nil, err
	}
	c := &capture{h: h, done: make(chan struct{})}
	c.w = pcapgo.NewWriter(&c.buf)
	if err := c.w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		h.Close()
		return nil, err
	}
	go func() {
		defer close(c.done)
		for {
			data, ci, err := h.ReadPacketData()
			if err != nil {
				// a socket bound while the link was down reports ENETDOWN
				// once; the link coming up starts the capture
				// (pcapgo formats the errno with %s: match its text)
				if msg := err.Error(); strings.Contains(msg, syscall.ENETDOWN.Error()) ||
					strings.Contains(msg, syscall.EINTR.Error()) || strings.Contains(msg, syscall.EAGAIN.Error()) {
					continue
				}
				return
			}
			c.mu.Lock()
			c.w.WritePacket(ci, data)
			c.mu.Unlock()
		}
	}()
	return c, nil
}

func (c *capture) stop() []byte {
	c.h.Close()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf.Bytes()...)
}

// inNetns runs f on a thread inside the named network namespace.
func inNetns[T any](ns string, f func() (T, error)) (T, error) {
	var zero T
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		return zero, err
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		return zero, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return zero, err
	}
	v, ferr := f()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		panic(err) // the thread must not go back to the pool in the wrong namespace
	}
	return v, ferr
}

// larvalQueue makes the current network namespace's kernel hold the
// packets that meet an IPsec policy whose SA is missing (XFRM's queue)
// instead of dropping them: net.core.xfrm_larval_drop is per namespace.
func larvalQueue() error {
	const f = "/proc/sys/net/core/xfrm_larval_drop"
	if err := os.WriteFile(f, []byte("0\n"), 0o644); err != nil {
		return fmt.Errorf("%s: %w", f, err)
	}
	b, err := os.ReadFile(f)
	if err != nil || strings.TrimSpace(string(b)) != "0" {
		return fmt.Errorf("%s: still %q (%v)", f, bytes.TrimSpace(b), err)
	}
	return nil
}
