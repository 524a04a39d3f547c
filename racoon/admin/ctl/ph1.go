package ctl

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/ikectx/ikectx/racoon/admin"
)

// parseAddrPort reads "addr" or "addr[port]" (racoon's notation) or
// "[v6]:port".
func parseAddrPort(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	addr, port := s, ""
	if i := strings.IndexByte(s, '['); i > 0 && strings.HasSuffix(s, "]") {
		addr, port = s[:i], s[i+1:len(s)-1]
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	var p uint64
	if port != "" {
		if p, err = strconv.ParseUint(port, 10, 16); err != nil {
			return netip.AddrPort{}, fmt.Errorf("bad port in %q", s)
		}
	}
	return netip.AddrPortFrom(a, uint16(p)), nil
}

func (r *runner) client() *admin.Client {
	return &admin.Client{Path: r.sock, Dialect: r.d}
}

// explain turns a reply's errno into a sentence for the extension verbs.
func explain(verb string, err error) error {
	var ee *admin.ErrnoError
	if !errors.As(err, &ee) {
		return fmt.Errorf("%s: %v", verb, err)
	}
	switch syscall.Errno(ee.Errno) {
	case syscall.ENOENT:
		return fmt.Errorf("%s: no such established phase 1", verb)
	case syscall.EPERM:
		return fmt.Errorf("%s: permission denied (the daemon exports and imports keys for root only)", verb)
	case syscall.ENOTSUP:
		return fmt.Errorf("%s: the daemon does not implement it (ikectx's racoon does)", verb)
	case syscall.EEXIST:
		return fmt.Errorf("%s: the daemon already has a phase 1 with these cookies", verb)
	case syscall.EINVAL:
		return fmt.Errorf("%s: the daemon refused the context as malformed", verb)
	}
	return fmt.Errorf("%s: %v", verb, err)
}

func (r *runner) isTerminal(w io.Writer) bool {
	if r.env.IsTerminal != nil {
		return r.env.IsTerminal(w)
	}
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

// exportPh1: export-ph1 [inet|inet6] LOCAL REMOTE > FILE
func (r *runner) exportPh1(av []string) error {
	if len(av) == 3 && (av[0] == "inet" || av[0] == "inet6") {
		av = av[1:]
	}
	if len(av) != 2 {
		return r.errx("usage: export-ph1 [inet|inet6] <local> <remote> > file")
	}
	local, err := parseAddrPort(av[0])
	if err != nil {
		return r.errx("export-ph1: %v", err)
	}
	remote, err := parseAddrPort(av[1])
	if err != nil {
		return r.errx("export-ph1: %v", err)
	}
	if r.isTerminal(r.env.Stdout) {
		return r.errx("export-ph1: refusing to write keys to a terminal; redirect the output to a file")
	}
	pc, err := r.client().ExportPhase1(r.env.Ctx, admin.Selector{Local: local, Remote: remote})
	if err != nil {
		return r.errx("%v", explain("export-ph1", err))
	}
	defer pc.Wipe()
	b, err := pc.MarshalBinary()
	if err != nil {
		return r.errx("export-ph1: %v", err)
	}
	defer clear(b)
	if _, err := r.out.Write(b); err != nil {
		return r.errx("export-ph1: %v", err)
	}
	if err := r.out.Flush(); err != nil {
		return r.errx("export-ph1: %v", err)
	}
	return nil
}

// importPh1: import-ph1 [--local ADDR] [--remote ADDR] < FILE
func (r *runner) importPh1(av []string) error {
	var local, remote netip.AddrPort
	for len(av) > 0 {
		var dst *netip.AddrPort
		name, val, hasVal := strings.Cut(av[0], "=")
		switch name {
		case "--local", "-local":
			dst = &local
		case "--remote", "-remote":
			dst = &remote
		default:
			return r.errx("usage: import-ph1 [--local <addr>] [--remote <addr>] < file")
		}
		if !hasVal {
			if len(av) < 2 {
				return r.errx("import-ph1: %s needs an address", name)
			}
			val, av = av[1], av[1:]
		}
		ap, err := parseAddrPort(val)
		if err != nil {
			return r.errx("import-ph1: %s: %v", name, err)
		}
		*dst = ap
		av = av[1:]
	}
	b, err := io.ReadAll(io.LimitReader(r.env.Stdin, admin.MaxRequest+1))
	defer clear(b)
	if err != nil {
		return r.errx("import-ph1: reading the context: %v", err)
	}
	pc, err := admin.ParsePhase1Context(b)
	if err != nil {
		return r.errx("import-ph1: %v", err)
	}
	defer pc.Wipe()
	if err := r.client().ImportPhase1(r.env.Ctx, pc, local, remote); err != nil {
		return r.errx("%v", explain("import-ph1", err))
	}
	return nil
}
