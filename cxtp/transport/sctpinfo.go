package transport

import "encoding/binary"

// sctpSndInfo is struct sctp_sndinfo (RFC 6458 section 5.3.4), the same 16
// octets on Linux and FreeBSD, in host byte order:
//
//	uint16 snd_sid; uint16 snd_flags; uint32 snd_ppid;
//	uint32 snd_context; uint32 snd_assoc_id
type sctpSndInfo struct {
	SID     uint16
	Flags   uint16
	PPID    uint32 // sent as is: the stack does not change its byte order
	Context uint32
	AssocID uint32
}

const sctpSndInfoLen = 16

func (s sctpSndInfo) marshal(b []byte) []byte {
	ne := binary.NativeEndian
	b = ne.AppendUint16(b, s.SID)
	b = ne.AppendUint16(b, s.Flags)
	b = ne.AppendUint32(b, s.PPID)
	b = ne.AppendUint32(b, s.Context)
	return ne.AppendUint32(b, s.AssocID)
}

// sctpRcvInfo is struct sctp_rcvinfo (RFC 6458 section 5.3.5), 28 octets
// on Linux and FreeBSD (Linux leaves the 2 octets after rcv_flags as
// implicit padding, FreeBSD names them rcv_reserved):
//
//	uint16 rcv_sid; uint16 rcv_ssn; uint16 rcv_flags; uint16 pad;
//	uint32 rcv_ppid; uint32 rcv_tsn; uint32 rcv_cumtsn;
//	uint32 rcv_context; uint32 rcv_assoc_id
type sctpRcvInfo struct {
	SID, SSN, Flags uint16
	PPID, TSN       uint32
	CumTSN          uint32
	Context         uint32
	AssocID         uint32
}

const sctpRcvInfoLen = 28

func parseRcvInfo(b []byte) (sctpRcvInfo, bool) {
	if len(b) < sctpRcvInfoLen {
		return sctpRcvInfo{}, false
	}
	ne := binary.NativeEndian
	return sctpRcvInfo{
		SID:     ne.Uint16(b[0:]),
		SSN:     ne.Uint16(b[2:]),
		Flags:   ne.Uint16(b[4:]),
		PPID:    ne.Uint32(b[8:]),
		TSN:     ne.Uint32(b[12:]),
		CumTSN:  ne.Uint32(b[16:]),
		Context: ne.Uint32(b[20:]),
		AssocID: ne.Uint32(b[24:]),
	}, true
}
