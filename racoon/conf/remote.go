package conf

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"time"
)

func newRemote(pos Pos) *Remote {
	return &Remote{
		Pos:            pos,
		DOI:            1, // IPSEC_DOI
		Situation:      1, // IDENTITY_ONLY
		NonceSize:      16,
		InitialContact: true,
		ProposalCheck:  CheckStrict,
		Lifetime:       28800 * time.Second,
		VerifyCert:     true,
		SendCert:       true,
		SendCR:         true,
		NATTraversal:   "off",
		IKEFrag:        "off",
		Rekey:          "on",
		Scripts:        map[string]string{},
	}
}

// inheritFrom is duprmconf_shallow: the child starts as a copy of the parent.
func inheritFrom(parent *Remote, pos Pos) *Remote {
	r := *parent
	r.Pos = pos
	r.Name = ""
	r.Anonymous = false
	r.Address, r.Port = netip.Addr{}, 0
	r.ExchangeModes = append([]ExchangeMode(nil), parent.ExchangeModes...)
	r.PeersIdentifiers = append([]Identifier(nil), parent.PeersIdentifiers...)
	r.Proposals = append([]*Proposal(nil), parent.Proposals...)
	r.Scripts = map[string]string{}
	for k, v := range parent.Scripts {
		r.Scripts[k] = v
	}
	return &r
}

func remoteKey(anon bool, a netip.Addr, port uint16) string {
	if anon {
		return fmt.Sprintf("anonymous[%d]", port)
	}
	return netip.AddrPortFrom(a, port).String()
}

// remoteIndex is remote_index: anonymous [PORT] | ADDRSTRING [PORT].
func (p *parser) remoteIndex() (anon bool, a netip.Addr, port uint16, pos Pos) {
	t := p.peek()
	if t.kind == tANONYMOUS {
		p.take()
		port := uint64(500)
		if pt, ok := p.accept(tPORT); ok {
			port = pt.num
		}
		if port > 65535 {
			p.failAt(t.pos, "port %d out of range", port)
		}
		return true, netip.Addr{}, uint16(port), t.pos
	}
	if t.kind != tADDRSTRING {
		p.syntaxError(p.take(), "anonymous, an address or a quoted name")
	}
	a, port, pos = p.addrPort()
	return false, a, port, pos
}

func (p *parser) remote(kw token) {
	var r *Remote
	inherited := false
	if t, ok := p.accept(tQUOTEDSTRING); ok {
		if p.named["name:"+t.str] != nil {
			p.failAt(t.pos, "named remoteconf %q already exists", t.str)
		}
		if _, ok := p.accept(tINHERIT); ok {
			pt := p.expect(tQUOTEDSTRING, "a quoted parent name")
			parent := p.named["name:"+pt.str]
			if parent == nil {
				p.failAt(pt.pos, "named parent remoteconf %q does not exist", pt.str)
			}
			r = inheritFrom(parent, kw.pos)
			r.Inherit = `"` + pt.str + `"`
			inherited = true
		} else {
			r = newRemote(kw.pos)
		}
		r.Name = t.str
	} else {
		anon, a, port, _ := p.remoteIndex()
		if it, ok := p.accept(tINHERIT); ok {
			panon, pa, pport, ppos := p.remoteIndex()
			key := remoteKey(panon, pa, pport)
			parent := p.named[key]
			if parent == nil {
				p.failAt(ppos, "failed to get remoteconf for %s: no remote block with that address precedes this one", key)
			}
			if panon {
				p.warnAt(it.pos, "inherit anonymous: ipsec-tools 0.8.2 refuses this (\"failed to get remoteconf for anonymous\"); ikectx accepts it")
			}
			r = inheritFrom(parent, kw.pos)
			r.Inherit = parent.String()
			inherited = true
		} else {
			r = newRemote(kw.pos)
		}
		r.Anonymous, r.Address, r.Port = anon, a, port
	}
	t := p.take()
	switch {
	case t.kind == tBOC:
		p.remoteSpecs(r)
	case t.kind == tEOS && inherited:
	default:
		if inherited {
			p.syntaxError(t, `"{" or ";"`)
		}
		p.syntaxError(t, `"{"`)
	}
	p.processRemote(r)
	p.cfg.Remotes = append(p.cfg.Remotes, r)
	if r.Name != "" {
		p.named["name:"+r.Name] = r
	} else if !r.Anonymous || p.named[remoteKey(true, netip.Addr{}, r.Port)] == nil {
		// first one wins for lookups, as racoon searches its list in order
		if p.named[remoteKey(r.Anonymous, r.Address, r.Port)] == nil {
			p.named[remoteKey(r.Anonymous, r.Address, r.Port)] = r
		}
	}
}

// identifier parses IDENTIFIERTYPE [IDENTIFIERQUAL] [ADDRSTRING|QUOTEDSTRING].
func (p *parser) identifier(kw token) Identifier {
	tt := p.expect(tIDENTIFIERTYPE, "an identifier type")
	id := Identifier{Type: IDType(tt.num), Pos: kw.pos}
	if q, ok := p.accept(tIDENTIFIERQUAL); ok {
		id.Qual = IDQual(q.num)
	}
	var val token
	hasVal := false
	switch p.peek().kind {
	case tADDRSTRING, tQUOTEDSTRING:
		val, hasVal = p.take(), true
		id.Value = val.str
	}
	switch id.Type {
	case IDAddress, IDSubnet:
		if hasVal {
			if val.kind != tADDRSTRING {
				p.failAt(val.pos, "failed to set identifier: %s needs an address, not %s", id.Type, val.describe())
			}
			id.Addr = p.parseAddr(val)
		}
		if id.Type == IDSubnet {
			p.warnAt(kw.pos, "%s subnet: ikectx does not implement subnet phase-1 identifiers", kw.word)
		}
	case IDFQDN, IDUserFQDN:
		if !hasVal {
			p.failAt(kw.pos, "failed to set identifier: %s %s needs a value", kw.word, id.Type)
		}
	case IDKeyID:
		if !hasVal {
			p.failAt(kw.pos, "failed to set identifier: %s keyid needs a value", kw.word)
		}
		if id.Qual == QualTag {
			id.Data = []byte(id.Value)
		} else {
			// keyid [file] "path": the key ID is the file's content
			b, err := p.readFile(id.Value)
			if err != nil {
				p.failAt(val.pos, "failed to set identifier: cannot read keyid file %q: %s", id.Value, errText(err))
			}
			id.Data = b
		}
	case IDASN1DN:
		p.warnAt(kw.pos, "%s asn1dn: ikectx does not implement certificate identities", kw.word)
	}
	if id.Qual != QualNone && id.Type != IDKeyID {
		p.warnAt(kw.pos, "identifier qualifier %q applies to keyid only; ignored", []string{"", "tag", "file"}[id.Qual])
	}
	return id
}

// loadCert checks an X.509 certificate file as load_x509 does at parse time.
func (p *parser) loadCert(pos Pos, name string) string {
	path := p.pathname(pos, PathCertificate, name)
	b, err := p.readFile(path)
	if err != nil {
		p.failAt(pos, "failed to load certificate %q: %s", path, errText(err))
	}
	der := b
	if blk, _ := pem.Decode(b); blk != nil {
		der = blk.Bytes
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		p.failAt(pos, "failed to load certificate %q: %v", path, err)
	}
	return path
}

func (p *parser) loadKeyFile(pos Pos, name string) string {
	path := p.pathname(pos, PathCertificate, name)
	if _, err := p.readFile(path); err != nil {
		p.failAt(pos, "Couldn't parse keyfile %q: %s", path, errText(err))
	}
	return path
}

func (p *parser) number() uint64 { return p.expect(tNUMBER, "a number").num }

func (p *parser) remoteSpecs(r *Remote) {
	for {
		t := p.take()
		switch t.kind {
		case tEOC:
			return
		case tREMOTE_ADDRESS:
			a, port, pos := p.addrPort()
			if r.Address.IsValid() || r.Anonymous {
				p.failAt(pos, "remote_address already specified")
			}
			r.Address, r.Port = a, port
		case tEXCHANGE_MODE:
			r.ExchangeModes = nil
			for {
				m, ok := p.accept(tEXCHANGETYPE)
				if !ok {
					break
				}
				r.ExchangeModes = append(r.ExchangeModes, ExchangeMode(m.num))
				if ExchangeMode(m.num) == ModeBase {
					p.warnAt(m.pos, "exchange_mode base: ikectx does not implement base mode; only main and aggressive are negotiated")
				}
			}
		case tDOI:
			r.DOI = int(p.expect(tDOITYPE, "ipsec_doi").num)
		case tSITUATION:
			v := p.expect(tSITUATIONTYPE, "identity_only, secrecy or integrity")
			r.Situation = int(v.num)
			if v.num != 1 {
				p.warnAt(v.pos, "situation %s: ikectx implements identity_only only", v.word)
			}
		case tCERTIFICATE_TYPE:
			p.warnAt(t.pos, "certificate_type: ikectx does not implement certificate authentication")
			v := p.take()
			switch v.kind {
			case tCERT_X509:
				c := p.expect(tQUOTEDSTRING, "a quoted certificate file")
				k := p.expect(tQUOTEDSTRING, "a quoted private key file")
				if r.MyCertFile != "" {
					p.failAt(t.pos, "certificate_type already defined")
				}
				r.CertificateType = "x509"
				r.MyCertFile = p.loadCert(c.pos, c.str)
				r.MyKeyFile = k.str
			case tCERT_PLAINRSA:
				k := p.expect(tQUOTEDSTRING, "a quoted key file")
				if r.MyCertFile != "" {
					p.failAt(t.pos, "certificate_type already defined")
				}
				r.CertificateType = "plain_rsa"
				r.MyCertFile = p.loadKeyFile(k.pos, k.str)
			default:
				p.syntaxError(v, "x509 or plain_rsa")
			}
		case tPEERS_CERTFILE:
			p.warnAt(t.pos, "peers_certfile: ikectx does not implement certificate authentication")
			if r.PeersCertFile != "" {
				p.failAt(t.pos, "peers_certfile already defined")
			}
			v := p.take()
			switch v.kind {
			case tQUOTEDSTRING:
				r.PeersCertFile = p.loadCert(v.pos, v.str)
			case tCERT_X509:
				f := p.expect(tQUOTEDSTRING, "a quoted certificate file")
				r.PeersCertFile = p.loadCert(f.pos, f.str)
			case tCERT_PLAINRSA:
				f := p.expect(tQUOTEDSTRING, "a quoted key file")
				r.PeersCertFile = p.loadKeyFile(f.pos, f.str)
			case tDNSSEC:
				r.PeersCertFile = "dnssec"
			default:
				p.syntaxError(v, "x509, plain_rsa, dnssec or a quoted file")
			}
		case tCA_TYPE:
			p.warnAt(t.pos, "ca_type: ikectx does not implement certificate authentication")
			p.expect(tCERT_X509, "x509")
			f := p.expect(tQUOTEDSTRING, "a quoted certificate file")
			if r.CAFile != "" {
				p.failAt(t.pos, "ca_type already defined")
			}
			r.CAFile = p.loadCert(f.pos, f.str)
		case tVERIFY_CERT:
			r.VerifyCert = p.switchValue()
		case tSEND_CERT:
			r.SendCert = p.switchValue()
		case tSEND_CR:
			r.SendCR = p.switchValue()
		case tMATCH_EMPTY_CR:
			r.MatchEmptyCR = p.switchValue()
		case tMY_IDENTIFIER:
			r.MyIdentifier = p.identifier(t)
		case tXAUTH_LOGIN:
			p.warnAt(t.pos, "xauth_login: ikectx does not implement XAuth; ignored")
			switch p.peek().kind {
			case tADDRSTRING, tQUOTEDSTRING:
				r.XAuthLogin = p.take().str
			}
		case tPEERS_IDENTIFIER:
			r.PeersIdentifiers = append(r.PeersIdentifiers, p.identifier(t))
		case tVERIFY_IDENTIFIER:
			r.VerifyIdentifier = p.switchValue()
		case tNONCE_SIZE:
			n := p.expect(tNUMBER, "a number")
			if n.num < 8 || n.num > 256 {
				p.failAt(n.pos, "nonce_size %d: RFC 2409 requires 8 to 256 bytes", n.num)
			}
			r.NonceSize = n.num
		case tDH_GROUP:
			p.failAt(t.pos, "dh_group cannot be defined here (write it inside a proposal block)")
		case tPASSIVE:
			r.Passive = p.switchValue()
		case tIKE_FRAG:
			v := p.take()
			switch {
			case v.kind == tSWITCH && v.num == 0:
				r.IKEFrag = "off"
			case v.kind == tSWITCH || v.kind == tREMOTE_FORCE_LEVEL:
				r.IKEFrag = v.word
				p.warnAt(t.pos, "ike_frag %s: ikectx does not implement IKE fragmentation; ignored", v.word)
			default:
				p.syntaxError(v, "on, off or force")
			}
		case tESP_FRAG:
			r.ESPFrag = p.number()
			p.warnAt(t.pos, "esp_frag: ikectx does not implement NAT-T ESP fragmentation; ignored")
		case tSCRIPT:
			s := p.expect(tQUOTEDSTRING, "a quoted script path")
			ev := p.take()
			switch ev.kind {
			case tPHASE1_UP, tPHASE1_DOWN, tPHASE1_DEAD:
			default:
				p.syntaxError(ev, "phase1_up, phase1_down or phase1_dead")
			}
			r.Scripts[ev.word] = s.str
			p.warnAt(t.pos, "script %s: ikectx does not run phase-1 scripts; ignored", ev.word)
		case tMODE_CFG:
			r.ModeCfg = p.switchValue()
			if r.ModeCfg {
				p.warnAt(t.pos, "mode_cfg on: ikectx does not implement ISAKMP mode config; ignored")
			}
		case tWEAK_PHASE1_CHECK:
			r.WeakPhase1Check = p.switchValue()
		case tGENERATE_POLICY:
			v := p.take()
			switch v.kind {
			case tSWITCH:
				r.GeneratePolicy = GeneratePolicy(v.num)
			case tGENERATE_LEVEL:
				r.GeneratePolicy = GeneratePolicy(v.num)
			default:
				p.syntaxError(v, "on, off, unique or require")
			}
		case tSUPPORT_PROXY:
			r.SupportProxy = p.switchValue()
			if r.SupportProxy {
				p.warnAt(t.pos, "support_proxy on: ikectx does not implement proxy (client) identities in quick mode; ignored")
			}
		case tINITIAL_CONTACT:
			r.InitialContact = p.switchValue()
		case tNAT_TRAVERSAL:
			v := p.take()
			switch {
			case v.kind == tSWITCH && v.num == 0:
				r.NATTraversal = "off"
			case v.kind == tSWITCH || v.kind == tREMOTE_FORCE_LEVEL:
				r.NATTraversal = v.word
				if v.word == "force" {
					p.warnAt(t.pos, "nat_traversal force: ikectx negotiates RFC 3947 NAT traversal only when a NAT is detected (force is taken as on); the pre-RFC drafts are not implemented")
				}
			default:
				p.syntaxError(v, "on, off or force")
			}
		case tDPD:
			r.DPD = p.switchValue()
			if r.DPD {
				p.warnAt(t.pos, "dpd on: ikectx does not implement dead peer detection; ignored")
			}
		case tDPD_DELAY, tDPD_RETRY, tDPD_MAXFAIL:
			n := p.number()
			switch t.kind {
			case tDPD_DELAY:
				r.DPDDelay = n
			case tDPD_RETRY:
				r.DPDRetry = n
			default:
				r.DPDMaxFail = n
			}
			p.warnAt(t.pos, "%s: ikectx does not implement dead peer detection; ignored", t.word)
		case tREKEY:
			v := p.take()
			if v.kind != tSWITCH && v.kind != tREMOTE_FORCE_LEVEL {
				p.syntaxError(v, "on, off or force")
			}
			r.Rekey = v.word
			if v.word == "force" {
				p.warnAt(t.pos, "rekey force: ikectx rekeys phase 1 only when needed (as rekey on)")
			}
		case tPH1ID:
			r.Ph1ID = p.number()
			p.warnAt(t.pos, "ph1id: ikectx does not implement sainfo-remote binding by ph1id; ignored")
		case tLIFETIME:
			v := p.take()
			switch v.kind {
			case tLIFETYPE_TIME:
				n := p.number()
				r.Lifetime = duration(n, p.timeUnit())
			case tLIFETYPE_BYTE:
				p.failAt(v.pos, "byte lifetime support is deprecated in Phase1")
			default:
				p.syntaxError(v, "time or byte")
			}
		case tPROPOSAL_CHECK:
			r.ProposalCheck = ProposalCheck(p.expect(tPROPOSAL_CHECK_LEVEL, "obey, strict, claim or exact").num)
		case tPROPOSAL:
			// an inherited remote that writes proposals offers the
			// parent's first, then its own (racoon's list handling)
			p.expect(tBOC, `"{"`)
			r.Proposals = append(r.Proposals, p.proposal(t))
			continue
		default:
			p.syntaxError(t, "a remote parameter or \"}\"")
		}
		p.eos()
	}
}

func (p *parser) algorithm(class AlgClass) Algorithm {
	t := p.expect(tALGORITHMTYPE, "an algorithm")
	at := algTypes[t.num]
	a := Algorithm{Name: at.name, Class: class, DOI: at.doi[class], Pos: t.pos}
	if a.DOI == -1 {
		p.failAt(t.pos, "algorithm mismatched: %s is not a valid %s", at.name, class)
	}
	if k, ok := p.accept(tNUMBER); ok {
		if at.kl.def == 0 {
			p.failAt(k.pos, "keylen not allowed for %s", at.name)
		}
		if k.num > 1<<16 || !at.kl.ok(int(k.num)) {
			p.failAt(k.pos, "invalid keylen %d for %s", k.num, at.name)
		}
		a.KeyLen = int(k.num)
	} else {
		a.KeyLen = at.kl.def
	}
	return a
}

// dhGroup is dh_group_num: a modp word or a group number.
func (p *parser) dhGroup() *Algorithm {
	t := p.take()
	switch t.kind {
	case tALGORITHMTYPE:
		at := algTypes[t.num]
		if at.doi[ClassISAKMPDH] == -1 {
			p.failAt(t.pos, "must be DH group: %s", at.name)
		}
		return &Algorithm{Name: at.name, Class: ClassISAKMPDH, DOI: at.doi[ClassISAKMPDH], Pos: t.pos}
	case tNUMBER:
		name, ok := dhNumbers[t.num]
		if !ok {
			p.failAt(t.pos, "must be DH group: %d is not one of 1, 2, 3, 4, 5, 14, 15, 16, 17, 18", t.num)
		}
		i, _ := algByName(name)
		return &Algorithm{Name: name, Class: ClassISAKMPDH, DOI: algTypes[i].doi[ClassISAKMPDH], Pos: t.pos}
	}
	p.syntaxError(t, "a DH group")
	return nil
}

func (p *parser) proposal(kw token) *Proposal {
	pr := &Proposal{Pos: kw.pos}
	for {
		t := p.take()
		switch t.kind {
		case tEOC:
			return pr
		case tLIFETIME:
			v := p.take()
			switch v.kind {
			case tLIFETYPE_TIME:
				n := p.number()
				pr.Lifetime = duration(n, p.timeUnit())
			case tLIFETYPE_BYTE:
				p.failAt(v.pos, "byte lifetime support is deprecated")
			default:
				p.syntaxError(v, "time or byte")
			}
		case tDH_GROUP:
			pr.DHGroup = p.dhGroup()
		case tGSS_ID:
			s := p.expect(tQUOTEDSTRING, "a quoted string")
			if pr.AuthMethod == nil || pr.AuthMethod.Name != "gssapi_krb" {
				p.failAt(t.pos, "wrong Vendor ID for gssapi_id (authentication_method gssapi_krb must come first)")
			}
			pr.GSSID = s.str
		case tALGORITHM_CLASS:
			a := p.algorithm(AlgClass(t.num))
			switch AlgClass(t.num) {
			case ClassISAKMPEnc:
				pr.Encryption = &a
			case ClassISAKMPHash:
				pr.Hash = &a
			case ClassISAKMPAuth:
				pr.AuthMethod = &a
			}
		default:
			p.syntaxError(t, "a proposal parameter or \"}\"")
		}
		p.eos()
	}
}
