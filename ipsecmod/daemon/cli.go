package daemon

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	cxtpdaemon "github.com/ikectx/ikectx/cxtp/daemon"
	"github.com/ikectx/ikectx/ipsecmod"
)

const usage = `usage:
  ipsec-cxtpd [-c FILE]          run the IPsec-CXTP module (with cxtpd)
  ipsec-cxtpd -t [-c FILE]       check the configuration
  ipsec-cxtpd status [-c FILE]   print the running module's state
  ipsec-cxtpd mn-rewrite -old-coa ADDR -new-coa ADDR [-old-ar ADDR -new-ar ADDR]
                                 on the MN: move its SAD/SPD to the new CoA and AR
  ipsec-cxtpd mn-attach -cxtpd SOCK -old-coa ADDR -new-coa ADDR -old-ar ADDR -new-ar ADDR
                                 on the MN, after it moved: CTAR first (through cxtpd's
                                 control socket), its own SAD/SPD move meanwhile, its
                                 SAs to the nAR on the CTAA
`

// DefaultConfig is the configuration file read without -c.
const DefaultConfig = "/etc/ipsec-cxtpd.toml"

// Main is the command line; it returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "", "status":
	case "mn-rewrite":
		return mnRewriteMain(args, stdout, stderr)
	case "mn-attach":
		return mnAttachMain(args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "ipsec-cxtpd: unknown command %q\n%s", cmd, usage)
		return 2
	}
	fs := flag.NewFlagSet("ipsec-cxtpd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	file := fs.String("c", DefaultConfig, "configuration file")
	check := fs.Bool("t", false, "check the configuration and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ipsec-cxtpd: unexpected argument %q\n%s", fs.Arg(0), usage)
		return 2
	}
	c, err := LoadConfig(*file)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *check {
		fmt.Fprintf(stdout, "%s: ok (address %v, shm %s, FPTs %d/%d/%d/%d, sad_lookup %v)\n", *file, c.Module.Address, c.SHM.Name,
			c.Module.FPTs.SA, c.Module.FPTs.SP, c.Module.FPTs.IKEv1, c.Module.FPTs.IKEv2, c.Module.Rule)
		return 0
	}
	if cmd == "status" {
		out, err := QueryStatus(c.Status)
		fmt.Fprint(stdout, out)
		if err != nil {
			fmt.Fprintf(stderr, "ipsec-cxtpd status: %v\n", err)
			return 1
		}
		return 0
	}
	log, closeLog, err := openLog(c)
	if err != nil {
		fmt.Fprintln(stderr, "ipsec-cxtpd:", err)
		return 1
	}
	defer closeLog()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, c, log); err != nil {
		log.Error("ipsec-cxtpd: exit", "err", err)
		fmt.Fprintln(stderr, "ipsec-cxtpd:", err)
		return 1
	}
	return 0
}

func openLog(c *Config) (*slog.Logger, func(), error) {
	var lv slog.Level
	switch c.Log.Level {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	}
	var w io.Writer = os.Stderr
	closeFn := func() {}
	if c.Log.File != "" {
		f, err := os.OpenFile(c.Log.File, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, err
		}
		w, closeFn = f, func() { f.Close() }
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv})), closeFn, nil
}

func mnMoveFlags(fs *flag.FlagSet, mv *ipsecmod.MNMove) {
	addrFlag := func(p *netip.Addr, name, help string) {
		fs.Func(name, help, func(s string) error {
			a, err := netip.ParseAddr(s)
			*p = a
			return err
		})
	}
	addrFlag(&mv.OldCoA, "old-coa", "the MN's care-of address at the previous AR")
	addrFlag(&mv.NewCoA, "new-coa", "the MN's care-of address at the new AR")
	addrFlag(&mv.OldAR, "old-ar", "the previous AR's tunnel endpoint")
	addrFlag(&mv.NewAR, "new-ar", "the new AR's tunnel endpoint")
}

func mnRewriteMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ipsec-cxtpd mn-rewrite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var mv ipsecmod.MNMove
	mnMoveFlags(fs, &mv)
	timeout := fs.Duration("timeout", 10*time.Second, "bound of the whole rewrite")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !mv.OldCoA.IsValid() || !mv.NewCoA.IsValid() || mv.OldAR.IsValid() != mv.NewAR.IsValid() {
		fmt.Fprint(stderr, "ipsec-cxtpd mn-rewrite: -old-coa and -new-coa are required; -old-ar and -new-ar go together\n"+usage)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	start := time.Now()
	res, err := MNRewrite(ctx, mv)
	if err != nil {
		fmt.Fprintln(stderr, "ipsec-cxtpd mn-rewrite:", err)
		return 1
	}
	fmt.Fprintf(stdout, "mn-rewrite: %d SAs and %d policies moved from %v to %v (AR %v -> %v) in %v\n",
		res.SAs, res.Policies, mv.OldCoA, mv.NewCoA, mv.OldAR, mv.NewAR, time.Since(start).Round(time.Microsecond))
	return 0
}

// FormatStatus renders the module's state as text (no key material).
func FormatStatus(st ipsecmod.Status) string {
	var sb strings.Builder
	s := st.Stats
	fmt.Fprintf(&sb, "captured %d pre-installed %d activated %d discarded %d expired %d failed %d collisions %d fallbacks %d released %d\n",
		s.Captured, s.PreInstalled, s.Activated, s.Discarded, s.Expired, s.Failed, s.Collisions, s.Fallbacks, s.Released)
	write := func(title string, es []ipsecmod.EntryStatus) {
		for _, e := range es {
			fmt.Fprintf(&sb, "%s mn %v par %v ncoa %v age %v kinds %s\n", title, e.MN, e.PAR, e.NCoA, e.Age, strings.Join(e.Kinds, ","))
			for _, x := range e.SAs {
				fmt.Fprintf(&sb, "  sa %s\n", x)
			}
			for _, x := range e.Policies {
				fmt.Fprintf(&sb, "  policy %s\n", x)
			}
			for _, x := range e.Collisions {
				fmt.Fprintf(&sb, "  collision %s\n", x)
			}
		}
	}
	write("pending", st.Entries)
	write("live", st.Activated)
	for _, c := range st.Collisions {
		fmt.Fprintf(&sb, "collision %s\n", c)
	}
	for _, c := range st.IKEv2 {
		fmt.Fprintf(&sb, "ikev2 %s\n", c)
	}
	return sb.String()
}

// QueryStatus reads the status text of a running module.
func QueryStatus(path string) (string, error) {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

// serveStatus answers every connection on l with the status text.
func serveStatus(l net.Listener, m *ipsecmod.Module) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, FormatStatus(m.Status()))
		c.Close()
	}
}

// mnAttachMain is the MN's side of an activation after a move: the CTAR
// leaves first (cxtpd's attach, which returns on the CTAA), the MN's own
// SAD/SPD move is prepared meanwhile (ipsecmod.PrepareMN), and its SAs to
// the nAR go in once the CTAA says the context is active (MNPlan.Activate;
// on Linux with net.core.xfrm_larval_drop = 0 the datagrams the kernel
// held meanwhile leave then), before the old entries are removed.
func mnAttachMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ipsec-cxtpd mn-attach", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var mv ipsecmod.MNMove
	mnMoveFlags(fs, &mv)
	ctl := fs.String("cxtpd", "/run/cxtpd.sock", "cxtpd's control socket on the MN")
	timeout := fs.Duration("timeout", 30*time.Second, "bound of the whole activation")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !mv.OldCoA.IsValid() || !mv.NewCoA.IsValid() || !mv.OldAR.IsValid() || !mv.NewAR.IsValid() {
		fmt.Fprint(stderr, "ipsec-cxtpd mn-attach: -old-coa, -new-coa, -old-ar and -new-ar are required\n"+usage)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	m, err := OpenMN()
	if err != nil {
		fmt.Fprintln(stderr, "ipsec-cxtpd mn-attach:", err)
		return 1
	}
	defer m.Close()
	start := time.Now()
	type answer struct {
		out string
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		out, err := cxtpdaemon.Control(*ctl, "attach", mv.NewAR.String(), mv.NewCoA.String())
		ch <- answer{out, err}
	}()
	plan, err := m.Prepare(ctx, mv)
	a := <-ch
	if err != nil {
		fmt.Fprintln(stderr, "ipsec-cxtpd mn-attach:", err)
		return 1
	}
	defer plan.Wipe()
	if a.err != nil {
		fmt.Fprintf(stderr, "ipsec-cxtpd mn-attach: CTAR to %v: %v\n%s", mv.NewAR, a.err, a.out)
		return 1
	}
	ctaa := time.Since(start)
	res, err := m.Activate(ctx, plan)
	if err == nil {
		err = m.Retire(ctx, plan)
	}
	if err != nil {
		fmt.Fprintln(stderr, "ipsec-cxtpd mn-attach:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%smn-attach: CTAA after %v; %d SAs and %d policies moved from %v to %v (AR %v -> %v) in %v\n",
		a.out, ctaa.Round(time.Microsecond), res.SAs, res.Policies, mv.OldCoA, mv.NewCoA, mv.OldAR, mv.NewAR, time.Since(start).Round(time.Microsecond))
	return 0
}
