package conf

import "fmt"

// Pos is a place in a configuration file: 1-based line and column (in bytes).
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// tokKind mirrors the bison token names of ipsec-tools' cfparse.y.
type tokKind int

const (
	tEOF tokKind = iota
	tEOS
	tBOC
	tEOC
	tCOMMA
	tPRIVSEP
	tUSER
	tGROUP
	tCHROOT
	tPATH
	tPATHTYPE
	tINCLUDE
	tPFKEY_BUFFER
	tCOMPLEX_BUNDLE
	tLOGGING
	tLOGLEV
	tPADDING
	tPAD_RANDOMIZE
	tPAD_RANDOMIZELEN
	tPAD_MAXLEN
	tPAD_STRICT
	tPAD_EXCLTAIL
	tLISTEN
	tX_ISAKMP
	tX_ISAKMP_NATT
	tX_ADMIN
	tADMINSOCK
	tDISABLED
	tSTRICT_ADDRESS
	tRADCFG
	tRAD_AUTH
	tRAD_ACCT
	tRAD_TIMEOUT
	tRAD_RETRIES
	tLDAPCFG
	tLDAP_PVER
	tLDAP_HOST
	tLDAP_PORT
	tLDAP_BASE
	tLDAP_SUBTREE
	tLDAP_BIND_DN
	tLDAP_BIND_PW
	tLDAP_ATTR_USER
	tLDAP_ATTR_ADDR
	tLDAP_ATTR_MASK
	tLDAP_ATTR_GROUP
	tLDAP_ATTR_MEMBER
	tMODECFG
	tCFG_NET4
	tCFG_MASK4
	tCFG_DNS4
	tCFG_NBNS4
	tCFG_DEFAULT_DOMAIN
	tCFG_AUTH_SOURCE
	tCFG_AUTH_GROUPS
	tCFG_GROUP_SOURCE
	tCFG_CONF_SOURCE
	tCFG_ACCOUNTING
	tCFG_SYSTEM
	tCFG_LOCAL
	tCFG_NONE
	tCFG_RADIUS
	tCFG_PAM
	tCFG_LDAP
	tCFG_POOL_SIZE
	tCFG_MOTD
	tCFG_AUTH_THROTTLE
	tCFG_SPLIT_NETWORK
	tCFG_SPLIT_LOCAL
	tCFG_SPLIT_INCLUDE
	tCFG_SPLIT_DNS
	tCFG_PFS_GROUP
	tCFG_SAVE_PASSWD
	tRETRY
	tRETRY_COUNTER
	tRETRY_INTERVAL
	tRETRY_PERSEND
	tRETRY_PHASE1
	tRETRY_PHASE2
	tNATT_KA
	tSAINFO
	tANONYMOUS
	tCLIENTADDR
	tPORTANY
	tANY
	tFROM
	tPFS_GROUP
	tREMOTEID
	tMY_IDENTIFIER
	tLIFETIME
	tLIFETYPE_TIME
	tLIFETYPE_BYTE
	tALGORITHM_CLASS
	tREMOTE
	tINHERIT
	tREMOTE_ADDRESS
	tEXCHANGE_MODE
	tEXCHANGETYPE
	tDOI
	tDOITYPE
	tSITUATION
	tSITUATIONTYPE
	tXAUTH_LOGIN
	tPEERS_IDENTIFIER
	tVERIFY_IDENTIFIER
	tCERTIFICATE_TYPE
	tCA_TYPE
	tCERT_X509
	tCERT_PLAINRSA
	tPEERS_CERTFILE
	tDNSSEC
	tVERIFY_CERT
	tSEND_CERT
	tSEND_CR
	tMATCH_EMPTY_CR
	tDH_GROUP
	tNONCE_SIZE
	tGENERATE_POLICY
	tGENERATE_LEVEL
	tSUPPORT_PROXY
	tINITIAL_CONTACT
	tNAT_TRAVERSAL
	tREMOTE_FORCE_LEVEL
	tPROPOSAL_CHECK
	tPROPOSAL_CHECK_LEVEL
	tKEEPALIVE
	tPASSIVE
	tDPD
	tDPD_DELAY
	tDPD_RETRY
	tDPD_MAXFAIL
	tPH1ID
	tIKE_FRAG
	tESP_FRAG
	tSCRIPT
	tPHASE1_UP
	tPHASE1_DOWN
	tPHASE1_DEAD
	tMODE_CFG
	tWEAK_PHASE1_CHECK
	tREKEY
	tPROPOSAL
	tGSS_ID
	tGSS_ID_ENC
	tGSS_ID_ENCTYPE
	tSWITCH
	tPREFIX
	tPORT
	tADDRRANGE
	tUL_PROTO
	tALGORITHMTYPE
	tIDENTIFIERTYPE
	tIDENTIFIERQUAL
	tUNITTYPE_BYTE
	tUNITTYPE_KBYTES
	tUNITTYPE_MBYTES
	tUNITTYPE_TBYTES
	tUNITTYPE_SEC
	tUNITTYPE_MIN
	tUNITTYPE_HOUR
	tBOOLEAN
	tNUMBER
	tHEXSTRING
	tQUOTEDSTRING
	tADDRSTRING
)

// token is one lexeme. Text is flex's yytext: the characters swallowed by the
// catch-all rule (yymore) followed by the matched characters; Junk is the
// length of that swallowed prefix.
type token struct {
	kind tokKind
	word string // the matched characters without the swallowed prefix
	text string // yytext
	junk int
	pos  Pos // position of the matched characters
	num  uint64
	str  string // value of QUOTEDSTRING, ADDRSTRING, ADDRRANGE, HEXSTRING
}

// describe names a token for error messages the way racoon quotes yytext.
func (t token) describe() string {
	if t.kind == tEOF {
		return "end of file"
	}
	return fmt.Sprintf("%q", t.text)
}
