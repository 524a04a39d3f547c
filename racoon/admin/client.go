package admin

import (
	"context"
	"net/netip"
	"time"

	"github.com/ikectx/ikectx/pfkey"
)

// Client talks to an admin socket, one connection per request.
type Client struct {
	// Path of the socket; "" is DefaultSocketPath.
	Path string
	// Dialect of the structs; nil is pfkey.Native.
	Dialect *pfkey.Dialect
	// Timeout bounds one request when the context has no deadline; 0 is
	// 10 seconds.
	Timeout time.Duration
}

// ErrnoError is a reply with a non-zero ac_errno.
type ErrnoError struct {
	Cmd   Command
	Proto Proto
	Errno int16
}

// Phase1s lists the phase-1 SAs (show-sa isakmp).
func (c *Client) Phase1s(ctx context.Context) ([]Phase1Info, error) { return nil, errNotYet }

// ExportPhase1 fetches the phase-1 context that sel picks (EXPORT_PH1).
func (c *Client) ExportPhase1(ctx context.Context, sel Selector) (*Phase1Context, error) {
	return nil, errNotYet
}

// ImportPhase1 installs pc in the daemon (IMPORT_PH1); valid local/remote
// replace the context's addresses.
func (c *Client) ImportPhase1(ctx context.Context, pc *Phase1Context, local, remote netip.AddrPort) error {
	return errNotYet
}

func (e *ErrnoError) Error() string {
	return "admin: " + e.Cmd.String() + " " + e.Proto.String() + ": " + errnoString(e.Errno)
}
