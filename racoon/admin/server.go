package admin

import (
	"errors"
	"io/fs"

	"github.com/ikectx/ikectx/pfkey"
)

// DefaultSocketPath is ADMINSOCK_PATH of a racoon configured with
// --localstatedir=/var.
const DefaultSocketPath = "/var/racoon/racoon.sock"

// ServerConfig configures the admin socket.
type ServerConfig struct {
	// Path of the socket; "" is DefaultSocketPath.
	Path string
	// UID, GID and Mode are applied to the socket after bind, as racoon's
	// admin_init (defaults 0, 0, 0600). Use -1 to leave owner or group.
	UID, GID int
	Mode     fs.FileMode
	// Backend answers the commands.
	Backend Backend
	// Dialect gives the byte order and sockaddr form of the structs;
	// nil is pfkey.Native.
	Dialect *pfkey.Dialect
	// MayExport decides whether a client may use EXPORT_PH1 and
	// IMPORT_PH1; nil allows uid 0 only.
	MayExport func(PeerCred) bool
	// Logf receives one line per refused or malformed request; nil
	// discards.
	Logf func(format string, args ...any)
}

// PeerCred is the client's identity from the socket (SO_PEERCRED on
// Linux, getpeereid on FreeBSD). Known is false where the system cannot
// tell.
type PeerCred struct {
	UID, GID uint32
	PID      int32 // 0 where unknown (FreeBSD's getpeereid has no pid)
	Known    bool
}

// ServerStats counts requests.
type ServerStats struct {
	Accepted  uint64 // connections
	Requests  uint64 // well-formed requests answered
	Malformed uint64 // requests answered with EINVAL or dropped
	Refused   uint64 // export/import refused for lack of privilege
	Errors    uint64 // replies with a non-zero errno (Malformed and Refused included)
}

var errNotYet = errors.New("admin: not implemented yet")

// Server is a listening admin socket.
type Server struct {
	cfg ServerConfig
}

// Listen creates the socket as racoon does: unlink the path, bind, chown,
// chmod, listen.
func Listen(cfg ServerConfig) (*Server, error) { return nil, errNotYet }

// Serve accepts connections until Close, answering one request per
// connection (streaming events for SHOW_EVT and establish-sa -w).
func (s *Server) Serve() error { return errNotYet }

// Close stops Serve and removes the socket file.
func (s *Server) Close() error { return errNotYet }

// Path returns the socket's path.
func (s *Server) Path() string { return s.cfg.Path }

// Stats returns the counters.
func (s *Server) Stats() ServerStats { return ServerStats{} }
