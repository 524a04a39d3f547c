// Command setkey manipulates the kernel's IPsec SAD and SPD through
// PF_KEYv2, compatible with setkey(8) of ipsec-tools for the language and
// the usual flags:
//
//	setkey [-nv] [-T linux|freebsd] -c        read commands from stdin
//	setkey [-nv] [-T linux|freebsd] -f FILE   read commands from FILE ("-": stdin)
//	setkey [-Pv] -D                           dump the SAD (-P: the SPD)
//	setkey [-Pv] -F                           flush the SAD (-P: the SPD)
//
// -n checks only: the script is parsed and turned into PF_KEY messages, and
// nothing is sent (no kernel needed). -v prints each message sent and
// received (never key bytes). -T picks the dialect the messages are built
// for with -n (default: this system's). Errors are "file:line:col:
// message"; the exit status is 1 on any error, and nothing is sent from a
// script that does not parse.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/pfkey/setkey"
)

const usage = `usage: setkey [-nv] [-T linux|freebsd] -c
       setkey [-nv] [-T linux|freebsd] -f filename
       setkey [-Pv] -D
       setkey [-Pv] -F
`

type options struct {
	check, verbose, policy, dump, flush, stdin, all bool
	file, dialect                                   string
}

// parseArgs reads setkey's getopt-style flags ("-DP", "-ffile", "-f file").
func parseArgs(args []string) (*options, error) {
	o := &options{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			if i+1 < len(args) {
				return nil, fmt.Errorf("unexpected argument %q", args[i+1])
			}
			break
		}
		if len(a) < 2 || a[0] != '-' {
			return nil, fmt.Errorf("unexpected argument %q", a)
		}
		for j := 1; j < len(a); j++ {
			switch c := a[j]; c {
			case 'n':
				o.check = true
			case 'v':
				o.verbose = true
			case 'P':
				o.policy = true
			case 'D':
				o.dump = true
			case 'F':
				o.flush = true
			case 'c':
				o.stdin = true
			case 'a':
				o.all = true // dead SAs too: the kernels here keep none
			case 'f', 'T':
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						return nil, fmt.Errorf("option -%c needs an argument", c)
					}
					i++
					v = args[i]
				}
				if c == 'f' {
					o.file = v
				} else {
					o.dialect = v
				}
				j = len(a)
			case 'h':
				return nil, errHelp
			default:
				return nil, fmt.Errorf("unknown option -%c", c)
			}
		}
	}
	modes := 0
	for _, b := range []bool{o.dump, o.flush, o.stdin, o.file != ""} {
		if b {
			modes++
		}
	}
	if modes != 1 {
		return nil, errors.New("give exactly one of -c, -f FILE, -D, -F")
	}
	return o, nil
}

var errHelp = errors.New("help")

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		if err != errHelp {
			fmt.Fprintf(stderr, "setkey: %v\n", err)
		}
		fmt.Fprint(stderr, usage)
		if err == errHelp {
			return 0
		}
		return 1
	}
	d := pfkey.Native
	switch o.dialect {
	case "":
	case "linux":
		d = pfkey.Linux
	case "freebsd":
		d = pfkey.FreeBSD
	default:
		fmt.Fprintf(stderr, "setkey: -T %s: want linux or freebsd\n", o.dialect)
		return 1
	}
	if o.dialect != "" && !o.check && d.Name != pfkey.Native.Name {
		fmt.Fprintf(stderr, "setkey: -T %s is only for checking (-n) on this system\n", o.dialect)
		return 1
	}
	ctx := context.Background()

	if o.dump || o.flush {
		if o.check {
			return 0
		}
		k, err := openKernel()
		if err != nil {
			fmt.Fprintf(stderr, "setkey: %v\n", err)
			return 1
		}
		defer k.Close()
		switch {
		case o.dump && o.policy:
			err = setkey.DumpSPD(ctx, k, stdout, nil)
		case o.dump:
			err = setkey.DumpSAD(ctx, k, pfkey.SATypeUnspec, stdout, nil)
		case o.flush && o.policy:
			err = setkey.FlushSPD(ctx, k)
		default:
			err = setkey.FlushSAD(ctx, k)
		}
		if err != nil {
			fmt.Fprintf(stderr, "setkey: %v\n", err)
			return 1
		}
		return 0
	}

	name := o.file
	var src []byte
	if o.stdin || name == "-" {
		name = "stdin"
		src, err = io.ReadAll(stdin)
	} else {
		src, err = os.ReadFile(name)
	}
	if err != nil {
		fmt.Fprintf(stderr, "setkey: %v\n", err)
		return 1
	}
	warn := func(e *setkey.Error) { fmt.Fprintf(stderr, "setkey: %v\n", e) }
	opts := &setkey.Options{Warn: warn}
	sc, err := setkey.Parse(name, src, opts)
	if err != nil {
		fmt.Fprintf(stderr, "setkey: %v\n", err)
		return 1
	}
	defer sc.Wipe()
	if o.check {
		ops, err := setkey.Build(sc, d)
		if err != nil {
			fmt.Fprintf(stderr, "setkey: %v\n", err)
			return 1
		}
		if o.verbose {
			for _, op := range ops {
				b, _ := d.Marshal(op.Msg)
				what := pfkey.Describe(op.Msg)
				if what != "" {
					what = " " + what
				}
				fmt.Fprintf(stdout, "%s:%d: %v%s (%d bytes, %s)\n", name, op.Stmt.Position().Line, op.Msg.Type,
					what, len(b), d.Name)
				clear(b)
				op.Msg.Wipe()
			}
		}
		return 0
	}
	k, err := openKernel()
	if err != nil {
		fmt.Fprintf(stderr, "setkey: %v\n", err)
		return 1
	}
	defer k.Close()
	ro := setkey.RunOptions{Out: stdout}
	if o.verbose {
		ro.Verbose = stdout
	}
	if err := setkey.Run(ctx, k, sc, ro); err != nil {
		var re *setkey.RunError
		if errors.As(err, &re) {
			for _, e := range re.Errs {
				fmt.Fprintf(stderr, "setkey: %v\n", e)
			}
		} else {
			fmt.Fprintf(stderr, "setkey: %v\n", strings.TrimPrefix(err.Error(), "setkey: "))
		}
		return 1
	}
	return 0
}
