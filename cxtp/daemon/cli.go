package daemon

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage:
  cxtpd -c FILE              run (role ar or mn, from the config)
  cxtpd -t -c FILE           check the config and exit (0 if valid)
  cxtpd status -c FILE       print the running daemon's counters
  cxtpd trigger -c FILE MN NAR     AR: predictive transfer of MN's context
  cxtpd cancel  -c FILE MN         AR: cancel it (CTC)
  cxtpd state   -c FILE MN         AR: where MN's context stands
  cxtpd handover -c FILE NAR [NEWADDR]  MN: ask the current AR for a predictive
                             transfer (with move_ipsec and NEWADDR: prepare the MN's move)
  cxtpd attach  -c FILE NAR NEWADDR MN: activate the context at NAR (CTAR; with
                             move_ipsec the MN's own SAD/SPD move is switched on the CTAA)
`

// Main is cxtpd's command line; it returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("cxtpd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	file := fs.String("c", "/etc/cxtpd.toml", "configuration file")
	check := fs.Bool("t", false, "check the configuration and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c, err := LoadConfig(*file)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *check {
		fmt.Fprintf(stdout, "%s: ok (role %s)\n", *file, c.Role)
		return 0
	}
	if cmd != "" {
		out, err := Control(c.Control, append([]string{cmd}, fs.Args()...)...)
		fmt.Fprint(stdout, out)
		if err != nil {
			fmt.Fprintf(stderr, "cxtpd %s: %v\n", cmd, err)
			return 1
		}
		return 0
	}
	log, closer, err := NewLogger(c)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer closer.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, c, log); err != nil {
		log.Error("cxtpd: exit", "err", err)
		fmt.Fprintf(stderr, "cxtpd: %v\n", err)
		return 1
	}
	return 0
}
