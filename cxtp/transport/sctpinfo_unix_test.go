//go:build linux || freebsd

package transport

import (
	"bytes"
	"encoding/binary"
	"testing"

	"net/netip"

	"golang.org/x/sys/unix"
)

// TestSCTPSndInfoLayout checks struct sctp_sndinfo against the RFC 6458
// layout written out by hand (host byte order).
func TestSCTPSndInfoLayout(t *testing.T) {
	var want []byte
	ne := binary.NativeEndian
	want = ne.AppendUint16(want, 3)          // snd_sid
	want = ne.AppendUint16(want, 0x0400)     // snd_flags
	want = ne.AppendUint32(want, 0x01020304) // snd_ppid
	want = ne.AppendUint32(want, 7)          // snd_context
	want = ne.AppendUint32(want, 9)          // snd_assoc_id
	got := sctpSndInfo{SID: 3, Flags: 0x0400, PPID: 0x01020304, Context: 7, AssocID: 9}.marshal(nil)
	if !bytes.Equal(got, want) || len(got) != sctpSndInfoLen {
		t.Fatalf("got % x\nwant % x", got, want)
	}
}

func TestSCTPRcvInfoLayout(t *testing.T) {
	ne := binary.NativeEndian
	var b []byte
	b = ne.AppendUint16(b, 1)      // rcv_sid
	b = ne.AppendUint16(b, 2)      // rcv_ssn
	b = ne.AppendUint16(b, 1)      // rcv_flags
	b = ne.AppendUint16(b, 0)      // padding / rcv_reserved
	b = ne.AppendUint32(b, 0xabcd) // rcv_ppid
	b = ne.AppendUint32(b, 100)    // rcv_tsn
	b = ne.AppendUint32(b, 99)     // rcv_cumtsn
	b = ne.AppendUint32(b, 5)      // rcv_context
	b = ne.AppendUint32(b, 42)     // rcv_assoc_id
	ri, ok := parseRcvInfo(b)
	want := sctpRcvInfo{SID: 1, SSN: 2, Flags: 1, PPID: 0xabcd, TSN: 100, CumTSN: 99, Context: 5, AssocID: 42}
	if !ok || ri != want {
		t.Fatalf("got %+v", ri)
	}
	if _, ok := parseRcvInfo(b[:27]); ok {
		t.Fatal("short rcvinfo accepted")
	}
}

func TestSCTPSndInfoCmsg(t *testing.T) {
	oob := sndInfoCmsg(sctpSndInfo{Flags: sctpUnordered})
	cms, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(cms) != 1 {
		t.Fatalf("parse: %v (%d)", err, len(cms))
	}
	h := cms[0].Header
	if h.Level != solSCTP || h.Type != sctpCmsgSndInfo || len(cms[0].Data) != sctpSndInfoLen {
		t.Fatalf("cmsg level %d type %d len %d", h.Level, h.Type, len(cms[0].Data))
	}
	if binary.NativeEndian.Uint16(cms[0].Data[2:]) != sctpUnordered {
		t.Fatal("unordered flag not set")
	}
}

// TestSCTPUnavailableIsClear: on a kernel without SCTP (the development
// host) ListenSCTP fails with an error that says so; with SCTP it works.
func TestSCTPUnavailableIsClear(t *testing.T) {
	c, err := ListenSCTP(netipMustAddrPort("127.0.0.1:0"), SCTPOptions{})
	if err == nil {
		c.Close()
		t.Skip("this kernel has SCTP; the lab tests cover it")
	}
	if !bytes.Contains([]byte(err.Error()), []byte("sctp listen")) {
		t.Fatalf("unclear error: %v", err)
	}
	t.Log(err)
}

func netipMustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
