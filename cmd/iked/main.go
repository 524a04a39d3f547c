// Command iked is ikectx's IKEv2 daemon (RFC 7296 with pre-shared keys,
// MOBIKE and the UPDATE_SPI extension).
//
//	iked -c FILE [-f] [--no-kernel] [-s SOCKET]   run the daemon
//	iked -t -c FILE                               check the configuration
//	iked ctl [-s SOCKET] COMMAND [ARGS]           talk to a running iked
//	                                              (status, events, initiate NAME,
//	                                               rekey-child SPI, rekey-ike SPI,
//	                                               create-child SPI, liveness SPI,
//	                                               delete SPI, move SPI LOCAL REMOTE)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/ikectx/ikectx/ikev2/daemon"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "ctl" || args[0] == "status") {
		fs := flag.NewFlagSet("iked ctl", flag.ContinueOnError)
		fs.SetOutput(stderr)
		sock := fs.String("s", daemon.DefaultSocket, "control socket")
		rest := args[1:]
		if args[0] == "status" {
			rest = append(rest, "status")
		}
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			fmt.Fprintln(stderr, "usage: iked ctl [-s SOCKET] COMMAND [ARGS]")
			return 2
		}
		out, err := daemon.Control(*sock, fs.Args()...)
		io.WriteString(stdout, out)
		if err != nil {
			fmt.Fprintf(stderr, "iked: %v\n", err)
			return 1
		}
		return 0
	}
	fs := flag.NewFlagSet("iked", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conf := fs.String("c", "/etc/iked.toml", "configuration file")
	test := fs.Bool("t", false, "check the configuration and exit")
	fg := fs.Bool("f", false, "stay in the foreground, log to stderr")
	noKernel := fs.Bool("no-kernel", false, "negotiate only; keep SAs in memory (hosts without PF_KEY)")
	sock := fs.String("s", "", "control socket (overrides the configuration)")
	verbose := fs.Bool("v", false, "log every exchange")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	_ = fg // iked never daemonizes itself; -f is accepted for racoon habits
	c, err := daemon.LoadConfig(*conf)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *test {
		fmt.Fprintf(stdout, "%s: %d PAD entries, %d connections: configuration OK\n", *conf, len(c.PAD), len(c.Conns))
		return 0
	}
	lg := log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
	logf := func(string, ...any) {}
	if *verbose {
		logf = lg.Printf
	}
	d, err := daemon.New(c, daemon.Options{NoKernel: *noKernel, Logf: logf, Socket: *sock})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lg.Printf("iked: running (%d connections, control %s, kernel %v)", len(c.Conns), c.Socket, !*noKernel)
	if err := d.Run(ctx); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
