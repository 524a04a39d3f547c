package conf

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// maxIncludeDepth is MAX_INCLUDE_DEPTH of cftoken.l: at most ten files open
// at once, the main file included.
const maxIncludeDepth = 10

// frame is one file on the include stack.
type frame struct {
	lex      *lexer
	rest     []string // further glob matches of the include that opened this file
	included Pos      // the include statement (zero for the main file)
}

type parser struct {
	cfg   *Config
	stack []*frame
	state lexState
	la    *token
	last  token // the last token taken, for positions at end of file
	// Options
	readFile func(string) ([]byte, error)
	glob     func(string) ([]string, error)
	// remotes by their index, for inherit
	named map[string]*Remote
}

// Options changes how Parse reaches the file system (tests).
type Options struct {
	// ReadFile reads a file; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// Glob expands an include pattern; nil means filepath.Glob.
	Glob func(string) ([]string, error)
}

// ParseFile reads and checks the configuration at path.
func ParseFile(path string) (*Config, error) { return ParseFileOptions(path, Options{}) }

// ParseFileOptions is ParseFile with options.
func ParseFileOptions(path string, o Options) (*Config, error) {
	p := newParser(o)
	src, err := p.readFile(path)
	if err != nil {
		return nil, &Error{Pos: Pos{File: path}, Msg: fmt.Sprintf("could not read configuration file: %v", errText(err))}
	}
	return p.run(path, src)
}

// Parse parses src as the configuration file named name (includes are read
// from the file system).
func Parse(name string, src []byte) (*Config, error) {
	return newParser(Options{}).run(name, src)
}

// ParseOptions is Parse with options.
func ParseOptions(name string, src []byte, o Options) (*Config, error) {
	return newParser(o).run(name, src)
}

func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

func newParser(o Options) *parser {
	p := &parser{cfg: defaultConfig(), named: map[string]*Remote{}}
	p.readFile = o.ReadFile
	if p.readFile == nil {
		p.readFile = os.ReadFile
	}
	p.glob = o.Glob
	if p.glob == nil {
		p.glob = filepath.Glob
	}
	return p
}

func defaultConfig() *Config {
	c := &Config{LogLevel: "notify"}
	c.Padding = Padding{MaxLength: 20, StrictCheck: false, ExclusiveTail: true, Randomize: false, RandomizeLength: false}
	c.Listen.AdminSock = "/var/racoon/racoon.sock"
	c.Listen.AdminMode = 0600
	c.Timer = Timer{Counter: 5, Interval: 10 * time.Second, Persend: 1, Phase1: 15 * time.Second,
		Phase2: 10 * time.Second, NATTKeepalive: 20 * time.Second}
	return c
}

func (p *parser) run(name string, src []byte) (cfg *Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			cfg, err = nil, b.err
		}
	}()
	p.cfg.Files = append(p.cfg.Files, name)
	p.stack = []*frame{{lex: newLexer(name, src)}}
	p.state = sINI
	p.statements()
	p.finish()
	return p.cfg, nil
}

// fetch reads the next token, leaving finished included files.
func (p *parser) fetch() token {
	for {
		top := p.stack[len(p.stack)-1]
		t := top.lex.next(&p.state)
		if t.kind != tEOF || len(p.stack) == 1 {
			return t
		}
		// end of an included file: the next glob match, or back to the includer
		p.stack = p.stack[:len(p.stack)-1]
		if len(top.rest) > 0 {
			p.pushFile(top.rest[0], top.rest[1:], top.included)
		}
	}
}

func (p *parser) peek() token {
	if p.la == nil {
		t := p.fetch()
		p.la = &t
	}
	return *p.la
}

func (p *parser) take() token {
	t := p.peek()
	p.la = nil
	p.last = t
	return t
}

func (p *parser) includeChain() []Pos {
	var inc []Pos
	for i := len(p.stack) - 1; i > 0; i-- {
		inc = append(inc, p.stack[i].included)
	}
	return inc
}

func (p *parser) failAt(pos Pos, format string, args ...any) {
	panic(bailout{&Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Included: p.includeChain()}})
}

func (p *parser) warnAt(pos Pos, format string, args ...any) {
	p.cfg.Warnings = append(p.cfg.Warnings, Warning{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) syntaxError(t token, expected string) {
	p.failAt(t.pos, "syntax error: unexpected %s, expecting %s", t.describe(), expected)
}

func (p *parser) expect(k tokKind, expected string) token {
	t := p.take()
	if t.kind != k {
		p.syntaxError(t, expected)
	}
	return t
}

func (p *parser) eos() { p.expect(tEOS, `";"`) }

func (p *parser) accept(k tokKind) (token, bool) {
	if p.peek().kind == k {
		return p.take(), true
	}
	return token{}, false
}

// statements parses the top level until the end of the main file.
func (p *parser) statements() {
	for {
		t := p.take()
		switch t.kind {
		case tEOF:
			return
		case tPRIVSEP:
			p.privsep(t)
		case tPATH:
			pt := p.expect(tPATHTYPE, "a path type")
			s := p.expect(tQUOTEDSTRING, "a quoted string")
			p.cfg.Paths[pt.num] = s.str
			if PathType(pt.num) == PathBackupSA {
				p.warnAt(t.pos, "path backupsa: ikectx does not implement SA backup files; ignored")
			}
			p.eos()
		case tINCLUDE:
			s := p.expect(tQUOTEDSTRING, "a quoted string")
			p.eos()
			p.include(t.pos, s.str)
		case tPFKEY_BUFFER:
			n := p.expect(tNUMBER, "a number")
			p.cfg.PFKeyBuffer = n.num
			p.eos()
		case tGSS_ID_ENC:
			v := p.expect(tGSS_ID_ENCTYPE, "latin1 or utf-16le")
			p.cfg.GSSIDEnc = v.word
			p.warnAt(t.pos, "gss_id_enc: ikectx does not implement GSS-API authentication; ignored")
			p.eos()
		case tLOGGING:
			v := p.expect(tLOGLEV, "a log level")
			p.cfg.LogLevel = v.word
			p.eos()
		case tPADDING:
			p.padding()
		case tLISTEN:
			p.listen()
		case tLDAPCFG:
			p.ldapcfg(t)
		case tRADCFG:
			p.radcfg(t)
		case tMODECFG:
			p.modecfg(t)
		case tRETRY:
			p.timer()
		case tSAINFO:
			p.sainfo(t)
		case tREMOTE:
			p.remote(t)
		case tCOMPLEX_BUNDLE:
			v := p.expect(tSWITCH, "on or off")
			p.cfg.ComplexBundle = v.num == 1
			if p.cfg.ComplexBundle {
				p.warnAt(t.pos, "complex_bundle on: ikectx does not implement complex bundles; ignored")
			}
			p.eos()
		default:
			p.syntaxError(t, "a statement")
		}
	}
}

// getpathname of localconf.c: a relative name is prefixed by path TYPE.
func (p *parser) pathname(pos Pos, t PathType, name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	base := p.cfg.Paths[t]
	if base == "" {
		p.failAt(pos, "relative file name %q needs a preceding \"path %s\" (racoon would look for \"(null)/%s\")", name, t, name)
	}
	return base + "/" + name
}

func expandTilde(pat string) string {
	if !strings.HasPrefix(pat, "~") {
		return pat
	}
	rest := pat[1:]
	name := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		name, rest = rest[:i], rest[i:]
	} else {
		rest = ""
	}
	var home string
	if name == "" {
		home = os.Getenv("HOME")
	} else if u, err := user.Lookup(name); err == nil {
		home = u.HomeDir
	}
	if home == "" {
		return pat
	}
	return home + rest
}

func (p *parser) include(pos Pos, name string) {
	path := p.pathname(pos, PathInclude, name)
	if len(p.stack) >= maxIncludeDepth {
		p.failAt(pos, "include %q: includes nested too deeply (at most %d files open)", path, maxIncludeDepth)
	}
	matches, err := p.glob(expandTilde(path))
	if err != nil || len(matches) == 0 {
		p.failAt(pos, "include %q: glob found no matches for path", path)
	}
	sort.Strings(matches)
	p.pushFile(matches[0], matches[1:], pos)
}

func (p *parser) pushFile(path string, rest []string, from Pos) {
	src, err := p.readFile(path)
	if err != nil {
		p.failAt(from, "include: failed to open file %s: %s", path, errText(err))
	}
	p.cfg.Files = append(p.cfg.Files, path)
	p.stack = append(p.stack, &frame{lex: newLexer(path, src), rest: rest, included: from})
	p.state = sINI
}

func (p *parser) privsep(kw token) {
	ps := &Privsep{Pos: kw.pos}
	p.cfg.Privsep = ps
	p.warnAt(kw.pos, "privsep: ikectx does not implement privilege separation; the daemon keeps its privileges")
	p.expect(tBOC, `"{"`)
	for {
		t := p.take()
		switch t.kind {
		case tEOC:
			return
		case tUSER, tGROUP:
			v := p.take()
			var s *string
			var id **uint64
			if t.kind == tUSER {
				s, id = &ps.User, &ps.UID
			} else {
				s, id = &ps.Group, &ps.GID
			}
			switch v.kind {
			case tQUOTEDSTRING:
				*s = v.str
				// racoon resolves the names at parse time (getpwnam, getgrnam)
				if t.kind == tUSER {
					if _, err := user.Lookup(v.str); err != nil {
						p.failAt(v.pos, "unknown user %q", v.str)
					}
				} else if _, err := user.LookupGroup(v.str); err != nil {
					p.failAt(v.pos, "unknown group %q", v.str)
				}
			case tNUMBER:
				n := v.num
				*id = &n
			default:
				p.syntaxError(v, "a quoted string or a number")
			}
			p.eos()
		case tCHROOT:
			v := p.expect(tQUOTEDSTRING, "a quoted string")
			ps.Chroot = v.str
			p.eos()
		default:
			p.syntaxError(t, "user, group, chroot or \"}\"")
		}
	}
}

func (p *parser) switchValue() bool {
	return p.expect(tSWITCH, "on or off").num == 1
}

func (p *parser) padding() {
	p.expect(tBOC, `"{"`)
	pd := &p.cfg.Padding
	for {
		t := p.take()
		switch t.kind {
		case tEOC:
			return
		case tPAD_RANDOMIZE:
			pd.Randomize = p.switchValue()
		case tPAD_RANDOMIZELEN:
			pd.RandomizeLength = p.switchValue()
		case tPAD_MAXLEN:
			pd.MaxLength = p.expect(tNUMBER, "a number").num
		case tPAD_STRICT:
			pd.StrictCheck = p.switchValue()
		case tPAD_EXCLTAIL:
			pd.ExclusiveTail = p.switchValue()
		default:
			p.syntaxError(t, "a padding parameter or \"}\"")
		}
		p.eos()
	}
}

// addrPort is ike_addrinfo_port: ADDRSTRING [PORT], port 500 by default.
func (p *parser) addrPort() (netip.Addr, uint16, Pos) {
	a := p.expect(tADDRSTRING, "an address")
	addr := p.parseAddr(a)
	port := uint64(500)
	if t, ok := p.accept(tPORT); ok {
		port = t.num
	}
	if port > 65535 {
		p.failAt(a.pos, "port %d out of range", port)
	}
	return addr, uint16(port), a.pos
}

// parseAddr is str2saddr with AI_NUMERICHOST: no host names.
func (p *parser) parseAddr(t token) netip.Addr {
	a, err := netip.ParseAddr(t.str)
	if err != nil {
		p.failAt(t.pos, "%q is not a numeric IPv4 or IPv6 address (racoon resolves no host names here)", t.str)
	}
	return a
}

func (p *parser) listen() {
	p.expect(tBOC, `"{"`)
	l := &p.cfg.Listen
	for {
		t := p.take()
		switch t.kind {
		case tEOC:
			return
		case tX_ISAKMP, tX_ISAKMP_NATT:
			a, port, pos := p.addrPort()
			natt := t.kind == tX_ISAKMP_NATT
			l.ISAKMP = append(l.ISAKMP, ListenAddr{Addr: a, Port: port, NATT: natt, Pos: pos})
		case tADMINSOCK:
			v := p.take()
			switch v.kind {
			case tDISABLED:
				l.AdminDisabled = true
			case tQUOTEDSTRING:
				l.AdminSock = v.str
				if o, ok := p.accept(tQUOTEDSTRING); ok {
					g := p.expect(tQUOTEDSTRING, "a quoted group name")
					m := p.expect(tNUMBER, "a mode")
					l.AdminOwner, l.AdminGroup = o.str, g.str
					mode, err := adminMode(m.num)
					if err != "" {
						p.failAt(m.pos, "%s", err)
					}
					l.AdminMode = mode
				}
			default:
				p.syntaxError(v, "a quoted path or disabled")
			}
		case tSTRICT_ADDRESS:
			l.StrictAddress = true
		case tX_ADMIN:
			p.syntaxError(t, "isakmp, isakmp_natt, adminsock, strict_address or \"}\"")
		default:
			p.syntaxError(t, "isakmp, isakmp_natt, adminsock, strict_address or \"}\"")
		}
		p.eos()
	}
}

// adminMode reproduces adminsock_conf of cfparse.y: the decimal digits of
// the NUMBER are read as octal digits, and the "1" (execute) bit of each digit
// sets the write bit, as the original does.
func adminMode(dec uint64) (uint32, string) {
	var mode uint32
	for _, d := range []struct {
		unit, max uint64
		r, w      uint32
	}{{100, 777, 0400, 0200}, {10, 77, 040, 020}, {1, 7, 04, 02}} {
		if dec > d.max {
			return 0, fmt.Sprintf("Mode 0%03o is invalid", dec)
		}
		if dec >= 4*d.unit {
			mode += d.r
			dec -= 4 * d.unit
		}
		if dec >= 2*d.unit {
			mode += d.w
			dec -= 2 * d.unit
		}
		if dec >= d.unit {
			mode += d.w // sic: the execute digit sets the write bit
			dec -= d.unit
		}
	}
	return mode, ""
}

func (p *parser) radcfg(kw token) {
	p.cfg.RADIUSCfg = &Block{Pos: kw.pos}
	p.warnAt(kw.pos, "radiuscfg: ikectx does not implement RADIUS (XAuth); ignored")
	p.expect(tBOC, `"{"`)
	for {
		t := p.take()
		switch t.kind {
		case tEOC:
			return
		case tRAD_AUTH, tRAD_ACCT:
			p.expect(tQUOTEDSTRING, "a quoted host")
			if _, ok := p.accept(tNUMBER); ok {
				p.expect(tQUOTEDSTRING, "a quoted secret")
			} else {
				p.expect(tQUOTEDSTRING, "a port number or a quoted secret")
			}
		case tRAD_TIMEOUT, tRAD_RETRIES:
			p.expect(tNUMBER, "a number")
		default:
			p.syntaxError(t, "auth, acct, timeout, retries or \"}\"")
		}
		p.eos()
	}
}

func (p *parser) ldapcfg(kw token) {
	p.cfg.LDAPCfg = &Block{Pos: kw.pos}
	p.warnAt(kw.pos, "ldapcfg: ikectx does not implement LDAP (XAuth); ignored")
	p.expect(tBOC, `"{"`)
	for {
		t := p.take()
		switch t.kind {
		case tEOC:
			return
		case tLDAP_PVER:
			v := p.expect(tNUMBER, "a number")
			if v.num < 2 || v.num > 3 {
				p.failAt(v.pos, "invalid ldap protocol version (2|3)")
			}
		case tLDAP_PORT:
			p.expect(tNUMBER, "a number")
		case tLDAP_SUBTREE:
			p.switchValue()
		case tLDAP_HOST, tLDAP_BASE, tLDAP_BIND_DN, tLDAP_BIND_PW, tLDAP_ATTR_USER, tLDAP_ATTR_ADDR,
			tLDAP_ATTR_MASK, tLDAP_ATTR_GROUP, tLDAP_ATTR_MEMBER:
			p.expect(tQUOTEDSTRING, "a quoted string")
		default:
			p.syntaxError(t, "an ldapcfg parameter or \"}\"")
		}
		p.eos()
	}
}

func (p *parser) ipv4(t token, what string) {
	a, err := netip.ParseAddr(t.str)
	if err != nil || !a.Is4() {
		p.failAt(t.pos, "bad IPv4 %s address %q", what, t.str)
	}
}

func (p *parser) modecfg(kw token) {
	p.cfg.ModeCfg = &Block{Pos: kw.pos}
	p.warnAt(kw.pos, "mode_cfg: ikectx does not implement ISAKMP mode config; ignored")
	p.expect(tBOC, `"{"`)
	for {
		t := p.take()
		switch t.kind {
		case tEOC:
			return
		case tCFG_NET4:
			p.ipv4(p.expect(tADDRSTRING, "an IPv4 address"), "network")
		case tCFG_MASK4:
			p.ipv4(p.expect(tADDRSTRING, "an IPv4 netmask"), "netmask")
		case tCFG_DNS4, tCFG_NBNS4:
			for {
				p.ipv4(p.expect(tADDRSTRING, "an IPv4 address"), "server")
				if _, ok := p.accept(tCOMMA); !ok {
					break
				}
			}
		case tCFG_SPLIT_NETWORK:
			v := p.take()
			if v.kind != tCFG_SPLIT_LOCAL && v.kind != tCFG_SPLIT_INCLUDE {
				p.syntaxError(v, "local_lan or include")
			}
			for {
				p.ipv4(p.expect(tADDRSTRING, "an IPv4 network"), "split network")
				p.expect(tPREFIX, "a /prefix")
				if _, ok := p.accept(tCOMMA); !ok {
					break
				}
			}
		case tCFG_SPLIT_DNS, tCFG_AUTH_GROUPS:
			for {
				p.expect(tQUOTEDSTRING, "a quoted string")
				if _, ok := p.accept(tCOMMA); !ok {
					break
				}
			}
		case tCFG_DEFAULT_DOMAIN, tCFG_MOTD:
			p.expect(tQUOTEDSTRING, "a quoted string")
		case tCFG_AUTH_SOURCE:
			p.oneOf("system, radius, pam or ldap", tCFG_SYSTEM, tCFG_RADIUS, tCFG_PAM, tCFG_LDAP)
		case tCFG_GROUP_SOURCE:
			p.oneOf("system or ldap", tCFG_SYSTEM, tCFG_LDAP)
		case tCFG_ACCOUNTING:
			p.oneOf("none, system, radius or pam", tCFG_NONE, tCFG_SYSTEM, tCFG_RADIUS, tCFG_PAM)
		case tCFG_CONF_SOURCE:
			p.oneOf("local, radius or ldap", tCFG_LOCAL, tCFG_RADIUS, tCFG_LDAP)
		case tCFG_POOL_SIZE, tCFG_PFS_GROUP, tCFG_AUTH_THROTTLE:
			p.expect(tNUMBER, "a number")
		case tCFG_SAVE_PASSWD:
			p.switchValue()
		default:
			p.syntaxError(t, "a mode_cfg parameter or \"}\"")
		}
		p.eos()
	}
}

func (p *parser) oneOf(expected string, kinds ...tokKind) token {
	t := p.take()
	for _, k := range kinds {
		if t.kind == k {
			return t
		}
	}
	p.syntaxError(t, expected)
	return t
}

// duration multiplies NUMBER by a unit the way racoon does, saturating
// instead of wrapping.
func duration(n, unit uint64) time.Duration {
	if n != 0 && unit > uint64(math.MaxInt64/int64(time.Second))/n {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(n*unit) * time.Second
}

func (p *parser) timeUnit() uint64 {
	t := p.take()
	switch t.kind {
	case tUNITTYPE_SEC, tUNITTYPE_MIN, tUNITTYPE_HOUR:
		return t.num
	}
	p.syntaxError(t, "a time unit (sec, min, hour)")
	return 0
}

func (p *parser) byteUnit() {
	t := p.take()
	switch t.kind {
	case tUNITTYPE_BYTE, tUNITTYPE_KBYTES, tUNITTYPE_MBYTES, tUNITTYPE_TBYTES:
		return
	}
	p.syntaxError(t, "a byte unit (B, KB, MB, TB)")
}

func (p *parser) timer() {
	p.expect(tBOC, `"{"`)
	tm := &p.cfg.Timer
	for {
		t := p.take()
		switch t.kind {
		case tEOC:
			return
		case tRETRY_COUNTER:
			tm.Counter = p.expect(tNUMBER, "a number").num
		case tRETRY_PERSEND:
			tm.Persend = p.expect(tNUMBER, "a number").num
		case tRETRY_INTERVAL, tRETRY_PHASE1, tRETRY_PHASE2, tNATT_KA:
			n := p.expect(tNUMBER, "a number").num
			d := duration(n, p.timeUnit())
			switch t.kind {
			case tRETRY_INTERVAL:
				tm.Interval = d
			case tRETRY_PHASE1:
				tm.Phase1 = d
			case tRETRY_PHASE2:
				tm.Phase2 = d
			default:
				tm.NATTKeepalive = d
				p.warnAt(t.pos, "natt_keepalive: ikectx does not send NAT-T keepalives; ignored")
			}
		default:
			p.syntaxError(t, "a timer parameter or \"}\"")
		}
		p.eos()
	}
}
