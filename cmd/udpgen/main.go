// Command udpgen is the paper's UDP traffic generator (section 4.3) and
// its sink.
//
//	udpgen send --to [HA]:9000 [--from ADDR] [--interval 50ms] [--count N] [--duration D] [--size 64] [--first 1]
//	udpgen sink [--listen [::]:9000] [--out FILE] [--duration D]
//	udpgen echo [--listen [::]:9001] [--duration D]
//
// send emits one sequence-numbered, time-stamped datagram per interval (the
// payload format is package testbed/traffic's); a send the kernel refuses
// (no SA yet) uses its sequence number anyway. It prints "sent N errors N
// last N" when done. sink writes one JSON line per arrival: {"seq":..,
// "sent_ns":..,"recv_ns":..,"src":".."} to --out (default stdout). echo
// answers each datagram with itself: the far end of a round trip between
// two processes (the testbed's user-space round trip).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ikectx/ikectx/testbed/traffic"
)

const usage = `usage: udpgen send --to ADDR:PORT [--from ADDR] [--interval 50ms] [--count N] [--duration D] [--size N] [--first N]
       udpgen sink [--listen ADDR:PORT] [--out FILE] [--duration D]
       udpgen echo [--listen ADDR:PORT] [--duration D]`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	switch args[0] {
	case "send":
		return send(ctx, args[1:], stdout, stderr)
	case "sink":
		return sink(ctx, args[1:], stdout, stderr)
	case "echo":
		return echo(ctx, args[1:], stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "udpgen: unknown command %q\n%s\n", args[0], usage)
	return 2
}

func send(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("udpgen send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "destination ADDR:PORT (the HA's sink)")
	from := fs.String("from", "", "source address (default: the kernel's choice, which follows a new care-of address)")
	interval := fs.Duration("interval", 50*time.Millisecond, "time between datagrams")
	rate := fs.Float64("rate", 0, "datagrams per second (overrides --interval)")
	count := fs.Uint64("count", 0, "datagrams to send (0: no limit)")
	dur := fs.Duration("duration", 0, "how long to send (0: no limit)")
	size := fs.Int("size", 64, "payload octets (at least 24)")
	first := fs.Uint64("first", 1, "first sequence number")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := traffic.SendConfig{Interval: *interval, Count: *count, Duration: *dur, Size: *size, FirstSeq: *first}
	if *rate > 0 {
		cfg.Interval = time.Duration(float64(time.Second) / *rate)
	}
	var err error
	if cfg.To, err = netip.ParseAddrPort(*to); err != nil {
		fmt.Fprintf(stderr, "udpgen: --to %q: %v\n", *to, err)
		return 2
	}
	if *from != "" {
		if cfg.From, err = netip.ParseAddr(*from); err != nil {
			fmt.Fprintf(stderr, "udpgen: --from %q: %v\n", *from, err)
			return 2
		}
	}
	st, err := traffic.Send(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "udpgen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "sent %d errors %d last %d\n", st.Sent, st.Errors, st.Last)
	return 0
}

// server holds the flags sink and echo share.
type server struct {
	fs     *flag.FlagSet
	listen *string
	dur    *time.Duration
}

func newServer(name, listen, what string, stderr io.Writer) *server {
	fs := flag.NewFlagSet("udpgen "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &server{fs: fs, listen: fs.String("listen", listen, what),
		dur: fs.Duration("duration", 0, "stop after this long (0: at a signal)")}
}

// parse reads the flags; code is non-zero (2) when they are wrong.
func (s *server) parse(args []string, stderr io.Writer) (ap netip.AddrPort, code int) {
	if err := s.fs.Parse(args); err != nil {
		return ap, 2
	}
	ap, err := netip.ParseAddrPort(*s.listen)
	if err != nil {
		fmt.Fprintf(stderr, "udpgen: --listen %q: %v\n", *s.listen, err)
		return ap, 2
	}
	return ap, 0
}

// serve runs f until ctx ends or --duration passes.
func (s *server) serve(ctx context.Context, stderr io.Writer, f func(context.Context) error) int {
	if *s.dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *s.dur)
		defer cancel()
	}
	if err := f(ctx); err != nil {
		fmt.Fprintf(stderr, "udpgen: %v\n", err)
		return 1
	}
	return 0
}

func sink(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	srv := newServer("sink", "[::]:9000", "address to receive on", stderr)
	out := srv.fs.String("out", "-", "JSON-lines file (- for stdout)")
	ap, code := srv.parse(args, stderr)
	if code != 0 {
		return code
	}
	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintf(stderr, "udpgen: %v\n", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	s, err := traffic.Listen(ap, w)
	if err != nil {
		fmt.Fprintf(stderr, "udpgen: %v\n", err)
		return 1
	}
	return srv.serve(ctx, stderr, s.Serve)
}

func echo(ctx context.Context, args []string, stderr io.Writer) int {
	srv := newServer("echo", "[::]:9001", "address to answer on", stderr)
	ap, code := srv.parse(args, stderr)
	if code != 0 {
		return code
	}
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		fmt.Fprintf(stderr, "udpgen: %v\n", err)
		return 1
	}
	return srv.serve(ctx, stderr, func(ctx context.Context) error { return traffic.Echo(ctx, c) })
}
