package cxtp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"net/netip"
)

// TokenLen is the length of the MN authorization token.
const TokenLen = 4

// Token computes the MN authorization token of RFC 4067 section 2.5.1:
//
//	First(32, HMAC_SHA1(key, Previous Address | Sequence Number | CDBs))
//
// prevAddr is the MN's previous care-of address, 4 octets for IPv4 and 16
// for IPv6 exactly as carried in the message; seq is the 32-bit sequence
// number in network order; cdbs are the CTAR's requested Context Data
// Blocks encoded as the CTAR carries them: a block with neither presence
// vector nor data is its 4-octet header (request.go), any other block is
// encoded in full. No cdbs (a request for every context) adds nothing.
// CDBs too large to encode are skipped: they could never be sent either.
func Token(key []byte, prevAddr netip.Addr, seq uint32, cdbs []CDB) [TokenLen]byte {
	m := hmac.New(sha1.New, key)
	var buf [16 + 4]byte
	b := appendAddr(buf[:0], prevAddr)
	b = binary.BigEndian.AppendUint32(b, seq)
	m.Write(b)
	if len(cdbs) > 0 {
		m.Write(appendTokenCDBs(nil, cdbs))
	}
	var sum [sha1.Size]byte
	var tok [TokenLen]byte
	copy(tok[:], m.Sum(sum[:0]))
	return tok
}

// VerifyToken recomputes the token and compares it with got in constant
// time.
func VerifyToken(key []byte, prevAddr netip.Addr, seq uint32, cdbs []CDB, got [TokenLen]byte) bool {
	want := Token(key, prevAddr, seq, cdbs)
	return subtle.ConstantTimeCompare(want[:], got[:]) == 1
}
