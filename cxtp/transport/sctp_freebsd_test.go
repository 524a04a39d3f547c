package transport

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestSCTPConstantsFreeBSD pins the SCTP socket constants to FreeBSD's
// headers (netinet/sctp.h: SCTP_NODELAY 0x04, SCTP_RECVRCVINFO 0x1f;
// netinet/sctp_uio.h: cmsg SCTP_SNDINFO 0x0004, SCTP_RCVINFO 0x0005,
// SCTP_UNORDERED 0x0400; sys/socket.h: MSG_NOTIFICATION 0x2000), which
// differ from Linux's (SCTP_RECVRCVINFO 32, MSG_NOTIFICATION 0x8000), and to
// x/sys/unix where it has them.
func TestSCTPConstantsFreeBSD(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"IPPROTO_SCTP", solSCTP, unix.IPPROTO_SCTP},
		{"IPPROTO_SCTP (132)", solSCTP, 132},
		{"SCTP_NODELAY", sctpNoDelay, 0x04},
		{"SCTP_RECVRCVINFO", sctpRecvRcvInfo, 0x1f},
		{"SCTP_SNDINFO", sctpCmsgSndInfo, 0x0004},
		{"SCTP_RCVINFO", sctpCmsgRcvInfo, 0x0005},
		{"SCTP_UNORDERED", sctpUnordered, 0x0400},
		{"MSG_NOTIFICATION", msgNotification, unix.MSG_NOTIFICATION},
		{"MSG_NOTIFICATION (0x2000)", msgNotification, 0x2000},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}
