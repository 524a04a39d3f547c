package pfkey

import "fmt"

// Version is PF_KEY_V2, the only protocol version this package speaks.
const Version = 2

// MsgType is sadb_msg_type. The numbers are the same on FreeBSD and Linux.
type MsgType uint8

// Message types (RFC 2367 section 3.1 and the KAME extensions).
const (
	MsgReserved        MsgType = 0
	MsgGetSPI          MsgType = 1
	MsgUpdate          MsgType = 2
	MsgAdd             MsgType = 3
	MsgDelete          MsgType = 4
	MsgGet             MsgType = 5
	MsgAcquire         MsgType = 6
	MsgRegister        MsgType = 7
	MsgExpire          MsgType = 8
	MsgFlush           MsgType = 9
	MsgDump            MsgType = 10
	MsgXPromisc        MsgType = 11
	MsgXPChange        MsgType = 12
	MsgXSPDUpdate      MsgType = 13
	MsgXSPDAdd         MsgType = 14
	MsgXSPDDelete      MsgType = 15 // by selector (policy index)
	MsgXSPDGet         MsgType = 16
	MsgXSPDAcquire     MsgType = 17
	MsgXSPDDump        MsgType = 18
	MsgXSPDFlush       MsgType = 19
	MsgXSPDSetIdx      MsgType = 20
	MsgXSPDExpire      MsgType = 21
	MsgXSPDDelete2     MsgType = 22 // by policy id
	MsgXNATTNewMapping MsgType = 23 // Linux only
	MsgXMigrate        MsgType = 24 // Linux only
)

var msgTypeNames = [...]string{
	"SADB_RESERVED", "SADB_GETSPI", "SADB_UPDATE", "SADB_ADD", "SADB_DELETE", "SADB_GET",
	"SADB_ACQUIRE", "SADB_REGISTER", "SADB_EXPIRE", "SADB_FLUSH", "SADB_DUMP",
	"SADB_X_PROMISC", "SADB_X_PCHANGE", "SADB_X_SPDUPDATE", "SADB_X_SPDADD",
	"SADB_X_SPDDELETE", "SADB_X_SPDGET", "SADB_X_SPDACQUIRE", "SADB_X_SPDDUMP",
	"SADB_X_SPDFLUSH", "SADB_X_SPDSETIDX", "SADB_X_SPDEXPIRE", "SADB_X_SPDDELETE2",
	"SADB_X_NAT_T_NEW_MAPPING", "SADB_X_MIGRATE",
}

// String returns the C name, e.g. "SADB_ADD".
func (t MsgType) String() string {
	if int(t) < len(msgTypeNames) {
		return msgTypeNames[t]
	}
	return fmt.Sprintf("SADB_%d", uint8(t))
}

// SAType is sadb_msg_satype.
type SAType uint8

// SA types (identical on FreeBSD and Linux, TCPSIGNATURE is FreeBSD only).
const (
	SATypeUnspec       SAType = 0
	SATypeAH           SAType = 2
	SATypeESP          SAType = 3
	SATypeRSVP         SAType = 5
	SATypeOSPFv2       SAType = 6
	SATypeRIPv2        SAType = 7
	SATypeMIP          SAType = 8
	SATypeIPComp       SAType = 9
	SATypeTCPSignature SAType = 11 // FreeBSD only
)

// String returns the setkey name ("esp", "ah", "ipcomp", ...).
func (t SAType) String() string {
	switch t {
	case SATypeUnspec:
		return "unspec"
	case SATypeAH:
		return "ah"
	case SATypeESP:
		return "esp"
	case SATypeRSVP:
		return "rsvp"
	case SATypeOSPFv2:
		return "ospfv2"
	case SATypeRIPv2:
		return "ripv2"
	case SATypeMIP:
		return "mip"
	case SATypeIPComp:
		return "ipcomp"
	case SATypeTCPSignature:
		return "tcp"
	}
	return fmt.Sprintf("satype(%d)", uint8(t))
}

// Proto returns the IP protocol number of the SA type (50 for ESP, 51 for
// AH, 108 for IPComp), or 0.
func (t SAType) Proto() Proto {
	switch t {
	case SATypeESP:
		return ProtoESP
	case SATypeAH:
		return ProtoAH
	case SATypeIPComp:
		return ProtoIPComp
	case SATypeTCPSignature:
		return ProtoTCP
	}
	return 0
}

// ExtType is sadb_ext_type, the number on the wire. Numbers 1-23 are the
// same on both systems; 24-28 differ, see Dialect.
type ExtType uint16

// Extension numbers common to FreeBSD and Linux.
const (
	ExtReserved         ExtType = 0
	ExtSA               ExtType = 1
	ExtLifetimeCurrent  ExtType = 2
	ExtLifetimeHard     ExtType = 3
	ExtLifetimeSoft     ExtType = 4
	ExtAddressSrc       ExtType = 5
	ExtAddressDst       ExtType = 6
	ExtAddressProxy     ExtType = 7
	ExtKeyAuth          ExtType = 8
	ExtKeyEncrypt       ExtType = 9
	ExtIdentitySrc      ExtType = 10
	ExtIdentityDst      ExtType = 11
	ExtSensitivity      ExtType = 12
	ExtProposal         ExtType = 13
	ExtSupportedAuth    ExtType = 14
	ExtSupportedEncrypt ExtType = 15
	ExtSPIRange         ExtType = 16
	ExtXKMPrivate       ExtType = 17
	ExtXPolicy          ExtType = 18
	ExtXSA2             ExtType = 19
	ExtXNATTType        ExtType = 20
	ExtXNATTSport       ExtType = 21
	ExtXNATTDport       ExtType = 22
	ExtXNATTOA          ExtType = 23 // Linux NAT_T_OA, FreeBSD NAT_T_OAI
	ExtXNATTOAI         ExtType = 23
)

// Extension numbers only FreeBSD has.
const (
	ExtFreeBSDNATTOAR       ExtType = 24
	ExtFreeBSDNATTFrag      ExtType = 25
	ExtFreeBSDSAReplay      ExtType = 26
	ExtFreeBSDNewAddressSrc ExtType = 27
	ExtFreeBSDNewAddressDst ExtType = 28
)

// Extension numbers only Linux has.
const (
	ExtLinuxSecCtx    ExtType = 24
	ExtLinuxKMAddress ExtType = 25
	ExtLinuxFilter    ExtType = 26
)

// SAState is sadb_sa_state.
type SAState uint8

// SA states.
const (
	SAStateLarval SAState = 0
	SAStateMature SAState = 1
	SAStateDying  SAState = 2
	SAStateDead   SAState = 3
)

// String returns the setkey name of the state.
func (s SAState) String() string {
	switch s {
	case SAStateLarval:
		return "larval"
	case SAStateMature:
		return "mature"
	case SAStateDying:
		return "dying"
	case SAStateDead:
		return "dead"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// SAFlags is sadb_sa_flags.
type SAFlags uint32

// SA flags. The SADB_X_EXT_* flags are KAME's (setkey -f / -E options).
const (
	SAFlagPFS        SAFlags = 0x0001 // SADB_SAFLAGS_PFS
	SAFlagXOld       SAFlags = 0x0001 // SADB_X_EXT_OLD
	SAFlagXIV4B      SAFlags = 0x0010
	SAFlagXDeriv     SAFlags = 0x0020
	SAFlagXCycSeq    SAFlags = 0x0040
	SAFlagXRawCPI    SAFlags = 0x0080
	SAFlagXPRand     SAFlags = 0x0100
	SAFlagXPZero     SAFlags = 0x0200
	SAFlagXPMask     SAFlags = 0x0300
	SAFlagNoPMTUDisc SAFlags = 0x20000000 // Linux
	SAFlagDecapDSCP  SAFlags = 0x40000000 // Linux
	SAFlagNoECN      SAFlags = 0x80000000 // Linux
)

// AuthAlg is sadb_sa_auth (and sadb_alg_id in SupportedAuth).
type AuthAlg uint8

// Authentication algorithms. Numbers shared by both systems unless noted.
const (
	AuthNone          AuthAlg = 0
	AuthMD5HMAC       AuthAlg = 2
	AuthSHA1HMAC      AuthAlg = 3
	AuthSHA2_256HMAC  AuthAlg = 5
	AuthSHA2_384HMAC  AuthAlg = 6
	AuthSHA2_512HMAC  AuthAlg = 7
	AuthRIPEMD160HMAC AuthAlg = 8
	AuthAESXCBCMAC    AuthAlg = 9
	AuthSM3_256HMAC   AuthAlg = 10  // Linux
	AuthAES128GMAC    AuthAlg = 11  // FreeBSD
	AuthAES192GMAC    AuthAlg = 12  // FreeBSD
	AuthAES256GMAC    AuthAlg = 13  // FreeBSD
	AuthKeyedMD5      AuthAlg = 249 // FreeBSD (KAME)
	AuthKeyedSHA1     AuthAlg = 250 // FreeBSD (KAME)
	AuthNull          AuthAlg = 251
	AuthTCPMD5        AuthAlg = 252 // FreeBSD
)

// EncAlg is sadb_sa_encrypt (and sadb_alg_id in SupportedEncrypt). For
// IPComp SAs the same field holds a CompAlg.
type EncAlg uint8

// Encryption algorithms. Numbers shared by both systems unless noted.
const (
	EncNone        EncAlg = 0
	EncDESCBC      EncAlg = 2
	Enc3DESCBC     EncAlg = 3
	EncCAST128CBC  EncAlg = 6
	EncBlowfishCBC EncAlg = 7
	EncNull        EncAlg = 11
	EncAESCBC      EncAlg = 12 // SADB_X_EALG_AESCBC / RIJNDAELCBC
	EncAESCTR      EncAlg = 13
	EncAESCCMICV8  EncAlg = 14 // Linux
	EncAESCCMICV12 EncAlg = 15 // Linux
	EncAESCCMICV16 EncAlg = 16 // Linux
	EncAESGCMICV8  EncAlg = 18
	EncAESGCMICV12 EncAlg = 19
	EncAESGCMICV16 EncAlg = 20
	EncCamelliaCBC EncAlg = 22
	EncNullAESGMAC EncAlg = 23  // Linux NULL_AES_GMAC, FreeBSD AESGMAC
	EncSM4CBC      EncAlg = 24  // Linux
	EncSerpentCBC  EncAlg = 252 // Linux
	EncTwofishCBC  EncAlg = 253 // Linux
)

// CompAlg is the IPComp algorithm carried in sadb_sa_encrypt.
type CompAlg uint8

// Compression algorithms.
const (
	CompNone    CompAlg = 0
	CompOUI     CompAlg = 1
	CompDeflate CompAlg = 2
	CompLZS     CompAlg = 3
	CompLZJH    CompAlg = 4 // Linux
)

// IdentType is sadb_ident_type.
type IdentType uint16

// Identity types.
const (
	IdentReserved IdentType = 0
	IdentPrefix   IdentType = 1
	IdentFQDN     IdentType = 2
	IdentUserFQDN IdentType = 3
	IdentXAddr    IdentType = 4 // FreeBSD (KAME)
)

// Proto is an IP protocol number: the upper-layer protocol of an address
// extension and sadb_x_ipsecrequest_proto.
type Proto uint8

// Protocol numbers used in this package.
const (
	ProtoAny    Proto = 255 // IPSEC_ULPROTO_ANY
	ProtoICMP   Proto = 1
	ProtoTCP    Proto = 6
	ProtoUDP    Proto = 17
	ProtoICMPv6 Proto = 58
	ProtoESP    Proto = 50
	ProtoAH     Proto = 51
	ProtoMH     Proto = 135
	ProtoIPComp Proto = 108
)

// String returns the setkey name of the protocol.
func (p Proto) String() string {
	switch p {
	case ProtoAny:
		return "any"
	case ProtoICMP:
		return "icmp"
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMPv6:
		return "icmp6"
	case ProtoESP:
		return "esp"
	case ProtoAH:
		return "ah"
	case ProtoIPComp:
		return "ipcomp"
	case ProtoMH:
		return "mh"
	}
	return fmt.Sprintf("%d", uint8(p))
}

// SAType returns the SA type of an IPsec protocol (ESP, AH, IPComp).
func (p Proto) SAType() SAType {
	switch p {
	case ProtoESP:
		return SATypeESP
	case ProtoAH:
		return SATypeAH
	case ProtoIPComp:
		return SATypeIPComp
	case ProtoTCP:
		return SATypeTCPSignature
	}
	return SATypeUnspec
}

// Mode is an IPSEC_MODE_* value (sadb_x_sa2_mode, sadb_x_ipsecrequest_mode).
type Mode uint8

// Modes (netipsec/ipsec.h, linux/ipsec.h).
const (
	ModeAny       Mode = 0
	ModeTransport Mode = 1
	ModeTunnel    Mode = 2
	ModeBEET      Mode = 3 // Linux; FreeBSD uses 3 for IPSEC_MODE_TCPMD5
)

// String returns the setkey name of the mode.
func (m Mode) String() string {
	switch m {
	case ModeAny:
		return "any"
	case ModeTransport:
		return "transport"
	case ModeTunnel:
		return "tunnel"
	case ModeBEET:
		return "beet"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// Direction is an IPSEC_DIR_* value (sadb_x_policy_dir).
type Direction uint8

// Directions.
const (
	DirAny      Direction = 0
	DirInbound  Direction = 1
	DirOutbound Direction = 2
	DirForward  Direction = 3 // Linux IPSEC_DIR_FWD (FreeBSD: IPSEC_DIR_BOTH)
	DirInvalid  Direction = 4 // FreeBSD IPSEC_DIR_INVALID (Linux: 5)
)

// String returns the setkey name of the direction ("in", "out", "fwd").
func (d Direction) String() string {
	switch d {
	case DirAny:
		return "any"
	case DirInbound:
		return "in"
	case DirOutbound:
		return "out"
	case DirForward:
		return "fwd"
	}
	return fmt.Sprintf("dir(%d)", uint8(d))
}

// PolicyType is an IPSEC_POLICY_* value (sadb_x_policy_type).
type PolicyType uint16

// Policy types.
const (
	PolicyDiscard PolicyType = 0
	PolicyNone    PolicyType = 1
	PolicyIPsec   PolicyType = 2
	PolicyEntrust PolicyType = 3
	PolicyBypass  PolicyType = 4
)

// String returns the setkey name of the policy type.
func (t PolicyType) String() string {
	switch t {
	case PolicyDiscard:
		return "discard"
	case PolicyNone:
		return "none"
	case PolicyIPsec:
		return "ipsec"
	case PolicyEntrust:
		return "entrust"
	case PolicyBypass:
		return "bypass"
	}
	return fmt.Sprintf("policy(%d)", uint16(t))
}

// Level is an IPSEC_LEVEL_* value (sadb_x_ipsecrequest_level).
type Level uint8

// Levels.
const (
	LevelDefault Level = 0
	LevelUse     Level = 1
	LevelRequire Level = 2
	LevelUnique  Level = 3
)

// String returns the setkey name of the level.
func (l Level) String() string {
	switch l {
	case LevelDefault:
		return "default"
	case LevelUse:
		return "use"
	case LevelRequire:
		return "require"
	case LevelUnique:
		return "unique"
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

// PolicyScope is FreeBSD's sadb_x_policy_scope (reserved, always 0, on Linux).
type PolicyScope uint8

// FreeBSD policy scopes.
const (
	ScopeAny    PolicyScope = 0
	ScopeGlobal PolicyScope = 1
	ScopeIfnet  PolicyScope = 2
)

// ReqIDManualMax is IPSEC_MANUAL_REQID_MAX: reqids above it are allocated
// by the kernel for "unique" requests.
const ReqIDManualMax = 0x3fff
