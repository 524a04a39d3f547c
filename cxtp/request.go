package cxtp

import (
	"errors"
	"fmt"
)

// Requested Context Data Blocks (RFC 4067 sections 2.4, 2.5.1, 2.5.6).
//
// CTAR and CT-Req name the contexts they ask for with Context Data Blocks
// of which, per section 2.4, "only the first 4 octets are typically
// necessary". This package sends and accepts exactly that form, one
// 4-octet block per requested FPT:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Feature Profile Type (FPT)  | Length = 0    |0|  Reserved   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Length is 0 because the block carries no 8-octet data word (the RFC
// does not say which Length a header-only request block has; 0 is the
// only value that describes 4 octets). A request block with a presence
// vector or data (P set or Length not 0) is rejected with ErrRequestCDB:
// this package could not relay it verbatim nor recompute a token over it.
// The authorization token covers these 4-octet blocks as they are sent
// (section 2.5.1), see Token.

// ErrRequestCDB is the cause when a requested CDB is not a 4-octet,
// header-only block.
var ErrRequestCDB = errors.New("requested context data block is not a 4-octet header-only block")

// appendRequests appends one 4-octet request block per FPT.
func appendRequests(b []byte, fpts []FPT) []byte {
	for _, f := range fpts {
		b = append(b, byte(f>>8), byte(f), 0, 0)
	}
	return b
}

// requests decodes the request blocks filling the rest of the message.
func (r *reader) requests(field string) []FPT {
	if r.err != nil {
		return nil
	}
	var out []FPT
	for i := 0; r.rest() > 0; i++ {
		name := field + " " + itoa(i)
		if r.rest() < ReqCDBLen {
			r.err = decErr(r.t, name, fmt.Errorf("%w: %d octets left", ErrTruncated, r.rest()))
			return nil
		}
		f := FPT(r.u16(name))
		words := r.u8(name)
		flags := r.u8(name)
		if words != 0 || flags&cdbFlagPresence != 0 {
			r.err = decErr(r.t, name, fmt.Errorf("%w (FPT %d, length %d words, P=%t)", ErrRequestCDB, f, words, flags&cdbFlagPresence != 0))
			return nil
		}
		out = append(out, f)
	}
	return out
}

// isRequestBlock reports whether c is sent as a header-only request block.
func (c *CDB) isRequestBlock() bool { return !c.HasPresence && len(c.Data) == 0 }

// appendTokenCDBs appends cdbs in the form a CTAR carries them: a block
// without presence vector and data as its 4-octet request header, any other
// in full. Blocks too large to encode are skipped.
func appendTokenCDBs(b []byte, cdbs []CDB) []byte {
	for i := range cdbs {
		if cdbs[i].isRequestBlock() {
			b = appendRequests(b, []FPT{cdbs[i].FPT})
			continue
		}
		if e, err := cdbs[i].AppendBinary(b); err == nil {
			b = e
		}
	}
	return b
}
