// Command testbed runs ikectx's experiments and its kernel lab.
//
//	testbed lab fetch                    download and cache Debian's kernel
//	testbed lab test [--host] [PKG...]   run the TestLab* tests in the lab VM
//	testbed lab pfkey                    lab test ./pfkey ./pfkey/setkey
//	testbed lab demo                     run examples/esp-tunnel/run.sh in the VM
//	testbed lab bench                    PF_KEY vs XFRM install benchmark in the VM
//	testbed lab run [--] CMD...          run a shell command in the VM
//	testbed table1 [--runs N] [--json FILE] [--out DIR]
//	                                     the paper's experiment: Table 1, Figure 4, pcaps
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: testbed lab fetch
       testbed lab test [--host] [--run REGEX] [--timeout D] [--mem MB] [-v] [PKG...]
       testbed lab pfkey [flags]
       testbed lab demo [flags]
       testbed lab bench [flags]
       testbed lab run [flags] [--] CMD...
       testbed table1 [--runs N] [--json FILE] [--out DIR] [--scenarios LIST] [--check] [flags]
       testbed stress [--mns 200] [--rule spi-dst|spi|spi-dst-src] [--seed N] [--lab|--host] [--json FILE] [flags]`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
	switch args[0] {
	case "lab":
		return labMain(ctx, args[1:])
	case "table1":
		return table1Main(ctx, args[1:])
	case "stress":
		return stressMain(ctx, args[1:])
	case "-h", "--help", "help":
		fmt.Println(usage)
		return 0
	}
	fmt.Fprintf(os.Stderr, "testbed: unknown command %q\n%s\n", args[0], usage)
	return 2
}
