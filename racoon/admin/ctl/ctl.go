// Package ctl is racoonctl(8): the command line over the racoon admin
// socket, a drop-in for ipsec-tools 0.8.2's racoonctl for the commands
// ikectx's racoon implements, plus ikectx's phase-1 export and import.
//
//	racoonctl [-l[l]] [-d] [-s SOCKET] COMMAND ...
//
// Commands (aliases as racoonctl): reload-config (rc), show-schedule (sc),
// show-sa (ss) isakmp|esp|ah|ipsec|internal, get-cert (gc), flush-sa (fs),
// delete-sa (ds), establish-sa (es) [-u identity] [-n remoteconf] [-w],
// vpn-connect (vc), vpn-disconnect (vd), show-event (se), logout-user (lu).
// The output is racoonctl's, byte for byte: the show-sa isakmp table
// (Destination/Cookies/Created, -l adds ST S V E and Phase2, -ll the
// source), SA dumps in setkey -D format (pfkey/setkey's printer, the same
// as libipsec's pfkey_sadump), events as "Phase 2 established : a[500] ->
// b[500]". As racoonctl, a reply with an errno prints nothing and exits 1
// (0 for EEXIST), usage errors go through err(3)-style messages.
//
// Where ikectx differs from racoonctl 0.8.2, on purpose:
//   - selectors with a port, "addr/prefix[port]", work (0.8.2's parser
//     always fails on them);
//   - the family word of delete-sa, establish-sa and get-cert may be left
//     out when the two addresses tell it ("delete-sa isakmp fd00::1
//     fd00::2");
//   - only numeric addresses and numeric or /etc/services ports;
//   - -d hexdumps the request (racoonctl 0.8.2 hands its buffer descriptor,
//     not the buffer, to racoon_hexdump and prints heap memory).
//
// TestAgainstRealRacoonctl compares this racoonctl with ipsec-tools' own,
// 0.8.2 (a binary named by IKECTX_REAL_RACOONCTL=path), over show-sa
// (isakmp with -l/-ll/-lll, esp, ipsec, ah, internal), show-schedule,
// reload-config, flush-sa, delete-sa, establish-sa (-n, -w, EEXIST),
// vpn-disconnect and the usage errors: identical exit status, stdout and
// stderr.
//
// ikectx extensions:
//
//	racoonctl export-ph1 [inet|inet6] LOCAL REMOTE > FILE
//	racoonctl import-ph1 [--local ADDR] [--remote ADDR] < FILE
//
// export-ph1 writes the phase-1 context (keys included, see package admin)
// of the SA between LOCAL and REMOTE to standard output and refuses to
// write it to a terminal; import-ph1 reads one and installs it in the
// daemon, with new addresses if given. Both need root on the daemon side.
package ctl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/pfkey/setkey"
	"github.com/ikectx/ikectx/racoon/admin"
)

// Env is what Main reads and writes; nil fields are the process's.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Loc is the time zone of dates (localtime); nil is time.Local.
	Loc *time.Location
	// Now is the current time of SA dumps; nil is time.Now.
	Now func() time.Time
	// Dialect of the admin structs and PF_KEY dumps; nil is pfkey.Native.
	Dialect *pfkey.Dialect
	// GetPass reads the password of establish-sa -u; nil reads it from
	// the terminal without echo, as getpass(3).
	GetPass func(prompt string) (string, error)
	// IsTerminal reports whether w is a terminal; nil checks stdout with
	// an ioctl.
	IsTerminal func(w io.Writer) bool
	// Ctx bounds the whole run; nil is context.Background.
	Ctx context.Context
}

const prog = "racoonctl"

type runner struct {
	env     *Env
	out     *bufio.Writer
	errw    io.Writer
	d       *pfkey.Dialect
	long    int
	debug   int
	sock    string
	quitEvt int // evt_quit_event
}

// exitError carries an exit status through the command functions.
type exitError struct{ code int }

func (e exitError) Error() string { return "exit " + strconv.Itoa(e.code) }

// errx prints "racoonctl: msg" and exits 1, as errx(3).
func (r *runner) errx(format string, args ...any) error {
	r.out.Flush()
	fmt.Fprintf(r.errw, "%s: %s\n", prog, fmt.Sprintf(format, args...))
	return exitError{1}
}

// errKmpstat is err(1, "kmpstat") with errno e.
func (r *runner) errKmpstat(e syscall.Errno) error {
	return r.errx("kmpstat: %s", strerror(e))
}

// strerror returns the C library's text, which Go's Errno strings follow
// with a lower-case first letter.
func strerror(e syscall.Errno) string {
	s := e.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Main runs racoonctl with args (without the program name) and returns the
// exit status.
func Main(args []string, env *Env) int {
	if env == nil {
		env = &Env{}
	}
	e := *env
	if e.Stdin == nil {
		e.Stdin = os.Stdin
	}
	if e.Stdout == nil {
		e.Stdout = os.Stdout
	}
	if e.Stderr == nil {
		e.Stderr = os.Stderr
	}
	if e.Ctx == nil {
		e.Ctx = context.Background()
	}
	r := &runner{env: &e, out: bufio.NewWriter(e.Stdout), errw: e.Stderr, d: e.Dialect, sock: admin.DefaultSocketPath}
	if r.d == nil {
		r.d = pfkey.Native
	}
	err := r.run(args)
	r.out.Flush()
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		fmt.Fprintf(r.errw, "%s: %v\n", prog, err)
		return 1
	}
	return 0
}

func (r *runner) usage() {
	p := prog
	fmt.Fprintf(r.out, "Usage:\n"+
		"  %s [opts] reload-config\n"+
		"  %s [opts] show-schedule\n"+
		"  %s [opts] show-sa [protocol]\n"+
		"  %s [opts] flush-sa [protocol]\n"+
		"  %s [opts] delete-sa <saopts>\n"+
		"  %s [opts] establish-sa [-u identity] [-n remoteconf] [-w] <saopts>\n"+
		"  %s [opts] vpn-connect [-u identity] vpn_gateway\n"+
		"  %s [opts] vpn-disconnect vpn_gateway\n"+
		"  %s [opts] show-event\n"+
		"  %s [opts] logout-user login\n"+
		"  %s [opts] export-ph1 [<family>] <local> <remote> > file   (ikectx)\n"+
		"  %s [opts] import-ph1 [--local <addr>] [--remote <addr>] < file   (ikectx)\n"+
		"\n"+
		"General options:\n"+
		"  -d\t\tDebug: hexdump admin messages before sending\n"+
		"  -l\t\tIncrease output verbosity (mainly for show-sa)\n"+
		"  -s <socket>\tSpecify adminport socket to use (default: %s)\n"+
		"\n"+
		"Parameter specifications:\n"+
		"    <protocol>: \"isakmp\", \"esp\" or \"ah\".\n"+
		"        In the case of \"show-sa\" or \"flush-sa\", you can use \"ipsec\".\n"+
		"\n"+
		"    <saopts>: \"isakmp\" <family> <src> <dst>\n"+
		"            : {\"esp\",\"ah\"} <family> <src/prefixlen/port> <dst/prefixlen/port>\n"+
		"                              <ul_proto>\n"+
		"    <family>: \"inet\" or \"inet6\"\n"+
		"    <ul_proto>: \"icmp\", \"tcp\", \"udp\", \"gre\" or \"any\"\n"+
		"\n", p, p, p, p, p, p, p, p, p, p, p, p, admin.DefaultSocketPath)
}

// run parses the options as getopt("lds:") with POSIXLY_CORRECT (racoonctl
// sets it on Linux): options stop at the first word that is not one.
func (r *runner) run(args []string) error {
	i := 0
opts:
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		for j := 1; j < len(a); j++ {
			switch c := a[j]; c {
			case 'l':
				r.long++
			case 'd':
				r.debug++
			case 's':
				if j+1 < len(a) {
					r.sock = a[j+1:]
				} else if i+1 < len(args) {
					i++
					r.sock = args[i]
				} else {
					fmt.Fprintf(r.errw, "%s: option requires an argument -- 's'\n", prog)
					r.usage()
					return nil
				}
				continue opts
			default:
				fmt.Fprintf(r.errw, "%s: invalid option -- '%c'\n", prog, c)
				r.usage()
				return nil
			}
		}
	}
	args = args[i:]
	if len(args) == 0 {
		r.usage()
		return nil
	}
	verb, rest := args[0], args[1:]
	switch verb {
	case "export-ph1":
		return r.exportPh1(rest)
	case "import-ph1":
		return r.importPh1(rest)
	}
	req, err := r.combuf(verb, rest)
	if err != nil {
		return err
	}
	return r.exchange(req)
}

var protoWords = []struct {
	p    admin.Proto
	name string
}{
	{admin.ProtoISAKMP, "isakmp"},
	{admin.ProtoIPsec, "ipsec"},
	{admin.ProtoAH, "ah"},
	{admin.ProtoESP, "esp"},
	{admin.ProtoInternal, "internal"},
}

func getProto(s string) (admin.Proto, bool) {
	for _, w := range protoWords {
		if w.name == s {
			return w.p, true
		}
	}
	return 0, false
}

func request(cmd admin.Command, proto admin.Proto, payload []byte) *admin.Request {
	return &admin.Request{Cmd: cmd, Versioned: true, Version: 1, Proto: proto, Payload: payload}
}

// combuf builds the request of a verb, as get_combuf.
func (r *runner) combuf(verb string, av []string) (*admin.Request, error) {
	switch verb {
	case "reload-config", "rc":
		return request(admin.CmdReloadConf, 0, nil), nil
	case "show-schedule", "sc":
		return request(admin.CmdShowSched, 0, nil), nil
	case "show-sa", "ss", "flush-sa", "fs":
		if len(av) != 1 {
			return nil, r.errx("insufficient arguments")
		}
		p, ok := getProto(av[0])
		if !ok {
			return nil, r.errx("unknown protocol %s", av[0])
		}
		cmd := admin.CmdShowSA
		if verb == "flush-sa" || verb == "fs" {
			cmd = admin.CmdFlushSA
		}
		return request(cmd, p, nil), nil
	case "get-cert", "gc":
		x, err := r.getIndex(av)
		if err != nil {
			return nil, err
		}
		return r.withIndexes(admin.CmdGetSACert, admin.ProtoISAKMP, x, nil)
	case "delete-sa", "ds":
		if len(av) < 1 {
			return nil, r.errx("insufficient arguments")
		}
		p, ok := getProto(av[0])
		if !ok {
			return nil, r.errx("unknown protocol %s", av[0])
		}
		switch p {
		case admin.ProtoISAKMP, admin.ProtoAH, admin.ProtoESP:
		default:
			return nil, r.errKmpstat(syscall.EPROTONOSUPPORT)
		}
		x, err := r.getIndex(av[1:])
		if err != nil {
			return nil, err
		}
		return r.withIndexes(admin.CmdDeleteSA, p, x, nil)
	case "establish-sa", "es":
		return r.establish(av)
	case "vpn-connect", "vc":
		return r.vpnConnect(av)
	case "vpn-disconnect", "vd":
		if len(av) < 1 {
			return nil, r.errx("VPN gateway required")
		}
		if len(av) > 1 {
			r.warnx("Extra arguments")
		}
		r.quitEvt = admin.EvtPhase1Down
		p, x, err := r.protoAndIndex([]string{"isakmp", "inet", "0.0.0.0", av[0]})
		if err != nil {
			return nil, err
		}
		return r.withIndexes(admin.CmdDeleteAllSADst, p, x, nil)
	case "show-event", "se":
		r.quitEvt = -1
		if len(av) >= 1 {
			return nil, r.errx("too many arguments")
		}
		return request(admin.CmdShowEvt, 0, nil), nil
	case "logout-user", "lu":
		if len(av) < 1 {
			return nil, r.errx("insufficient arguments")
		}
		if len(av[0]) > 31 {
			return nil, r.errx("bad login (too long?)")
		}
		return request(admin.CmdLogoutUser, 0, append([]byte(av[0]), 0)), nil
	}
	fmt.Fprintf(r.out, "Invalid command [%s]\n", verb)
	return nil, r.errKmpstat(syscall.EINVAL)
}

func (r *runner) warnx(format string, args ...any) {
	r.out.Flush()
	fmt.Fprintf(r.errw, "%s: %s\n", prog, fmt.Sprintf(format, args...))
}

func (r *runner) withIndexes(cmd admin.Command, p admin.Proto, x *admin.Indexes, extra []byte) (*admin.Request, error) {
	b, err := admin.AppendIndexes(r.d, nil, x)
	if err != nil {
		return nil, r.errx("%v", err)
	}
	return request(cmd, p, append(b, extra...)), nil
}

func (r *runner) protoAndIndex(av []string) (admin.Proto, *admin.Indexes, error) {
	if len(av) < 1 {
		return 0, nil, r.errx("insufficient arguments")
	}
	p, ok := getProto(av[0])
	if !ok {
		return 0, nil, r.errx("unknown protocol %s", av[0])
	}
	switch p {
	case admin.ProtoISAKMP, admin.ProtoAH, admin.ProtoESP:
	default:
		return 0, nil, r.errKmpstat(syscall.EPROTONOSUPPORT)
	}
	x, err := r.getIndex(av[1:])
	return p, x, err
}

func (r *runner) establish(av []string) (*admin.Request, error) {
	if len(av) < 1 {
		return nil, r.errx("insufficient arguments")
	}
	var id, key, remoteconf string
	psk, wait := false, false
	if av[0] == "-u" {
		if len(av) < 2 {
			return nil, r.errx("-u require an argument")
		}
		id = av[1]
		get := r.env.GetPass
		if get == nil {
			get = getpass
		}
		var err error
		if key, err = get("Password: "); err != nil {
			return nil, r.errx("getpass() failed: %v", err)
		}
		psk = true
		av = av[2:]
	}
	if len(av) >= 2 && av[0] == "-n" {
		remoteconf = av[1]
		av = av[2:]
	}
	if len(av) >= 1 && av[0] == "-w" {
		wait = true
		av = av[1:]
	}
	p, x, err := r.protoAndIndex(av)
	if err != nil {
		return nil, err
	}
	if wait {
		switch p {
		case admin.ProtoISAKMP:
			// As racoonctl: wait for the mode-config event, which a
			// racoon without mode_cfg (ikectx) never sends.
			r.quitEvt = admin.EvtPhase1ModeCfg
		default:
			r.quitEvt = admin.EvtPhase2Up
		}
	}
	er := &admin.EstablishRequest{Proto: p, Indexes: *x}
	if psk {
		er.IDType = 3 // IDTYPE_USERFQDN
		er.ID = append([]byte(id), 0)
		er.Key = append(admin.Secret(key), 0)
	} else if p == admin.ProtoISAKMP {
		er.RemoteName = remoteconf
	}
	req, err := admin.EstablishRequestMessage(r.d, er)
	er.Key.Wipe()
	if err != nil {
		return nil, r.errx("%v", err)
	}
	return req, nil
}

func (r *runner) vpnConnect(av []string) (*admin.Request, error) {
	if len(av) < 1 {
		return nil, r.errx("insufficient arguments")
	}
	r.quitEvt = admin.EvtPhase1ModeCfg
	var nav []string
	if av[0] == "-u" {
		if len(av) < 2 {
			return nil, r.errx("-u require an argument")
		}
		nav = append(nav, av[0], av[1])
		av = av[2:]
	}
	if len(av) < 1 {
		return nil, r.errx("VPN gateway required")
	}
	if len(av) > 1 {
		r.warnx("Extra arguments")
	}
	dst, err := netip.ParseAddr(av[0])
	if err != nil {
		return nil, r.errx("Cannot resolve destination address")
	}
	// The source address the system would use towards the gateway.
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 4500)))
	if err != nil {
		return nil, r.errx("cannot find source address")
	}
	src := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	c.Close()
	nav = append(nav, "isakmp", "inet", src.String(), av[0])
	return r.establish(nav)
}

// getIndex parses "<family> <src> <dst> [<ul_proto>]" as get_index (the
// family word may be left out, an ikectx leniency).
func (r *runner) getIndex(av []string) (*admin.Indexes, error) {
	if len(av) == 2 || len(av) == 3 {
		if a, _, _, ok := splitIndex(av[0]); ok {
			if ip, err := netip.ParseAddr(a); err == nil {
				fam := "inet"
				if ip.Is6() && !ip.Is4In6() {
					fam = "inet6"
				}
				av = append([]string{fam}, av...)
			}
		}
	}
	if len(av) != 3 && len(av) != 4 {
		return nil, r.errKmpstat(syscall.EINVAL)
	}
	var six bool
	switch av[0] {
	case "inet":
	case "inet6":
		six = true
	default:
		return nil, r.errKmpstat(syscall.EAFNOSUPPORT)
	}
	x := &admin.Indexes{PrefS: 32, PrefD: 32}
	var err error
	if x.Src, x.PrefS, err = r.comIndex(av[1], six); err != nil {
		return nil, err
	}
	if x.Dst, x.PrefD, err = r.comIndex(av[2], six); err != nil {
		return nil, err
	}
	if len(av) == 4 {
		ul, ok := map[string]uint8{"any": 0, "icmp": 1, "tcp": 6, "udp": 17, "gre": 47}[av[3]]
		if !ok {
			return nil, r.errKmpstat(syscall.EINVAL)
		}
		x.ULProto = ul
	}
	return x, nil
}

// splitIndex splits "addr[/prefix][[port]]".
func splitIndex(s string) (addr, pref, port string, ok bool) {
	addr = s
	if i := strings.IndexByte(addr, '['); i >= 0 {
		if !strings.HasSuffix(addr, "]") || i+1 >= len(addr)-1 {
			return "", "", "", false
		}
		port = addr[i+1 : len(addr)-1]
		addr = addr[:i]
	}
	if i := strings.IndexByte(addr, '/'); i >= 0 {
		pref = addr[i+1:]
		addr = addr[:i]
		if pref == "" {
			return "", "", "", false
		}
	}
	return addr, pref, port, true
}

// atoi is C's: leading digits, 0 when there are none.
func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func (r *runner) comIndex(s string, six bool) (netip.AddrPort, uint8, error) {
	name, pref, port, ok := splitIndex(s)
	if !ok {
		return netip.AddrPort{}, 0, r.errKmpstat(syscall.EINVAL)
	}
	portStr := "(null)"
	if port != "" {
		portStr = port
	}
	a, err := netip.ParseAddr(name)
	if err != nil || a.Is6() != six || a.Is4In6() {
		msg := "Name or service not known"
		if err == nil {
			msg = "Address family for hostname not supported"
		}
		fmt.Fprintf(r.out, "%s: %s/%s\n", msg, name, portStr)
		return netip.AddrPort{}, 0, r.errKmpstat(syscall.EINVAL)
	}
	var pn uint16
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			p, lerr := net.LookupPort("tcp", port)
			if lerr != nil {
				fmt.Fprintf(r.out, "%s: %s/%s\n", "Servname not supported for ai_socktype", name, portStr)
				return netip.AddrPort{}, 0, r.errKmpstat(syscall.EINVAL)
			}
			n = uint64(p)
		}
		pn = uint16(n)
	}
	p := uint8(32)
	if pref != "" {
		p = uint8(atoi(pref))
	}
	return netip.AddrPortFrom(a, pn), p, nil
}

// hexdump is racoon_hexdump.
func hexdump(w io.Writer, b []byte) {
	var sb strings.Builder
	for i, c := range b {
		if i != 0 && i%32 == 0 {
			sb.WriteByte('\n')
		}
		if i%4 == 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	sb.WriteByte('\n')
	io.WriteString(w, sb.String())
}

// exchange sends the request and handles the replies, as racoonctl's main.
func (r *runner) exchange(req *admin.Request) error {
	b, err := admin.AppendRequest(r.d, nil, req)
	if err != nil {
		return r.errx("%v", err)
	}
	defer clear(b)
	if r.debug > 0 {
		hexdump(r.out, b)
	}
	c, err := net.Dial("unix", r.sock)
	if err != nil {
		// racoonctl ignores com_init's failure and send(2) on the closed
		// socket fails.
		r.out.Flush()
		fmt.Fprintf(r.errw, "send: %s\n", strerror(syscall.EBADF))
		return exitError{1}
	}
	defer c.Close()
	if ctx := r.env.Ctx; ctx != nil {
		stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	if _, err := c.Write(b); err != nil {
		r.out.Flush()
		fmt.Fprintf(r.errw, "send: %s\n", errText(err))
		return exitError{1}
	}
	for {
		rep, err := r.recv(c)
		if err != nil {
			return err
		}
		if err := r.handle(rep); err != nil {
			return err
		}
		if r.quitEvt == 0 {
			return nil
		}
	}
}

func errText(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		return strerror(en)
	}
	return err.Error()
}

// recv is com_recv: an errno in a reply ends racoonctl with status 1
// (0 for EEXIST) and no message.
func (r *runner) recv(c net.Conn) (*admin.Reply, error) {
	var hdr [admin.HeaderLen]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return nil, exitError{1}
	}
	bo := r.d.ByteOrder
	cmd := bo.Uint16(hdr[2:])
	if e := int16(bo.Uint16(hdr[4:])); e != 0 && cmd&admin.FlagLongReply == 0 {
		if syscall.Errno(e) == syscall.EEXIST {
			return nil, exitError{0}
		}
		return nil, exitError{1}
	}
	n := admin.ReplyLen(r.d, hdr[:])
	if n < admin.HeaderLen || n > admin.MaxReply {
		return nil, exitError{1}
	}
	buf := make([]byte, n)
	copy(buf, hdr[:])
	if _, err := io.ReadFull(c, buf[admin.HeaderLen:]); err != nil {
		r.out.Flush()
		fmt.Fprintf(r.errw, "recv: %s\n", errText(err))
		return nil, exitError{1}
	}
	rep, err := admin.ParseReply(r.d, buf)
	if err != nil {
		return nil, exitError{1}
	}
	return rep, nil
}

// handle is handle_recv.
func (r *runner) handle(rep *admin.Reply) error {
	switch rep.Cmd {
	case admin.CmdShowSched:
		r.printSchedule(rep.Payload)
	case admin.CmdShowEvt:
		if len(rep.Payload) == 0 {
			return nil
		}
		e, err := admin.ParseEvent(r.d, rep.Payload)
		if err != nil {
			return r.errx("Short buffer\n")
		}
		if r.quitEvt <= 0 {
			r.printEvent(e)
		} else if r.quitEvt == int(e.Type) {
			if e.Type == admin.EvtPhase1ModeCfg {
				io.WriteString(r.out, "VPN connexion established\n")
			} else {
				r.printEvent(e)
			}
			r.quitEvt = 0
		}
	case admin.CmdGetSACert:
		r.out.Write(rep.Payload)
	case admin.CmdShowSA:
		switch rep.Proto {
		case admin.ProtoISAKMP:
			r.dumpISAKMP(rep.Payload)
		case admin.ProtoIPsec, admin.ProtoAH, admin.ProtoESP:
			r.dumpSAD(rep.Payload)
		case admin.ProtoInternal:
			// ikectx's racoon answers ENOTSUP, as racoon 0.8.2.
		default:
			fmt.Fprintf(r.out, "Invalid proto [%d]\n", uint16(rep.Proto))
		}
	}
	return nil
}

func (r *runner) loc() *time.Location {
	if r.env.Loc != nil {
		return r.env.Loc
	}
	return time.Local
}

func (r *runner) printSchedule(b []byte) {
	// struct scheddump is not produced by ikectx; print the header as
	// racoonctl would for an empty list.
	if len(b)%40 != 0 {
		fmt.Fprintf(r.out, "invalid length %d\n", len(b))
	}
	io.WriteString(r.out, "index    tick     xtime    created\n")
}

var evtNames = map[uint32]string{
	admin.EvtRacoonQuit:        "Racoon terminated",
	admin.EvtPhase1Up:          "Phase 1 established",
	admin.EvtPhase1Down:        "Phase 1 deleted",
	admin.EvtPhase1NoResponse:  "Phase 1 error: peer not responding",
	admin.EvtPhase1NoProposal:  "Phase 1 error: no proposal chosen",
	admin.EvtPhase1AuthFailed:  "Phase 1 error: authentication failed (bad certificate?)",
	admin.EvtPhase1DPDTimeout:  "Phase 1 error: dead peer detected",
	admin.EvtPhase1ModeCfg:     "Phase 1 mode configuration done",
	admin.EvtPhase1XauthOK:     "Phase 1 Xauth succeeded",
	admin.EvtPhase1XauthFailed: "Phase 1 Xauth failed",
	admin.EvtPhase2NoPhase1:    "Phase 2 error: no suitable phase 1",
	admin.EvtPhase2Up:          "Phase 2 established",
	admin.EvtPhase2Down:        "Phase 2 deleted",
	admin.EvtPhase2NoResponse:  "Phase 2 error: no response",
}

// saddr2str is racoon's: "addr[port]", "anonymous" for AF_UNSPEC.
func saddr2str(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return "anonymous"
	}
	return fmt.Sprintf("%s[%d]", ap.Addr(), ap.Port())
}

func (r *runner) printEvent(e *admin.Event) {
	if n, ok := evtNames[e.Type]; ok {
		fmt.Fprintf(r.out, "%s : ", n)
	} else {
		fmt.Fprintf(r.out, "Event %d: ", e.Type)
	}
	fmt.Fprintf(r.out, "%s -> %s\n", saddr2str(e.Ph1Src), saddr2str(e.Ph1Dst))
}

// fixedAddr is racoonctl's fixed_addr: "addr.port" cut or padded to n
// columns.
func fixedAddr(ap netip.AddrPort, n int) string {
	addr := ap.Addr().String()
	port := strconv.Itoa(int(ap.Port()))
	if !ap.IsValid() {
		// getnameinfo fails on AF_UNSPEC; racoonctl prints what its
		// buffers hold. ikectx never dumps such an SA.
		addr, port = "", "0"
	}
	if n < len(port)+1 {
		return ""
	}
	if max := n - len(port) - 1; len(addr) > max {
		addr = addr[:max]
	}
	s := addr + "." + port
	return s + strings.Repeat(" ", n-len(s))
}

const (
	isakmpHeader1 = "Destination            Cookies                           Created"
	isakmpHeader2 = "Destination            Cookies                           ST S  V E Created             Phase2"
	isakmpHeader3 = "Source                                        Destination                                   Cookies                           ST S  V E Created             Phase2"
)

var estr = []string{"", "B", "M", "U", "A", "I"}

func (r *runner) dumpISAKMP(b []byte) {
	switch r.long {
	case 0:
		fmt.Fprintln(r.out, isakmpHeader1)
	case 1:
		fmt.Fprintln(r.out, isakmpHeader2)
	default:
		fmt.Fprintln(r.out, isakmpHeader3)
	}
	if len(b)%admin.Ph1DumpLen != 0 {
		fmt.Fprintf(r.out, "invalid length %d\n", len(b))
	}
	list, _ := admin.ParsePh1Dumps(r.d, b)
	width := 22
	if r.long >= 2 {
		width = 45
	}
	for _, p := range list {
		var sb strings.Builder
		if r.long >= 2 {
			sb.WriteString(fixedAddr(p.Local, 45) + " ")
		}
		sb.WriteString(fixedAddr(p.Remote, width) + " ")
		fmt.Fprintf(&sb, "%x:%x ", p.Index.I[:], p.Index.R[:])
		if r.long >= 1 {
			side := 'R'
			if p.Side == admin.Initiator {
				side = 'I'
			}
			fmt.Fprintf(&sb, "%2d %c %2x ", p.Status, side, p.Version)
			if int(p.EType) < len(estr) {
				sb.WriteString(estr[p.EType] + " ")
			}
		}
		if !p.Created.IsZero() {
			sb.WriteString(p.Created.In(r.loc()).Format("2006-01-02 15:04:05") + " ")
		} else {
			sb.WriteString(strings.Repeat(" ", 19) + " ")
		}
		if r.long >= 1 {
			fmt.Fprintf(&sb, "%6d ", p.Ph2Cnt)
		}
		sb.WriteByte('\n')
		io.WriteString(r.out, sb.String())
	}
}

// dumpSAD prints a PF_KEY dump as racoonctl: pfkey_sadump per message
// until the one with sequence 0, or the error of the first message.
func (r *runner) dumpSAD(b []byte) {
	msgs, _ := admin.ParseSADump(r.d, b)
	defer func() {
		for _, m := range msgs {
			m.Wipe()
		}
	}()
	if len(msgs) == 0 {
		return
	}
	switch e := syscall.Errno(msgs[0].Errno); e {
	case syscall.ENOENT:
		switch msgs[0].Type {
		case pfkey.MsgDelete, pfkey.MsgGet:
			io.WriteString(r.out, "No entry.\n")
		case pfkey.MsgDump:
			io.WriteString(r.out, "No SAD entries.\n")
		}
	case 0:
		f := &setkey.Formatter{Dialect: r.d, Now: r.env.Now, Loc: r.env.Loc}
		for _, m := range msgs {
			f.FormatSA(r.out, m)
		}
	default:
		fmt.Fprintf(r.out, "%s.\n", strerror(e))
	}
}
