package transport

// SCTP constants of Linux (include/uapi/linux/sctp.h, bits/socket.h).
const (
	solSCTP          = 132    // SOL_SCTP = IPPROTO_SCTP
	sctpNoDelay      = 3      // SCTP_NODELAY
	sctpRecvRcvInfo  = 32     // SCTP_RECVRCVINFO
	sctpCmsgSndInfo  = 2      // SCTP_SNDINFO cmsg type
	sctpCmsgRcvInfo  = 3      // SCTP_RCVINFO cmsg type
	sctpUnordered    = 1      // SCTP_UNORDERED in snd_flags / rcv_flags
	msgNotification  = 0x8000 // MSG_NOTIFICATION
	sctpSupportedMsg = "load the sctp module"
)
