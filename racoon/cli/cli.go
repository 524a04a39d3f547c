// Package cli is the command line of ikectx's racoon: the flags of
// racoon(8) from ipsec-tools 0.8.2 plus -t, which checks a configuration
// (and the pre-shared key file it names) and exits, as sshd -t and nginx -t.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"

	"github.com/ikectx/ikectx/racoon/conf"
	"github.com/ikectx/ikectx/racoon/psk"
)

// Options are the parsed command-line flags.
type Options struct {
	ConfigFile string
	Debug      int  // -d, repeatable
	Foreground bool // -F
	Verbose    bool // -v
	LogFile    string
	LogLines   bool // -L: log with file and line (racoon prints source locations)
	BackupSA   bool // -B
	Family     int  // 4 or 6, 0 for both
	Port       int  // -p isakmp port
	NATTPort   int  // -P isakmp-natt port
	Check      bool // -t
	Version    bool // -V
	// ikectx extensions (long options)
	NoKernel   bool   // --no-kernel: negotiate without PF_KEY, SAs in memory only
	PolicyFile string // --policy FILE: setkey spdadd lines as the in-memory SPD (--no-kernel)
	AdminSock  string // --admin-sock PATH: override listen { adminsock }
}

// DefaultConfigFile is where racoon looks without -f.
func DefaultConfigFile() string {
	if runtime.GOOS == "freebsd" {
		return "/usr/local/etc/racoon/racoon.conf"
	}
	return "/etc/racoon/racoon.conf"
}

const usage = "usage: racoon [-46BdFLtvV] [-f (file)] [-l (file)] [-p (port)] [-P (port)]\n" +
	"   -4: IPv4 mode.\n" +
	"   -6: IPv6 mode.\n" +
	"   -B: install SA to the kernel from the file specified by the configuration file.\n" +
	"   -d: debug level, more -d will generate more debug message.\n" +
	"   -F: run in foreground, do not become daemon.\n" +
	"   -f: pathname for configuration file.\n" +
	"   -L: include location in debug messages\n" +
	"   -l: pathname for log file.\n" +
	"   -p: port number for isakmp (default: 500).\n" +
	"   -P: port number for NAT-T (default: 4500).\n" +
	"   -t: check the configuration (and its pre-shared key file) and exit (ikectx).\n" +
	"   -v: be more verbose\n" +
	"   -V: print version and exit\n" +
	"   --no-kernel: negotiate without PF_KEY; SAs are kept in memory and shown by racoonctl (ikectx)\n" +
	"   --policy FILE: with --no-kernel, read the security policies from a setkey(8) file (ikectx)\n" +
	"   --admin-sock PATH: admin socket path instead of the configuration's (ikectx)\n"

// ParseArgs parses racoon's flags getopt-style ("46BdFf:l:LP:p:tvV"):
// flags may be grouped (-Fd) and an argument may follow its flag directly
// (-f/etc/racoon.conf) or as the next word.
func ParseArgs(args []string) (*Options, error) {
	o := &Options{ConfigFile: DefaultConfigFile(), Port: 500, NATTPort: 4500}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) > 2 && a[:2] == "--" {
			name, val, hasVal := a[2:], "", false
			for k := 0; k < len(name); k++ {
				if name[k] == '=' {
					name, val, hasVal = name[:k], name[k+1:], true
					break
				}
			}
			arg := func() (string, error) {
				if hasVal {
					return val, nil
				}
				if i+1 < len(args) {
					i++
					return args[i], nil
				}
				return "", fmt.Errorf("option --%s requires an argument", name)
			}
			var err error
			switch name {
			case "no-kernel":
				o.NoKernel = true
			case "policy":
				o.PolicyFile, err = arg()
			case "admin-sock":
				o.AdminSock, err = arg()
			default:
				err = fmt.Errorf("unknown option --%s", name)
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			optarg := func() (string, error) {
				if j+1 < len(a) {
					v := a[j+1:]
					j = len(a)
					return v, nil
				}
				if i+1 < len(args) {
					i++
					j = len(a)
					return args[i], nil
				}
				return "", fmt.Errorf("option requires an argument -- %c", c)
			}
			switch c {
			case '4':
				o.Family = 4
			case '6':
				o.Family = 6
			case 'B':
				o.BackupSA = true
			case 'd':
				o.Debug++
			case 'F':
				o.Foreground = true
			case 'L':
				o.LogLines = true
			case 't':
				o.Check = true
			case 'v':
				o.Verbose = true
			case 'V':
				o.Version = true
			case 'f', 'l', 'p', 'P':
				v, err := optarg()
				if err != nil {
					return nil, err
				}
				switch c {
				case 'f':
					o.ConfigFile = v
				case 'l':
					o.LogFile = v
				default:
					n, err := strconv.Atoi(v)
					if err != nil || n < 0 || n > 65535 {
						return nil, fmt.Errorf("invalid port number %q for -%c", v, c)
					}
					if c == 'p' {
						o.Port = n
					} else {
						o.NATTPort = n
					}
				}
			default:
				return nil, fmt.Errorf("illegal option -- %c", c)
			}
		}
	}
	if i < len(args) {
		return nil, fmt.Errorf("unexpected argument %q", args[i])
	}
	return o, nil
}

// Version is printed by -V.
const Version = "ikectx racoon (ipsec-tools 0.8.2 compatible configuration)"

// Run executes the command line and returns the exit status.
func Run(args []string, stdout, stderr io.Writer) int {
	o, err := ParseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "racoon: %v\n%s", err, usage)
		return 1
	}
	if o.Version {
		fmt.Fprintln(stdout, Version)
		return 0
	}
	if o.Check {
		return Check(o.ConfigFile, stdout, stderr)
	}
	return runDaemon(o, stderr)
}

// Check parses the configuration at path and the pre-shared key file it
// names (when that file exists), prints warnings and errors to stderr, and
// returns 0 when the configuration can be used.
func Check(path string, stdout, stderr io.Writer) int {
	c, err := conf.ParseFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "racoon: ERROR: %v\n", err)
		return 1
	}
	for _, w := range c.Warnings {
		fmt.Fprintf(stderr, "racoon: WARNING: %s: %s\n", w.Pos, w.Msg)
	}
	status := 0
	if p := c.Path(conf.PathPreSharedKey); p != "" {
		switch _, statErr := os.Stat(p); {
		case errors.Is(statErr, os.ErrNotExist):
			if c.NeedsPSK() {
				fmt.Fprintf(stderr, "racoon: WARNING: pre_shared_key file %s does not exist: every pre-shared-key phase 1 will fail until it does\n", p)
			}
		default:
			f, err := psk.Load(p)
			if err != nil {
				fmt.Fprintf(stderr, "racoon: ERROR: %v\n", err)
				status = 1
				break
			}
			for _, r := range c.Remotes {
				if r.Anonymous || !r.Address.IsValid() || !usesPSK(r) {
					continue
				}
				if _, err := f.LookupMain(r.Address); err != nil {
					fmt.Fprintf(stderr, "racoon: WARNING: %s: remote %s: %v in %s (main mode looks keys up by address)\n", r.Pos, r, err, p)
				}
			}
			f.Wipe()
		}
	} else if c.NeedsPSK() {
		fmt.Fprintf(stderr, "racoon: WARNING: a proposal uses pre_shared_key but no \"path pre_shared_key\" is set\n")
	}
	if status == 0 {
		fmt.Fprintf(stdout, "racoon: configuration %s OK: %s, %d warning(s)\n", path, c.Summary(), len(c.Warnings))
	}
	return status
}

func usesPSK(r *conf.Remote) bool {
	for _, p := range r.Proposals {
		if p.AuthMethod != nil && p.AuthMethod.Name == "pre_shared_key" {
			return true
		}
	}
	return false
}
