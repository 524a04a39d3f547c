package conf

import (
	"bytes"
	"strings"
)

// lexState mirrors the flex start conditions of cftoken.l. They are all
// inclusive (%s): rules without a state prefix apply in every state.
type lexState int

const (
	sINI lexState = iota
	sPRIV
	sPTH
	sLOG
	sPAD
	sLST
	sRTRY
	sCFG
	sLDAP
	sRAD
	sSAINF
	sSAINFS
	sRMT
	sRMTS
	sRMTP
	sGSSENC
	numStates
)

// rule is one flex rule. Exactly one of lit or match is set. States empty
// means the rule applies in every state. next >= 0 is a BEGIN.
type rule struct {
	states []lexState
	lit    string
	match  func(b []byte) int
	kind   tokKind
	num    uint64
	skip   bool // ws, nl, comment: no token
	next   lexState
	starts string // match rules: the bytes a match can begin with
}

const noState lexState = -1

func kw(st lexState, lit string, k tokKind) rule {
	return rule{states: []lexState{st}, lit: lit, kind: k, next: noState}
}

func kwv(st lexState, lit string, k tokKind, v uint64) rule {
	return rule{states: []lexState{st}, lit: lit, kind: k, num: v, next: noState}
}

func kwb(st lexState, lit string, k tokKind, next lexState) rule {
	return rule{states: []lexState{st}, lit: lit, kind: k, next: next}
}

func gl(lit string, k tokKind, v uint64) rule {
	return rule{lit: lit, kind: k, num: v, next: noState}
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// matchAddr is addrstring: [a-fA-F0-9:]([a-fA-F0-9:\.]*|[a-fA-F0-9:\.]*%[a-zA-Z0-9]*)
func matchAddr(b []byte) int {
	if len(b) == 0 || !(isHexDigit(b[0]) || b[0] == ':') {
		return 0
	}
	n := 1
	for n < len(b) && (isHexDigit(b[n]) || b[n] == ':' || b[n] == '.') {
		n++
	}
	if n < len(b) && b[n] == '%' {
		n++
		for n < len(b) && isAlnum(b[n]) {
			n++
		}
	}
	return n
}

func matchDec(b []byte) int {
	n := 0
	for n < len(b) && isDigit(b[n]) {
		n++
	}
	return n
}

func matchHex(b []byte) int {
	if len(b) < 3 || b[0] != '0' || b[1] != 'x' || !isHexDigit(b[2]) {
		return 0
	}
	n := 3
	for n < len(b) && isHexDigit(b[n]) {
		n++
	}
	return n
}

func matchQuoted(b []byte) int {
	if len(b) < 2 || b[0] != '"' {
		return 0
	}
	i := bytes.IndexByte(b[1:], '"')
	if i < 0 {
		return 0
	}
	return i + 2
}

func matchPrefix(b []byte) int { // {slash}{digit}{1,3}
	if len(b) < 2 || b[0] != '/' || !isDigit(b[1]) {
		return 0
	}
	n := 2
	for n < len(b) && n < 4 && isDigit(b[n]) {
		n++
	}
	return n
}

func matchPort(b []byte) int { // {blcl}{decstring}{elcl}
	if len(b) < 3 || b[0] != '[' {
		return 0
	}
	d := matchDec(b[1:])
	if d == 0 || 1+d >= len(b) || b[1+d] != ']' {
		return 0
	}
	return d + 2
}

func matchRange(b []byte) int { // {hyphen}{addrstring}
	if len(b) < 2 || b[0] != '-' {
		return 0
	}
	a := matchAddr(b[1:])
	if a == 0 {
		return 0
	}
	return a + 1
}

func matchWS(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == ' ' || b[n] == '\t') {
		n++
	}
	return n
}

func matchComment(b []byte) int {
	if len(b) == 0 || b[0] != '#' {
		return 0
	}
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return len(b)
	}
	return i
}

// rules in the order of cftoken.l (ipsec-tools 0.8.2); the order breaks ties
// between matches of equal length, as in flex.
var rules = buildRules()

func buildRules() []rule {
	r := []rule{
		kwb(sINI, "privsep", tPRIVSEP, sPRIV),
		kw(sPRIV, "{", tBOC),
		kw(sPRIV, "user", tUSER),
		kw(sPRIV, "group", tGROUP),
		kw(sPRIV, "chroot", tCHROOT),
		kwb(sPRIV, "}", tEOC, sINI),

		kwb(sINI, "path", tPATH, sPTH),
		kwv(sPTH, "include", tPATHTYPE, uint64(PathInclude)),
		kwv(sPTH, "pre_shared_key", tPATHTYPE, uint64(PathPreSharedKey)),
		kwv(sPTH, "certificate", tPATHTYPE, uint64(PathCertificate)),
		kwv(sPTH, "script", tPATHTYPE, uint64(PathScript)),
		kwv(sPTH, "backupsa", tPATHTYPE, uint64(PathBackupSA)),
		kwv(sPTH, "pidfile", tPATHTYPE, uint64(PathPIDFile)),
		kwb(sPTH, ";", tEOS, sINI),

		kw(sINI, "include", tINCLUDE),
		kw(sINI, "pfkey_buffer", tPFKEY_BUFFER),
		kw(sINI, "complex_bundle", tCOMPLEX_BUNDLE),

		kwb(sINI, "log", tLOGGING, sLOG),
		kwv(sLOG, "error", tLOGLEV, 0),
		kwv(sLOG, "warning", tLOGLEV, 1),
		kwv(sLOG, "notify", tLOGLEV, 2),
		kwv(sLOG, "info", tLOGLEV, 3),
		kwv(sLOG, "debug", tLOGLEV, 4),
		kwv(sLOG, "debug2", tLOGLEV, 5),
		kwb(sLOG, ";", tEOS, sINI),

		kwb(sINI, "padding", tPADDING, sPAD),
		kw(sPAD, "{", tBOC),
		kw(sPAD, "randomize", tPAD_RANDOMIZE),
		kw(sPAD, "randomize_length", tPAD_RANDOMIZELEN),
		kw(sPAD, "maximum_length", tPAD_MAXLEN),
		kw(sPAD, "strict_check", tPAD_STRICT),
		kw(sPAD, "exclusive_tail", tPAD_EXCLTAIL),
		kwb(sPAD, "}", tEOC, sINI),

		kwb(sINI, "listen", tLISTEN, sLST),
		kw(sLST, "{", tBOC),
		kw(sLST, "isakmp", tX_ISAKMP),
		kw(sLST, "isakmp_natt", tX_ISAKMP_NATT),
		kw(sLST, "admin", tX_ADMIN),
		kw(sLST, "adminsock", tADMINSOCK),
		kw(sLST, "disabled", tDISABLED),
		kw(sLST, "strict_address", tSTRICT_ADDRESS),
		kwb(sLST, "}", tEOC, sINI),

		kwb(sINI, "radiuscfg", tRADCFG, sRAD),
		kw(sRAD, "{", tBOC),
		kw(sRAD, "auth", tRAD_AUTH),
		kw(sRAD, "acct", tRAD_ACCT),
		kw(sRAD, "timeout", tRAD_TIMEOUT),
		kw(sRAD, "retries", tRAD_RETRIES),
		kwb(sRAD, "}", tEOC, sINI),

		kwb(sINI, "ldapcfg", tLDAPCFG, sLDAP),
		kw(sLDAP, "{", tBOC),
		kw(sLDAP, "version", tLDAP_PVER),
		kw(sLDAP, "host", tLDAP_HOST),
		kw(sLDAP, "port", tLDAP_PORT),
		kw(sLDAP, "base", tLDAP_BASE),
		kw(sLDAP, "subtree", tLDAP_SUBTREE),
		kw(sLDAP, "bind_dn", tLDAP_BIND_DN),
		kw(sLDAP, "bind_pw", tLDAP_BIND_PW),
		kw(sLDAP, "attr_user", tLDAP_ATTR_USER),
		kw(sLDAP, "attr_addr", tLDAP_ATTR_ADDR),
		kw(sLDAP, "attr_mask", tLDAP_ATTR_MASK),
		kw(sLDAP, "attr_group", tLDAP_ATTR_GROUP),
		kw(sLDAP, "attr_member", tLDAP_ATTR_MEMBER),
		kwb(sLDAP, "}", tEOC, sINI),

		kwb(sINI, "mode_cfg", tMODECFG, sCFG),
		kw(sCFG, "{", tBOC),
		kw(sCFG, "network4", tCFG_NET4),
		kw(sCFG, "netmask4", tCFG_MASK4),
		kw(sCFG, "dns4", tCFG_DNS4),
		kw(sCFG, "nbns4", tCFG_NBNS4),
		kw(sCFG, "wins4", tCFG_NBNS4),
		kw(sCFG, "default_domain", tCFG_DEFAULT_DOMAIN),
		kw(sCFG, "auth_source", tCFG_AUTH_SOURCE),
		kw(sCFG, "auth_groups", tCFG_AUTH_GROUPS),
		kw(sCFG, "group_source", tCFG_GROUP_SOURCE),
		kw(sCFG, "conf_source", tCFG_CONF_SOURCE),
		kw(sCFG, "accounting", tCFG_ACCOUNTING),
		kw(sCFG, "system", tCFG_SYSTEM),
		kw(sCFG, "local", tCFG_LOCAL),
		kw(sCFG, "none", tCFG_NONE),
		kw(sCFG, "radius", tCFG_RADIUS),
		kw(sCFG, "pam", tCFG_PAM),
		kw(sCFG, "ldap", tCFG_LDAP),
		kw(sCFG, "pool_size", tCFG_POOL_SIZE),
		kw(sCFG, "banner", tCFG_MOTD),
		kw(sCFG, "auth_throttle", tCFG_AUTH_THROTTLE),
		kw(sCFG, "split_network", tCFG_SPLIT_NETWORK),
		kw(sCFG, "local_lan", tCFG_SPLIT_LOCAL),
		kw(sCFG, "include", tCFG_SPLIT_INCLUDE),
		kw(sCFG, "split_dns", tCFG_SPLIT_DNS),
		kw(sCFG, "pfs_group", tCFG_PFS_GROUP),
		kw(sCFG, "save_passwd", tCFG_SAVE_PASSWD),
		kw(sCFG, ",", tCOMMA),
		kwb(sCFG, "}", tEOC, sINI),

		kwb(sINI, "timer", tRETRY, sRTRY),
		kw(sRTRY, "{", tBOC),
		kw(sRTRY, "counter", tRETRY_COUNTER),
		kw(sRTRY, "interval", tRETRY_INTERVAL),
		kw(sRTRY, "persend", tRETRY_PERSEND),
		kw(sRTRY, "phase1", tRETRY_PHASE1),
		kw(sRTRY, "phase2", tRETRY_PHASE2),
		kw(sRTRY, "natt_keepalive", tNATT_KA),
		kwb(sRTRY, "}", tEOC, sINI),

		kwb(sINI, "sainfo", tSAINFO, sSAINF),
		kw(sSAINF, "anonymous", tANONYMOUS),
		kw(sSAINF, "clientaddr", tCLIENTADDR),
		kw(sSAINF, "[any]", tPORTANY),
		kw(sSAINF, "any", tANY),
		kw(sSAINF, "from", tFROM),
		kw(sSAINF, "group", tGROUP),
		kwb(sSAINF, "{", tBOC, sSAINFS),
		kwb(sSAINF, ";", tEOS, sINI),
		kwb(sSAINFS, "}", tEOC, sINI),
		kw(sSAINFS, "pfs_group", tPFS_GROUP),
		kw(sSAINFS, "remoteid", tREMOTEID),
		kw(sSAINFS, "my_identifier", tMY_IDENTIFIER),
		kw(sSAINFS, "lifetime", tLIFETIME),
		kw(sSAINFS, "time", tLIFETYPE_TIME),
		kw(sSAINFS, "byte", tLIFETYPE_BYTE),
		kwv(sSAINFS, "encryption_algorithm", tALGORITHM_CLASS, uint64(ClassIPsecEnc)),
		kwv(sSAINFS, "authentication_algorithm", tALGORITHM_CLASS, uint64(ClassIPsecAuth)),
		kwv(sSAINFS, "compression_algorithm", tALGORITHM_CLASS, uint64(ClassIPsecComp)),
		kw(sSAINFS, ",", tCOMMA),

		kwb(sINI, "remote", tREMOTE, sRMT),
		kw(sRMT, "anonymous", tANONYMOUS),
		kw(sRMT, "inherit", tINHERIT),
		kwb(sRMT, ";", tEOS, sINI),
		kwb(sRMT, "{", tBOC, sRMTS),
		kwb(sRMTS, "}", tEOC, sINI),
		kw(sRMTS, "remote_address", tREMOTE_ADDRESS),
		kw(sRMTS, "exchange_mode", tEXCHANGE_MODE),
		{states: []lexState{sRMTS}, lit: ",", skip: true, next: noState}, // commas ignored in remote
		kwv(sRMTS, "base", tEXCHANGETYPE, uint64(ModeBase)),
		kwv(sRMTS, "main", tEXCHANGETYPE, uint64(ModeMain)),
		kwv(sRMTS, "aggressive", tEXCHANGETYPE, uint64(ModeAggressive)),
		kw(sRMTS, "doi", tDOI),
		kwv(sRMTS, "ipsec_doi", tDOITYPE, 1),
		kw(sRMTS, "situation", tSITUATION),
		kwv(sRMTS, "identity_only", tSITUATIONTYPE, 1),
		kwv(sRMTS, "secrecy", tSITUATIONTYPE, 2),
		kwv(sRMTS, "integrity", tSITUATIONTYPE, 4),
		kw(sRMTS, "my_identifier", tMY_IDENTIFIER),
		kw(sRMTS, "xauth_login", tXAUTH_LOGIN),
		kw(sRMTS, "peers_identifier", tPEERS_IDENTIFIER),
		kw(sRMTS, "verify_identifier", tVERIFY_IDENTIFIER),
		kw(sRMTS, "certificate_type", tCERTIFICATE_TYPE),
		kw(sRMTS, "ca_type", tCA_TYPE),
		kw(sRMTS, "x509", tCERT_X509),
		kw(sRMTS, "plain_rsa", tCERT_PLAINRSA),
		kw(sRMTS, "peers_certfile", tPEERS_CERTFILE),
		kw(sRMTS, "dnssec", tDNSSEC),
		kw(sRMTS, "verify_cert", tVERIFY_CERT),
		kw(sRMTS, "send_cert", tSEND_CERT),
		kw(sRMTS, "send_cr", tSEND_CR),
		kw(sRMTS, "match_empty_cr", tMATCH_EMPTY_CR),
		kw(sRMTS, "dh_group", tDH_GROUP),
		kw(sRMTS, "nonce_size", tNONCE_SIZE),
		kw(sRMTS, "generate_policy", tGENERATE_POLICY),
		kwv(sRMTS, "unique", tGENERATE_LEVEL, uint64(GeneratePolicyUnique)),
		kwv(sRMTS, "require", tGENERATE_LEVEL, uint64(GeneratePolicyRequire)),
		kw(sRMTS, "support_proxy", tSUPPORT_PROXY),
		kw(sRMTS, "initial_contact", tINITIAL_CONTACT),
		kw(sRMTS, "nat_traversal", tNAT_TRAVERSAL),
		kw(sRMTS, "force", tREMOTE_FORCE_LEVEL),
		kw(sRMTS, "proposal_check", tPROPOSAL_CHECK),
		kwv(sRMTS, "obey", tPROPOSAL_CHECK_LEVEL, uint64(CheckObey)),
		kwv(sRMTS, "strict", tPROPOSAL_CHECK_LEVEL, uint64(CheckStrict)),
		kwv(sRMTS, "exact", tPROPOSAL_CHECK_LEVEL, uint64(CheckExact)),
		kwv(sRMTS, "claim", tPROPOSAL_CHECK_LEVEL, uint64(CheckClaim)),
		kw(sRMTS, "keepalive", tKEEPALIVE),
		kw(sRMTS, "passive", tPASSIVE),
		kw(sRMTS, "lifetime", tLIFETIME),
		kw(sRMTS, "time", tLIFETYPE_TIME),
		kw(sRMTS, "byte", tLIFETYPE_BYTE),
		kw(sRMTS, "dpd", tDPD),
		kw(sRMTS, "dpd_delay", tDPD_DELAY),
		kw(sRMTS, "dpd_retry", tDPD_RETRY),
		kw(sRMTS, "dpd_maxfail", tDPD_MAXFAIL),
		kw(sRMTS, "ph1id", tPH1ID),
		kw(sRMTS, "ike_frag", tIKE_FRAG),
		kw(sRMTS, "esp_frag", tESP_FRAG),
		kw(sRMTS, "script", tSCRIPT),
		kw(sRMTS, "phase1_up", tPHASE1_UP),
		kw(sRMTS, "phase1_down", tPHASE1_DOWN),
		kw(sRMTS, "phase1_dead", tPHASE1_DEAD),
		kw(sRMTS, "mode_cfg", tMODE_CFG),
		kw(sRMTS, "weak_phase1_check", tWEAK_PHASE1_CHECK),
		kw(sRMTS, "rekey", tREKEY),
		kwb(sRMTS, "proposal", tPROPOSAL, sRMTP),
		kw(sRMTP, "{", tBOC),
		kwb(sRMTP, "}", tEOC, sRMTS),
		kw(sRMTP, "lifetime", tLIFETIME),
		kw(sRMTP, "time", tLIFETYPE_TIME),
		kw(sRMTP, "byte", tLIFETYPE_BYTE),
		kwv(sRMTP, "encryption_algorithm", tALGORITHM_CLASS, uint64(ClassISAKMPEnc)),
		kwv(sRMTP, "authentication_method", tALGORITHM_CLASS, uint64(ClassISAKMPAuth)),
		kwv(sRMTP, "hash_algorithm", tALGORITHM_CLASS, uint64(ClassISAKMPHash)),
		kw(sRMTP, "dh_group", tDH_GROUP),
		kw(sRMTP, "gss_id", tGSS_ID),
		kw(sRMTP, "gssapi_id", tGSS_ID),

		kwb(sINI, "gss_id_enc", tGSS_ID_ENC, sGSSENC),
		kwv(sGSSENC, "latin1", tGSS_ID_ENCTYPE, 0),
		kwv(sGSSENC, "utf-16le", tGSS_ID_ENCTYPE, 1),
		kwb(sGSSENC, ";", tEOS, sINI),

		gl("on", tSWITCH, 1),
		gl("off", tSWITCH, 0),
		{match: matchPrefix, kind: tPREFIX, next: noState, starts: "/"},
		{match: matchPort, kind: tPORT, next: noState, starts: "["},
		{match: matchRange, kind: tADDRRANGE, next: noState, starts: "-"},
	}
	for _, p := range []struct {
		name  string
		proto uint64
	}{{"esp", 50}, {"ah", 51}, {"ipcomp", 108}, {"icmp", 1}, {"icmp6", 58}, {"tcp", 6}, {"udp", 17}, {"gre", 47}} {
		r = append(r, gl(p.name, tUL_PROTO, p.proto))
	}
	for i, a := range algTypes {
		r = append(r, gl(a.name, tALGORITHMTYPE, uint64(i)))
	}
	for _, id := range []struct {
		name string
		t    IDType
	}{{"user_fqdn", IDUserFQDN}, {"fqdn", IDFQDN}, {"keyid", IDKeyID}, {"address", IDAddress}, {"subnet", IDSubnet}, {"asn1dn", IDASN1DN}} {
		r = append(r, gl(id.name, tIDENTIFIERTYPE, uint64(id.t)))
	}
	r = append(r,
		gl("tag", tIDENTIFIERQUAL, uint64(QualTag)),
		gl("file", tIDENTIFIERQUAL, uint64(QualFile)),
		gl("B", tUNITTYPE_BYTE, 1), gl("byte", tUNITTYPE_BYTE, 1), gl("bytes", tUNITTYPE_BYTE, 1),
		gl("KB", tUNITTYPE_KBYTES, 1024),
		gl("MB", tUNITTYPE_MBYTES, 1024*1024),
		gl("TB", tUNITTYPE_TBYTES, 1024*1024*1024),
		gl("sec", tUNITTYPE_SEC, 1), gl("secs", tUNITTYPE_SEC, 1), gl("second", tUNITTYPE_SEC, 1), gl("seconds", tUNITTYPE_SEC, 1),
		gl("min", tUNITTYPE_MIN, 60), gl("mins", tUNITTYPE_MIN, 60), gl("minute", tUNITTYPE_MIN, 60), gl("minutes", tUNITTYPE_MIN, 60),
		gl("hour", tUNITTYPE_HOUR, 3600), gl("hours", tUNITTYPE_HOUR, 3600),
		gl("yes", tBOOLEAN, 1),
		gl("no", tBOOLEAN, 0),
		rule{match: matchDec, kind: tNUMBER, next: noState, starts: digits},
		rule{match: matchHex, kind: tHEXSTRING, next: noState, starts: "0"},
		rule{match: matchQuoted, kind: tQUOTEDSTRING, next: noState, starts: `"`},
		rule{match: matchAddr, kind: tADDRSTRING, next: noState, starts: hexDigits + ":"},
		rule{match: matchWS, skip: true, next: noState, starts: " \t"},
		rule{lit: "\n", skip: true, next: noState},
		rule{match: matchComment, skip: true, next: noState, starts: "#"},
		gl(";", tEOS, 0),
	)
	return r
}

const (
	digits    = "0123456789"
	hexDigits = digits + "abcdefABCDEF"
)

// active[state][c] lists, in file order, the rules that apply in that state
// and can match input starting with byte c.
var active = func() *[numStates][256][]int {
	var a [numStates][256][]int
	for i, r := range rules {
		states := r.states
		if len(states) == 0 {
			for s := lexState(0); s < numStates; s++ {
				states = append(states, s)
			}
		}
		first := r.starts
		if r.match == nil {
			first = r.lit[:1]
		}
		for _, s := range states {
			for j := 0; j < len(first); j++ {
				a[s][first[j]] = append(a[s][first[j]], i)
			}
		}
	}
	return &a
}()

// lexer is one open file of the include stack.
type lexer struct {
	file string
	src  []byte
	off  int
	line int
	col  int
}

func newLexer(file string, src []byte) *lexer {
	return &lexer{file: file, src: src, line: 1, col: 1}
}

func (l *lexer) advance(n int) {
	for _, c := range l.src[l.off : l.off+n] {
		if c == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
	}
	l.off += n
}

// next returns the next token, changing *state as the flex rules do.
func (l *lexer) next(state *lexState) token {
	var junk strings.Builder
	for {
		if l.off >= len(l.src) {
			return token{kind: tEOF, pos: Pos{l.file, l.line, l.col}, text: junk.String(), junk: junk.Len()}
		}
		rest := l.src[l.off:]
		best, bestLen := -1, 0
		for _, i := range active[*state][rest[0]] {
			r := &rules[i]
			n := 0
			if r.match != nil {
				n = r.match(rest)
			} else if len(rest) >= len(r.lit) && string(rest[:len(r.lit)]) == r.lit {
				n = len(r.lit)
			}
			if n > bestLen {
				best, bestLen = i, n
			}
		}
		if best < 0 {
			// the catch-all ". { yymore(); }": glue the character to the next token
			junk.WriteByte(rest[0])
			l.advance(1)
			continue
		}
		r := &rules[best]
		word := string(rest[:bestLen])
		pos := Pos{l.file, l.line, l.col}
		l.advance(bestLen)
		if r.next != noState {
			*state = r.next
		}
		if r.skip {
			junk.Reset()
			continue
		}
		t := token{kind: r.kind, word: word, text: junk.String() + word, junk: junk.Len(), pos: pos, num: r.num}
		fillValue(&t)
		return t
	}
}

// cAtoi is C's atoi/strtoul over s: leading blanks, an optional sign, digits.
func cAtoi(s string) uint64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\v' || s[i] == '\f' || s[i] == '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var v uint64
	for ; i < len(s) && isDigit(s[i]); i++ {
		d := uint64(s[i] - '0')
		if v > (^uint64(0)-d)/10 {
			return ^uint64(0) // strtoul saturates at ULONG_MAX
		}
		v = v*10 + d
	}
	if neg {
		return -v
	}
	return v
}

// fillValue computes the semantic value from yytext exactly as the C actions
// do, including the effect of characters swallowed by yymore.
func fillValue(t *token) {
	switch t.kind {
	case tNUMBER:
		t.num = cAtoi(t.text)
	case tPREFIX, tPORT:
		// the action skips one character of yytext and calls atoi
		t.num = cAtoi(t.text[1:])
	case tHEXSTRING:
		h := t.text[2:]
		if len(h)%2 == 1 {
			h = "0" + h
		}
		t.str = h
	case tQUOTEDSTRING:
		// the action cuts yytext at the first '"' after its first character
		// and keeps what follows that first character
		i := strings.IndexByte(t.text[1:], '"') + 1
		t.str = t.text[1:i]
	case tADDRSTRING:
		t.str = t.text
	case tADDRRANGE:
		t.str = t.text[1:]
	}
}
