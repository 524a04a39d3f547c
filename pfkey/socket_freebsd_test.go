package pfkey

import "testing"

// TestSocketFreeBSD pins the key socket to FreeBSD's sys/socket.h
// (pseudo_AF_KEY 27, not Linux's PF_KEY 15) and the native dialect to
// FreeBSD's (8-byte sadb_x_ipsecrequest, sa_len sockaddrs).
func TestSocketFreeBSD(t *testing.T) {
	if pfKey != 27 {
		t.Errorf("pfKey = %d, want 27 (pseudo_AF_KEY)", pfKey)
	}
	if Native.Name != FreeBSD.Name {
		t.Errorf("native dialect %q, want FreeBSD's", Native.Name)
	}
	if !Native.SockaddrLen {
		t.Error("native sockaddrs without sa_len")
	}
	if Native.IPSecRequestLen != 8 {
		t.Errorf("sadb_x_ipsecrequest is %d bytes, want 8", Native.IPSecRequestLen)
	}
}
