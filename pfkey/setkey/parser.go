package setkey

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Options changes how a script is parsed.
type Options struct {
	// Resolve turns a host name into addresses; family is 0 (any), 4 or 6.
	// nil uses the system resolver. Numeric addresses never reach it.
	Resolve func(host string, family int) ([]netip.Addr, error)
	// Warn receives warnings (obsolete options); nil drops them.
	Warn func(*Error)
}

// Parse parses a whole setkey script. file names the script in errors.
// Nothing is sent anywhere: the result is checked and ready for [Build].
func Parse(file string, src []byte, opts *Options) (*Script, error) {
	if opts == nil {
		opts = &Options{}
	}
	p := &parser{lx: newLexer(file, string(src)), opts: opts}
	sc := &Script{File: file}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if t.kind == tEOF {
			return sc, nil
		}
		st, err := p.statement()
		if err != nil {
			return nil, err
		}
		sc.Stmts = append(sc.Stmts, st)
		if _, ok := st.(*ExitStmt); ok {
			return sc, nil
		}
	}
}

type parser struct {
	lx     *lexer
	opts   *Options
	ahead  *token
	family int  // -4 / -6 of the current statement
	numer  bool // -n of the current statement
}

func (p *parser) peek() (token, error) {
	if p.ahead != nil {
		return *p.ahead, nil
	}
	t, err := p.lx.next()
	if err != nil {
		return t, err
	}
	p.ahead = &t
	return t, nil
}

func (p *parser) next() (token, error) {
	if p.ahead != nil {
		t := *p.ahead
		p.ahead = nil
		return t, nil
	}
	return p.lx.next()
}

func (p *parser) warn(pos Pos, format string, args ...any) {
	if p.opts.Warn != nil {
		p.opts.Warn(errorf(pos, format, args...))
	}
}

func unexpected(t token, want string) error {
	if t.kind == tEOF {
		return errorf(t.pos, "unexpected end of file, expected %s (is a ';' missing?)", want)
	}
	return errorf(t.pos, "syntax error: expected %s, found %s", want, t.describe())
}

// expectSemi consumes the ';' that ends a statement.
func (p *parser) expectSemi() error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.kind != tSemi {
		return unexpected(t, "';'")
	}
	return nil
}

func (p *parser) statement() (Stmt, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	p.family, p.numer = 0, false
	if t.kind != tWord {
		return nil, errorf(t.pos, "syntax error: expected a command (add, get, delete, deleteall, flush, dump, spdadd, spdupdate, spddelete, spdflush, spddump), found %s", t.describe())
	}
	switch t.text {
	case "add":
		return p.saStmt(t.pos, CmdAdd)
	case "get":
		return p.saStmt(t.pos, CmdGet)
	case "delete":
		return p.saStmt(t.pos, CmdDelete)
	case "deleteall":
		return p.saStmt(t.pos, CmdDeleteAll)
	case "flush", "dump":
		cmd := CmdFlush
		if t.text == "dump" {
			cmd = CmdDump
		}
		st := &FlushStmt{At: t.pos, Cmd: cmd}
		n, err := p.peek()
		if err != nil {
			return nil, err
		}
		if n.kind != tSemi {
			typ, _, _, err := p.saProto(false)
			if err != nil {
				return nil, err
			}
			st.Type = typ
		}
		return st, p.expectSemi()
	case "spdflush", "spddump":
		cmd := CmdSPDFlush
		if t.text == "spddump" {
			cmd = CmdSPDDump
		}
		return &FlushStmt{At: t.pos, Cmd: cmd}, p.expectSemi()
	case "spdadd":
		return p.spdStmt(t.pos, CmdSPDAdd)
	case "spdupdate":
		return p.spdStmt(t.pos, CmdSPDUpdate)
	case "spddelete":
		return p.spdStmt(t.pos, CmdSPDDelete)
	case "exit", "quit", "bye":
		return &ExitStmt{At: t.pos}, p.expectSemi()
	}
	return nil, errorf(t.pos, "unknown command %q", t.text)
}

// addrOpts reads the -4 / -6 / -n options that may follow a command.
func (p *parser) addrOpts() error {
	for {
		t, err := p.peek()
		if err != nil {
			return err
		}
		if t.kind != tFlag || strings.Trim(t.text[1:], "46n") != "" {
			return nil
		}
		p.next()
		for _, c := range t.text[1:] {
			switch c {
			case '4':
				p.family = 4
			case '6':
				p.family = 6
			case 'n':
				p.numer = true
			}
		}
	}
}

// host resolves an address word (numeric, or a name unless -n).
func (p *parser) host(t token) ([]netip.Addr, error) {
	if t.kind != tWord && t.kind != tNum && t.kind != tHex {
		return nil, unexpected(t, "an address")
	}
	if a, err := netip.ParseAddr(t.text); err == nil {
		a = a.Unmap()
		if p.family == 4 && !a.Is4() || p.family == 6 && !a.Is6() {
			return nil, errorf(t.pos, "address %s is not of the family chosen with -%d", t.text, p.family)
		}
		if a.Zone() != "" {
			if _, err := zoneIndex(a.Zone()); err != nil {
				return nil, errorf(t.pos, "address %s: %v", t.text, err)
			}
		}
		return []netip.Addr{a}, nil
	}
	if p.numer || t.kind != tWord || !isHostname(t.text) {
		return nil, errorf(t.pos, "invalid address %q", t.text)
	}
	resolve := p.opts.Resolve
	if resolve == nil {
		resolve = systemResolve
	}
	addrs, err := resolve(t.text, p.family)
	if err != nil {
		return nil, errorf(t.pos, "cannot resolve %q: %v", t.text, err)
	}
	var out []netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if p.family == 4 && !a.Is4() || p.family == 6 && !a.Is6() {
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, errorf(t.pos, "cannot resolve %q: no address of the wanted family", t.text)
	}
	return out, nil
}

func isHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, c := range []byte(s) {
		if !isAlnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func systemResolve(host string, family int) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nw := "ip"
	if family == 4 {
		nw = "ip4"
	} else if family == 6 {
		nw = "ip6"
	}
	return net.DefaultResolver.LookupNetIP(ctx, nw, host)
}

func zoneIndex(zone string) (uint32, error) {
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, fmt.Errorf("unknown interface %q", zone)
	}
	return uint32(ifi.Index), nil
}

// port reads an optional [any] / [NUM] / [name].
func (p *parser) port() (uint16, bool, error) {
	t, err := p.peek()
	if err != nil || t.kind != tLBrack {
		return 0, false, err
	}
	p.next()
	v, err := p.next()
	if err != nil {
		return 0, false, err
	}
	var port uint16
	switch {
	case v.kind == tWord && v.text == "any":
	case v.kind == tNum:
		n, err := strconv.ParseUint(v.text, 10, 16)
		if err != nil {
			return 0, false, errorf(v.pos, "invalid port %s", v.text)
		}
		port = uint16(n)
	case v.kind == tWord:
		n, ok := lookupService(v.text)
		if !ok {
			return 0, false, errorf(v.pos, "unknown service name %q", v.text)
		}
		port = n
	default:
		return 0, false, unexpected(v, "a port (a number, a service name or any)")
	}
	c, err := p.next()
	if err != nil {
		return 0, false, err
	}
	if c.kind != tRBrack {
		return 0, false, unexpected(c, "']'")
	}
	return port, true, nil
}

// endpoints reads an address, optionally followed by [port].
func (p *parser) endpoints(withPort bool) ([]Endpoint, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	addrs, err := p.host(t)
	if err != nil {
		return nil, err
	}
	var port uint16
	if withPort {
		if port, _, err = p.port(); err != nil {
			return nil, err
		}
	}
	out := make([]Endpoint, len(addrs))
	for i, a := range addrs {
		out[i] = Endpoint{Addr: a, Port: port}
	}
	return out, nil
}

// saProto reads esp, esp-old, ah, ah-old, ipcomp, tcp or esp-udp [addr].
func (p *parser) saProto(allowNATT bool) (SAType, bool, bool, error) {
	t, err := p.next()
	if err != nil {
		return 0, false, false, err
	}
	if t.kind == tWord {
		switch t.text {
		case "esp":
			return SATypeESP, false, false, nil
		case "esp-old":
			return SATypeESP, true, false, nil
		case "ah":
			return SATypeAH, false, false, nil
		case "ah-old":
			return SATypeAH, true, false, nil
		case "ipcomp":
			return SATypeIPComp, false, false, nil
		case "tcp":
			return SATypeTCP, false, false, nil
		case "esp-udp":
			if allowNATT {
				return SATypeESP, false, true, nil
			}
		}
	}
	return 0, false, false, unexpected(t, "an SA protocol (esp, esp-old, ah, ah-old, ipcomp, tcp, esp-udp)")
}

func (p *parser) number(what string, bits int) (uint64, error) {
	t, err := p.next()
	if err != nil {
		return 0, err
	}
	if t.kind != tNum {
		return 0, unexpected(t, what)
	}
	n, err := strconv.ParseUint(t.text, 10, bits)
	if err != nil {
		return 0, errorf(t.pos, "%s %s is out of range", what, t.text)
	}
	return n, nil
}

func (p *parser) saStmt(at Pos, cmd Command) (Stmt, error) {
	st := &SAStmt{At: at, Cmd: cmd}
	if err := p.addrOpts(); err != nil {
		return nil, err
	}
	var err error
	if st.Src, err = p.endpoints(cmd == CmdAdd); err != nil {
		return nil, err
	}
	if st.Dst, err = p.endpoints(cmd == CmdAdd); err != nil {
		return nil, err
	}
	if st.Type, st.Old, st.NATT, err = p.saProto(true); err != nil {
		return nil, err
	}
	if st.NATT {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if t.kind == tWord {
			p.next()
			oa, err := p.host(t)
			if err != nil {
				return nil, err
			}
			st.NATTOA = oa[0]
		}
	}
	if cmd == CmdDeleteAll {
		if err := p.checkPairs(st.Src, st.Dst, at); err != nil {
			return nil, err
		}
		return st, p.expectSemi()
	}
	// SPI
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tNum:
		n, err := strconv.ParseUint(t.text, 10, 32)
		if err != nil {
			return nil, errorf(t.pos, "SPI %s is too big (more than 32 bits)", t.text)
		}
		st.SPI = uint32(n)
	case tHex:
		digits := strings.TrimLeft(t.text[2:], "0")
		n, err := strconv.ParseUint("0"+digits, 16, 32)
		if err != nil || len(digits) > 8 {
			return nil, errorf(t.pos, "SPI %s is too big (more than 32 bits)", t.text)
		}
		st.SPI = uint32(n)
	default:
		return nil, unexpected(t, "an SPI (decimal or 0x hex)")
	}
	if err := p.extensions(st); err != nil {
		return nil, err
	}
	if cmd == CmdAdd {
		if err := p.algorithms(st); err != nil {
			return nil, err
		}
	} else if st.ModeSet {
		p.warn(at, "WARNING: mode is obsolete for %s", cmd)
	}
	if err := p.checkPairs(st.Src, st.Dst, at); err != nil {
		return nil, err
	}
	return st, p.expectSemi()
}

// checkPairs makes sure at least one source/destination pair has one family.
func (p *parser) checkPairs(src, dst []Endpoint, at Pos) error {
	for _, s := range src {
		for _, d := range dst {
			if s.Addr.Is4() == d.Addr.Is4() {
				return nil
			}
		}
	}
	return errorf(at, "source and destination addresses are of different families")
}

func (p *parser) extensions(st *SAStmt) error {
	for {
		t, err := p.peek()
		if err != nil {
			return err
		}
		if t.kind != tFlag {
			return nil
		}
		switch t.text {
		case "-m", "-u", "-f", "-r", "-lh", "-ls", "-bh", "-bs", "-ctx":
		default:
			return nil
		}
		p.next()
		switch t.text {
		case "-m":
			v, err := p.next()
			if err != nil {
				return err
			}
			switch {
			case v.kind == tWord && v.text == "transport":
				st.Mode = ModeTransport
			case v.kind == tWord && v.text == "tunnel":
				st.Mode = ModeTunnel
			case v.kind == tWord && v.text == "any":
				st.Mode = ModeAny
			default:
				return unexpected(v, "a mode (transport, tunnel or any) after -m")
			}
			st.ModeSet = true
		case "-u":
			n, err := p.number("a reqid after -u", 32)
			if err != nil {
				return err
			}
			st.ReqID = uint32(n)
		case "-f":
			v, err := p.next()
			if err != nil {
				return err
			}
			switch {
			case v.kind == tWord && v.text == "random-pad":
				st.Pad = PadRandom
			case v.kind == tWord && v.text == "seq-pad":
				st.Pad = PadSeq
			case v.kind == tWord && v.text == "zero-pad":
				st.Pad = PadZero
			case v.kind == tWord && v.text == "nocyclic-seq":
				st.NoCyclic = true
			default:
				return unexpected(v, "random-pad, seq-pad, zero-pad or nocyclic-seq after -f")
			}
		case "-r":
			if st.Old {
				return errorf(t.pos, "replay prevention cannot be used with ah-old/esp-old")
			}
			n, err := p.number("a replay window size after -r", 8)
			if err != nil {
				return err
			}
			st.Replay = uint8(n)
		case "-lh", "-ls", "-bh", "-bs":
			n, err := p.number("a number after "+t.text, 64)
			if err != nil {
				return err
			}
			switch t.text {
			case "-lh":
				st.HardSeconds = n
			case "-ls":
				st.SoftSeconds = n
			case "-bh":
				st.HardBytes = n
			case "-bs":
				st.SoftBytes = n
			}
		case "-ctx":
			c, err := p.secCtx()
			if err != nil {
				return err
			}
			st.Ctx = c
		}
	}
}

func (p *parser) secCtx() (*SecCtx, error) {
	doi, err := p.number("a DOI after -ctx", 8)
	if err != nil {
		return nil, err
	}
	alg, err := p.number("an algorithm number after -ctx DOI", 8)
	if err != nil {
		return nil, err
	}
	s, err := p.next()
	if err != nil {
		return nil, err
	}
	if s.kind != tQuoted {
		return nil, unexpected(s, "a quoted security context")
	}
	return &SecCtx{DOI: uint8(doi), Alg: uint8(alg), Ctx: s.text}, nil
}

// algorithms reads -E enc [key] [-A auth [key]] | -A auth [key] | -C comp [-R].
func (p *parser) algorithms(st *SAStmt) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.kind != tFlag || (t.text != "-E" && t.text != "-A" && t.text != "-C") {
		return unexpected(t, "an algorithm option (-E, -A or -C) or an SA option")
	}
	switch t.text {
	case "-E":
		if st.Enc, err = p.alg(st, encAlgs, "encryption"); err != nil {
			return err
		}
		n, err := p.peek()
		if err != nil {
			return err
		}
		if n.kind == tFlag && n.text == "-A" {
			p.next()
			if st.Auth, err = p.alg(st, authAlgs, "authentication"); err != nil {
				return err
			}
		}
	case "-A":
		if st.Auth, err = p.alg(st, authAlgs, "authentication"); err != nil {
			return err
		}
	case "-C":
		if st.Comp, err = p.alg(st, compAlgs, "compression"); err != nil {
			return err
		}
		n, err := p.peek()
		if err != nil {
			return err
		}
		if n.kind == tFlag && n.text == "-R" {
			p.next()
			st.RawCPI = true
		}
	}
	// The algorithms must fit the SA protocol.
	switch st.Type {
	case SATypeESP:
		if st.Enc == nil {
			return errorf(t.pos, "an esp SA needs an encryption algorithm (-E); use -E null for authentication only")
		}
	case SATypeAH:
		if st.Enc != nil || st.Comp != nil {
			return errorf(t.pos, "an ah SA takes only an authentication algorithm (-A)")
		}
	case SATypeIPComp:
		if st.Comp == nil {
			return errorf(t.pos, "an ipcomp SA needs a compression algorithm (-C)")
		}
	case SATypeTCP:
		if st.Auth == nil || st.Enc != nil || st.Auth.Name != "tcp-md5" {
			return errorf(t.pos, "a tcp SA takes only -A tcp-md5 KEY")
		}
	}
	if st.Comp != nil && st.Type != SATypeIPComp {
		return errorf(t.pos, "-C is only for ipcomp SAs")
	}
	if st.Auth != nil && st.Auth.Name == "tcp-md5" && st.Type != SATypeTCP {
		return errorf(st.Auth.At, "tcp-md5 is only for tcp SAs")
	}
	return nil
}

func (p *parser) alg(st *SAStmt, table map[string]*algInfo, what string) (*Alg, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind != tWord && t.kind != tNum {
		return nil, unexpected(t, "an "+what+" algorithm name")
	}
	info, ok := table[t.text]
	if !ok {
		return nil, errorf(t.pos, "unknown %s algorithm %q", what, t.text)
	}
	a := &Alg{Name: info.name, At: t.pos}
	switch info.kind {
	case algNoKey:
		return a, nil
	case algOld:
		p.warn(t.pos, "WARNING: obsolete algorithm %s", t.text)
		return a, nil
	case algDesDeriv:
		if st.Old {
			return nil, errorf(t.pos, "algorithm mismatched: %s needs esp, not esp-old", t.text)
		}
		st.Deriv = true
	case algDes32IV:
		if !st.Old {
			return nil, errorf(t.pos, "algorithm mismatched: %s needs esp-old", t.text)
		}
		st.IV4B = true
	}
	k, err := p.next()
	if err != nil {
		return nil, err
	}
	key, err := decodeKey(k)
	if err != nil {
		if k.kind == tEOF || k.kind == tSemi || k.kind == tFlag {
			return nil, errorf(k.pos, "%s algorithm %s needs a key (\"text\" or 0xHEX)", what, t.text)
		}
		return nil, errorf(k.pos, "%v", err)
	}
	if err := info.checkKey(len(key) * 8); err != nil {
		return nil, errorf(k.pos, "%v", err)
	}
	a.Key = key
	return a, nil
}

// selector reads ADDR[/PREFIX][[PORT]] of spdadd/spddelete.
func (p *parser) selector() ([]netip.Addr, int, uint16, Pos, error) {
	t, err := p.next()
	if err != nil {
		return nil, 0, 0, Pos{}, err
	}
	addrs, err := p.host(t)
	if err != nil {
		return nil, 0, 0, t.pos, err
	}
	prefix := -1
	if n, err := p.peek(); err != nil {
		return nil, 0, 0, t.pos, err
	} else if n.kind == tSlash {
		p.next()
		v, err := p.next()
		if err != nil {
			return nil, 0, 0, t.pos, err
		}
		if v.kind != tNum {
			return nil, 0, 0, t.pos, unexpected(v, "a prefix length after '/'")
		}
		n, err := strconv.Atoi(v.text)
		if err != nil || n > addrs[0].BitLen() {
			return nil, 0, 0, t.pos, errorf(v.pos, "invalid prefix length /%s for %s", v.text, t.text)
		}
		prefix = n
	}
	port, _, err := p.port()
	if err != nil {
		return nil, 0, 0, t.pos, err
	}
	return addrs, prefix, port, t.pos, nil
}

func (p *parser) spdStmt(at Pos, cmd Command) (Stmt, error) {
	st := &SPDStmt{At: at, Cmd: cmd}
	if err := p.addrOpts(); err != nil {
		return nil, err
	}
	if t, err := p.peek(); err != nil {
		return nil, err
	} else if t.kind == tWord && t.text == "tagged" && cmd == CmdSPDAdd {
		p.next()
		q, err := p.next()
		if err != nil {
			return nil, err
		}
		if q.kind != tQuoted {
			return nil, unexpected(q, "a quoted tag name")
		}
		if len(q.text) == 0 || len(q.text) >= 64 {
			return nil, errorf(q.pos, "tag name must be 1 to 63 characters")
		}
		st.Tag = q.text
		if err := p.policyFlag(st); err != nil {
			return nil, err
		}
		return st, nil
	}
	srcs, sp, sport, spos, err := p.selector()
	if err != nil {
		return nil, err
	}
	dsts, dp, dport, _, err := p.selector()
	if err != nil {
		return nil, err
	}
	if len(srcs) > 1 || len(dsts) > 1 {
		return nil, errorf(spos, "multiple address specified (a host name resolved to several addresses)")
	}
	if srcs[0].Is4() != dsts[0].Is4() {
		return nil, errorf(spos, "source and destination addresses are of different families")
	}
	st.Src = Selector{Addr: srcs[0], Prefix: sp, Port: sport}
	st.Dst = Selector{Addr: dsts[0], Prefix: dp, Port: dport}
	if st.Src.Prefix < 0 {
		st.Src.Prefix = st.Src.Addr.BitLen()
	}
	if st.Dst.Prefix < 0 {
		st.Dst.Prefix = st.Dst.Addr.BitLen()
	}
	// upper-layer protocol
	u, err := p.next()
	if err != nil {
		return nil, err
	}
	switch {
	case u.kind == tNum:
		n, err := strconv.ParseUint(u.text, 10, 8)
		if err != nil {
			return nil, errorf(u.pos, "invalid upper layer protocol %s (0 to 255)", u.text)
		}
		st.Upper = uint8(n)
	case u.kind == tWord && u.text == "any":
		st.Upper = ULProtoAny
	case u.kind == tWord:
		n, ok := lookupProtocol(u.text)
		if !ok {
			return nil, errorf(u.pos, "invalid upper layer protocol %q", u.text)
		}
		st.Upper = n
	default:
		return nil, unexpected(u, "an upper layer protocol (a name, a number or any)")
	}
	// upper-layer details: icmp type[,code]
	if m, err := p.peek(); err != nil {
		return nil, err
	} else if m.kind == tNum || m.kind == tWord && m.text != "" && strings.Trim(m.text, "0123456789,") == "" {
		p.next()
		if st.Upper != 1 && st.Upper != 58 && st.Upper != 135 {
			return nil, errorf(m.pos, "%q: a type,code spec is only for icmp, icmp6 and mh", m.text)
		}
		typ, code, ok := strings.Cut(m.text, ",")
		if !ok {
			code = "0"
		}
		t1, err1 := strconv.ParseUint(typ, 10, 8)
		t2, err2 := strconv.ParseUint(code, 10, 8)
		if err1 != nil || err2 != nil || strings.Contains(code, ",") {
			return nil, errorf(m.pos, "invalid an upper layer protocol spec %q (type[,code])", m.text)
		}
		st.Src.Port, st.Dst.Port = uint16(t1), uint16(t2)
	}
	if m, err := p.peek(); err != nil {
		return nil, err
	} else if m.kind == tFlag && m.text == "-ctx" {
		p.next()
		if st.Ctx, err = p.secCtx(); err != nil {
			return nil, err
		}
	}
	if err := p.policyFlag(st); err != nil {
		return nil, err
	}
	return st, nil
}

// policyFlag reads "-P policy ;".
func (p *parser) policyFlag(st *SPDStmt) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.kind != tFlag || t.text != "-P" {
		return unexpected(t, "-P and a policy")
	}
	pol, err := p.policy(st.Cmd == CmdSPDDelete)
	if err != nil {
		return err
	}
	st.Policy = *pol
	return nil
}
