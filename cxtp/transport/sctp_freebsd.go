package transport

// SCTP constants of FreeBSD (netinet/sctp.h, netinet/sctp_uio.h,
// sys/socket.h).
const (
	solSCTP          = 132        // IPPROTO_SCTP
	sctpNoDelay      = 0x00000004 // SCTP_NODELAY
	sctpRecvRcvInfo  = 0x0000001f // SCTP_RECVRCVINFO
	sctpCmsgSndInfo  = 0x0004     // SCTP_SNDINFO cmsg type
	sctpCmsgRcvInfo  = 0x0005     // SCTP_RCVINFO cmsg type
	sctpUnordered    = 0x0400     // SCTP_UNORDERED in snd_flags / rcv_flags
	msgNotification  = 0x2000     // MSG_NOTIFICATION
	sctpSupportedMsg = "kldload sctp"
)
