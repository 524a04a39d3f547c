package conf

import (
	"fmt"
	"net/netip"
)

// sainfoID is sainfo_id: IDTYPE ADDR [-ADDR] [/PFX] [PORT|[any]] PROTO, or
// IDTYPE "string".
func (p *parser) sainfoID() SAInfoID {
	tt := p.expect(tIDENTIFIERTYPE, "an identifier type")
	id := SAInfoID{IDType: IDType(tt.num), Proto: 255}
	if s, ok := p.accept(tQUOTEDSTRING); ok {
		if id.IDType == IDASN1DN {
			p.failAt(tt.pos, "id type forbidden: asn1dn")
		}
		id.Kind, id.Value = SAString, s.str
		return id
	}
	at := p.expect(tADDRSTRING, "an address or a quoted string")
	addr := p.parseAddr(at)
	id.Kind = SAAddress
	if r, ok := p.accept(tADDRRANGE); ok {
		end, err := netip.ParseAddr(r.str)
		if err != nil {
			p.failAt(r.pos, "%q is not a numeric IPv4 or IPv6 address", r.str)
		}
		if end.Is4() != addr.Is4() {
			p.failAt(r.pos, "address range %s-%s mixes address families", addr, end)
		}
		id.Kind, id.RangeEnd = SARange, end
	}
	bits := addr.BitLen()
	if pf, ok := p.accept(tPREFIX); ok {
		if int(pf.num) > addr.BitLen() {
			p.failAt(pf.pos, "prefix /%d is longer than the address (%d bits)", pf.num, addr.BitLen())
		}
		bits = int(pf.num)
	}
	id.Prefix = netip.PrefixFrom(addr, bits)
	portPos := p.peek().pos
	switch p.peek().kind {
	case tPORT:
		v := p.take()
		if v.num > 65535 {
			p.failAt(v.pos, "port %d out of range", v.num)
		}
		id.Port = uint16(v.num)
	case tPORTANY:
		p.take()
	}
	pt := p.take()
	switch pt.kind {
	case tNUMBER:
		if pt.num > 255 {
			p.failAt(pt.pos, "protocol %d out of range", pt.num)
		}
		id.Proto = uint8(pt.num)
	case tUL_PROTO:
		id.Proto = uint8(pt.num)
	case tANY:
	default:
		p.syntaxError(pt, "a protocol (a number, any, esp, ah, ipcomp, icmp, icmp6, tcp, udp, gre)")
	}
	if (id.Proto == 1 || id.Proto == 58) && id.Port != 0 {
		p.failAt(portPos, "port number must be \"any\" for icmp and icmp6")
	}
	if (id.Proto == 58 && addr.Is4()) || (id.Proto == 1 && !addr.Is4()) {
		p.failAt(pt.pos, "upper layer protocol mismatched: %s with an IPv%d address", pt.word, map[bool]int{true: 4, false: 6}[addr.Is4()])
	}
	return id
}

func (p *parser) sainfo(kw token) {
	si := &SAInfo{Pos: kw.pos}
	switch p.peek().kind {
	case tANONYMOUS:
		p.take()
		si.Local.Kind = SAAnonymous
		switch p.peek().kind {
		case tCLIENTADDR:
			p.take()
			si.Remote.Kind = SAClientAddr
		case tIDENTIFIERTYPE:
			si.Remote = p.sainfoID()
		default:
			si.Remote.Kind = SAAnonymous
		}
	case tIDENTIFIERTYPE:
		si.Local = p.sainfoID()
		switch p.peek().kind {
		case tANONYMOUS:
			p.take()
			si.Remote.Kind = SAAnonymous
		case tCLIENTADDR:
			p.take()
			si.Remote.Kind = SAClientAddr
		default:
			si.Remote = p.sainfoID()
		}
	default:
		p.syntaxError(p.take(), "anonymous or an identifier")
	}
	switch p.peek().kind {
	case tFROM:
		ft := p.take()
		id := p.identifier(ft)
		si.From = &id
	case tGROUP:
		gt := p.take()
		si.Group = p.expect(tQUOTEDSTRING, "a quoted group name").str
		p.warnAt(gt.pos, "sainfo group: ikectx does not implement XAuth groups; this sainfo never matches")
	}
	if si.Local.Kind == SAClientAddr || si.Remote.Kind == SAClientAddr {
		p.warnAt(kw.pos, "sainfo clientaddr: ikectx does not implement mode_cfg client addresses; this sainfo never matches")
	}
	if si.Local.Kind == SARange || si.Remote.Kind == SARange || si.Local.Kind == SAString || si.Remote.Kind == SAString {
		p.warnAt(kw.pos, "sainfo with address ranges or string identifiers: ikectx implements anonymous and address/subnet selectors only; this sainfo never matches")
	}
	p.expect(tBOC, `"{"`)
	for {
		t := p.take()
		if t.kind == tEOC {
			break
		}
		switch t.kind {
		case tPFS_GROUP:
			si.PFSGroup = p.dhGroup()
			if !si.PFSGroup.Implemented() {
				p.warnAt(si.PFSGroup.Pos, "pfs_group %s: ikectx does not implement this group; quick mode with PFS will fail", si.PFSGroup.Name)
			}
		case tREMOTEID:
			si.RemoteID = p.number()
			p.warnAt(t.pos, "remoteid: ikectx does not implement sainfo-remote binding by ph1id; ignored")
		case tLIFETIME:
			v := p.take()
			switch v.kind {
			case tLIFETYPE_TIME:
				n := p.number()
				si.Lifetime = duration(n, p.timeUnit())
			case tLIFETYPE_BYTE:
				p.failAt(v.pos, "byte lifetime support is deprecated")
			default:
				p.syntaxError(v, "time or byte")
			}
		case tALGORITHM_CLASS:
			class := AlgClass(t.num)
			var list []Algorithm
			for {
				list = append(list, p.algorithm(class))
				if _, ok := p.accept(tCOMMA); !ok {
					break
				}
			}
			switch class {
			case ClassIPsecEnc:
				si.Encryption = append(si.Encryption, list...)
			case ClassIPsecAuth:
				si.Auth = append(si.Auth, list...)
			default:
				si.Compression = append(si.Compression, list...)
			}
		default:
			p.syntaxError(t, "a sainfo parameter or \"}\"")
		}
		p.eos()
	}
	for _, c := range []struct {
		l    []Algorithm
		what string
	}{{si.Encryption, "encryption"}, {si.Auth, "authentication"}, {si.Compression, "compression"}} {
		if len(c.l) == 0 {
			p.failAt(kw.pos, "no %s algorithm at %s (racoon requires encryption_algorithm, authentication_algorithm and compression_algorithm)", c.what, si)
		}
	}
	if si.Lifetime == 0 {
		si.Lifetime = 28800e9 // IPSECDOI_ATTR_SA_LD_SEC_DEFAULT
	}
	if si.Local.Kind != SAAnonymous {
		for _, o := range p.cfg.SAInfos {
			if o.Local == si.Local && o.Remote == si.Remote && o.RemoteID == si.RemoteID && sameFrom(o.From, si.From) {
				p.failAt(kw.pos, "duplicated sainfo: %s (first at %s)", si, o.Pos)
			}
		}
	}
	p.cfg.SAInfos = append(p.cfg.SAInfos, si)
}

func sameFrom(a, b *Identifier) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Type == b.Type && a.Value == b.Value
}

func (id SAInfoID) String() string {
	switch id.Kind {
	case SAAnonymous:
		return "ANONYMOUS"
	case SAClientAddr:
		return "CLIENTADDR"
	case SAString:
		return fmt.Sprintf("%s %q", id.IDType, id.Value)
	case SARange:
		return fmt.Sprintf("%s-%s[%d] %d", id.Prefix.Addr(), id.RangeEnd, id.Port, id.Proto)
	}
	return fmt.Sprintf("%s[%d] %d", id.Prefix, id.Port, id.Proto)
}

func (si *SAInfo) String() string { return "sainfo " + si.Local.String() + " " + si.Remote.String() }
