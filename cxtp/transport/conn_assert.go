package transport

// Every transport implements Conn.
var (
	_ Conn = (*UDPConn)(nil)
	_ Conn = (*ICMPv6Conn)(nil)
	_ Conn = (*SCTPConn)(nil)
)
