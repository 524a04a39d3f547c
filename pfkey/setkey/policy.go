package setkey

import (
	"net/netip"
	"strconv"
	"strings"
)

// Offsets allowed after a priority base (libipsec's limits).
const (
	prioOffsetPositiveMax = 0x3fffffff // base - N (lower priority)
	prioOffsetNegativeMax = 0x40000000 // base + N (higher priority)
)

func (p *parser) ppeek() (token, error) {
	if p.ahead != nil {
		return *p.ahead, nil
	}
	t, err := p.lx.nextPolicy()
	if err != nil {
		return t, err
	}
	p.ahead = &t
	return t, nil
}

func (p *parser) pnext() (token, error) {
	if p.ahead != nil {
		t := *p.ahead
		p.ahead = nil
		return t, nil
	}
	return p.lx.nextPolicy()
}

// policyKeywords are the words of libipsec's policy language; they are never
// addresses.
var policyKeywords = map[string]bool{
	"in": true, "out": true, "fwd": true, "priority": true, "prio": true, "low": true,
	"def": true, "high": true, "discard": true, "none": true, "ipsec": true, "entrust": true,
	"bypass": true, "esp": true, "ah": true, "ipcomp": true, "transport": true, "tunnel": true,
	"me": true, "any": true, "default": true, "use": true, "require": true, "unique": true,
}

func isLevelWord(t token) bool {
	if t.kind != tWord {
		return false
	}
	switch t.text {
	case "default", "use", "require", "unique":
		return true
	}
	return strings.HasPrefix(t.text, "unique:")
}

// policy parses libipsec's policy text after -P up to and including the ';':
//
//	DIR [priority|prio (N | -N | low|def|high [(+|-) N])] ACTION [RULE ...]
//	RULE = PROTO/MODE[/[SRC[[PORT]]-DST[[PORT]] | me-any | any-me][/[LEVEL]]]
//
// dirOnly allows a bare direction (spddelete).
func (p *parser) policy(dirOnly bool) (*Policy, error) {
	t, err := p.pnext()
	if err != nil {
		return nil, err
	}
	pol := &Policy{At: t.pos}
	switch {
	case t.kind == tWord && t.text == "in":
		pol.Dir = DirInbound
	case t.kind == tWord && t.text == "out":
		pol.Dir = DirOutbound
	case t.kind == tWord && t.text == "fwd":
		pol.Dir = DirForward
	default:
		return nil, unexpectedIn(t, "a policy direction (in, out or fwd)")
	}
	n, err := p.ppeek()
	if err != nil {
		return nil, err
	}
	if n.kind == tSemi {
		p.pnext()
		if !dirOnly {
			return nil, errorf(n.pos, "policy needs an action after %s (discard, none, ipsec, entrust or bypass)", pol.Dir)
		}
		return pol, nil
	}
	pol.Priority = PriorityDefault
	if n.kind == tWord && (n.text == "priority" || n.text == "prio") {
		p.pnext()
		if pol.Priority, err = p.priority(); err != nil {
			return nil, err
		}
	}
	a, err := p.pnext()
	if err != nil {
		return nil, err
	}
	switch {
	case a.kind == tWord && a.text == "discard":
		pol.Action = ActionDiscard
	case a.kind == tWord && a.text == "none":
		pol.Action = ActionNone
	case a.kind == tWord && a.text == "ipsec":
		pol.Action = ActionIPsec
	case a.kind == tWord && a.text == "entrust":
		pol.Action = ActionEntrust
	case a.kind == tWord && a.text == "bypass":
		pol.Action = ActionBypass
	default:
		return nil, unexpectedIn(a, "a policy action (discard, none, ipsec, entrust or bypass)")
	}
	pol.HasAction = true
	for {
		r, err := p.ppeek()
		if err != nil {
			return nil, err
		}
		if r.kind == tSemi {
			p.pnext()
			return pol, nil
		}
		if r.kind == tEOF {
			return nil, unexpectedIn(r, "';' at the end of the policy")
		}
		if pol.Action != ActionIPsec {
			return nil, errorf(r.pos, "syntax error in policy: %s takes no requests, found %s", pol.Action, r.describe())
		}
		req, err := p.request(pol.Dir)
		if err != nil {
			return nil, err
		}
		pol.Requests = append(pol.Requests, *req)
	}
}

func unexpectedIn(t token, want string) error {
	if t.kind == tEOF {
		return errorf(t.pos, "unexpected end of file in policy, expected %s (is a ';' missing?)", want)
	}
	return errorf(t.pos, "syntax error in policy: expected %s, found %s", want, t.describe())
}

func (p *parser) priority() (uint32, error) {
	offset := func(max uint64) (uint64, error) {
		v, err := p.pnext()
		if err != nil {
			return 0, err
		}
		if v.kind != tNum {
			return 0, unexpectedIn(v, "a priority offset")
		}
		n, err := strconv.ParseUint(v.text, 10, 64)
		if err != nil || n > max {
			return 0, errorf(v.pos, "invalid priority offset %s (at most %d)", v.text, max)
		}
		return n, nil
	}
	t, err := p.pnext()
	if err != nil {
		return 0, err
	}
	switch {
	case t.kind == tNum:
		p.ahead = &t
		n, err := offset(0x80000000)
		if err != nil {
			return 0, err
		}
		return PriorityDefault - uint32(n), nil
	case t.kind == tHyphen:
		n, err := offset(0x7fffffff)
		if err != nil {
			return 0, err
		}
		return PriorityDefault + uint32(n), nil
	case t.kind == tWord && (t.text == "low" || t.text == "def" || t.text == "high"):
		base := map[string]uint32{"low": PriorityLow, "def": PriorityDefault, "high": PriorityHigh}[t.text]
		s, err := p.ppeek()
		if err != nil {
			return 0, err
		}
		switch s.kind {
		case tPlus:
			p.pnext()
			n, err := offset(prioOffsetNegativeMax)
			if err != nil {
				return 0, err
			}
			return base - uint32(n), nil
		case tHyphen:
			p.pnext()
			n, err := offset(prioOffsetPositiveMax)
			if err != nil {
				return 0, err
			}
			return base + uint32(n), nil
		}
		return base, nil
	}
	return 0, unexpectedIn(t, "a priority (a number, low, def or high)")
}

// request parses one PROTO/MODE/ADDRESSES/LEVEL rule.
func (p *parser) request(dir Dir) (*Request, error) {
	t, err := p.pnext()
	if err != nil {
		return nil, err
	}
	req := &Request{At: t.pos}
	switch {
	case t.kind == tWord && t.text == "esp":
		req.Proto = ProtoESP
	case t.kind == tWord && t.text == "ah":
		req.Proto = ProtoAH
	case t.kind == tWord && t.text == "ipcomp":
		req.Proto = ProtoIPComp
	default:
		return nil, unexpectedIn(t, "a request protocol (esp, ah or ipcomp)")
	}
	if s, err := p.pnext(); err != nil {
		return nil, err
	} else if s.kind != tSlash {
		return nil, errorf(s.pos, "too few arguments in policy request: write %s/MODE[/SRC-DST[/LEVEL]]", t.text)
	}
	m, err := p.pnext()
	if err != nil {
		return nil, err
	}
	switch {
	case m.kind == tWord && m.text == "transport":
		req.Mode = ModeTransport
	case m.kind == tWord && m.text == "tunnel":
		req.Mode = ModeTunnel
	default:
		return nil, unexpectedIn(m, "a mode (transport or tunnel)")
	}
	haveAddrs := false
	if s, err := p.ppeek(); err != nil {
		return nil, err
	} else if s.kind == tSlash {
		p.pnext()
		n, err := p.ppeek()
		if err != nil {
			return nil, err
		}
		switch {
		case n.kind == tSlash:
			// proto/mode//level
			p.pnext()
			if err := p.level(req); err != nil {
				return nil, err
			}
		case n.kind == tWord && (n.text == "me" || n.text == "any") || (n.kind == tWord || n.kind == tNum) && !policyKeywords[n.text] && !isLevelWord(n):
			if err := p.addresses(req, dir); err != nil {
				return nil, err
			}
			haveAddrs = true
			if s2, err := p.ppeek(); err != nil {
				return nil, err
			} else if s2.kind == tSlash {
				p.pnext()
				if err := p.level(req); err != nil {
					return nil, err
				}
			} else if isLevelWord(s2) {
				return nil, errorf(s2.pos, "syntax error in policy: expected '/' before the level %q", s2.text)
			}
		case isLevelWord(n):
			return nil, errorf(n.pos, "syntax error in policy: expected addresses or '/' before the level %q (write %s/%s//%s)", n.text, t.text, m.text, n.text)
		}
	}
	if req.Mode == ModeTunnel && !req.Src.IsValid() {
		if haveAddrs {
			return nil, errorf(req.At, "invalid policy request: me-any/any-me cannot be used with tunnel mode: give the tunnel endpoints A-B")
		}
		return nil, errorf(req.At, "invalid policy request: tunnel mode needs the tunnel endpoints (%s/tunnel/SRC-DST/LEVEL)", t.text)
	}
	return req, nil
}

// level reads an optional level (nothing before a new rule or ';').
func (p *parser) level(req *Request) error {
	n, err := p.ppeek()
	if err != nil {
		return err
	}
	if !isLevelWord(n) {
		if n.kind == tWord && !policyKeywords[n.text] {
			return unexpectedIn(n, "a level (default, use, require, unique or unique:N)")
		}
		return nil
	}
	p.pnext()
	switch n.text {
	case "default":
		req.Level = LevelDefault
	case "use":
		req.Level = LevelUse
	case "require":
		req.Level = LevelRequire
	case "unique":
		req.Level = LevelUnique
	default:
		id, err := strconv.ParseUint(strings.TrimPrefix(n.text, "unique:"), 10, 32)
		if err != nil {
			return errorf(n.pos, "invalid level %q: unique:N takes a number of at most 32 bits", n.text)
		}
		req.Level = LevelUnique
		req.ReqID = uint32(id)
	}
	return nil
}

func (p *parser) addresses(req *Request, dir Dir) error {
	a, err := p.pnext()
	if err != nil {
		return err
	}
	if a.kind == tWord && (a.text == "me" || a.text == "any") {
		h, err := p.pnext()
		if err != nil {
			return err
		}
		if h.kind != tHyphen {
			return unexpectedIn(h, "'-' between the request addresses")
		}
		b, err := p.pnext()
		if err != nil {
			return err
		}
		switch {
		case a.text == "me" && b.kind == tWord && b.text == "any":
			if dir != DirOutbound {
				return errorf(a.pos, "invalid policy request: me-any is only for out policies")
			}
		case a.text == "any" && b.kind == tWord && b.text == "me":
			if dir != DirInbound && dir != DirForward {
				return errorf(a.pos, "invalid policy request: any-me is only for in policies")
			}
		default:
			return unexpectedIn(b, "me-any or any-me")
		}
		return nil
	}
	src, err := p.reqAddr(a)
	if err != nil {
		return err
	}
	h, err := p.pnext()
	if err != nil {
		return err
	}
	if h.kind != tHyphen {
		return unexpectedIn(h, "'-' between the request addresses")
	}
	b, err := p.pnext()
	if err != nil {
		return err
	}
	dst, err := p.reqAddr(b)
	if err != nil {
		return err
	}
	if src.Addr().Is4() != dst.Addr().Is4() {
		return errorf(a.pos, "invalid policy request: address family mismatch between %s and %s", src.Addr(), dst.Addr())
	}
	req.Src, req.Dst = src, dst
	return nil
}

func (p *parser) reqAddr(t token) (netip.AddrPort, error) {
	if t.kind != tWord && t.kind != tNum {
		return netip.AddrPort{}, unexpectedIn(t, "a numeric address")
	}
	a, err := netip.ParseAddr(t.text)
	if err != nil {
		return netip.AddrPort{}, errorf(t.pos, "invalid IP address %q in policy request (addresses must be numeric)", t.text)
	}
	a = a.Unmap()
	if a.Zone() != "" {
		if _, err := zoneIndex(a.Zone()); err != nil {
			return netip.AddrPort{}, errorf(t.pos, "address %s: %v", t.text, err)
		}
	}
	var port uint16
	if n, err := p.ppeek(); err != nil {
		return netip.AddrPort{}, err
	} else if n.kind == tPort {
		p.pnext()
		v, err := strconv.ParseUint(n.text, 10, 16)
		if err != nil {
			return netip.AddrPort{}, errorf(n.pos, "invalid port [%s]", n.text)
		}
		port = uint16(v)
	}
	return netip.AddrPortFrom(a, port), nil
}
