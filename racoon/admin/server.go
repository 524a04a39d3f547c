package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/user"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/conf"
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
	// Mode 0 means 0600; a mode whose permission bits are all clear is
	// written fs.ModeSocket (as ServerConfigFromListen does for racoon.conf's
	// mode 0).
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

// Server is a listening admin socket.
type Server struct {
	cfg  ServerConfig
	d    *pfkey.Dialect
	path string
	ln   *net.UnixListener

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool

	accepted, requests, malformed, refused, errors atomic.Uint64
}

// requestTimeout bounds the time a client has to send its request.
const requestTimeout = 10 * time.Second

// Listen creates the socket as racoon's admin_init: unlink the path, bind,
// chown, chmod, listen.
func Listen(cfg ServerConfig) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("admin: no backend")
	}
	path := cfg.Path
	if path == "" {
		path = DefaultSocketPath
	}
	mode := cfg.Mode
	if mode == 0 {
		mode = 0600
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("admin: unlink %s: %w", path, err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	fail := func(err error) (*Server, error) {
		ln.Close()
		return nil, err
	}
	if cfg.UID >= 0 || cfg.GID >= 0 {
		if err := os.Chown(path, cfg.UID, cfg.GID); err != nil {
			return fail(fmt.Errorf("admin: chown %s to %d:%d: %w", path, cfg.UID, cfg.GID, err))
		}
	}
	if err := os.Chmod(path, mode.Perm()); err != nil {
		return fail(fmt.Errorf("admin: chmod %s: %w", path, err))
	}
	s := &Server{cfg: cfg, d: dialectOr(cfg.Dialect), path: path, ln: ln, conns: map[net.Conn]struct{}{}}
	s.cfg.Path = path
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// ServerConfigFromListen maps racoon.conf's listen block onto a
// ServerConfig, resolving the owner and group names as racoon does. ok is
// false when the socket is disabled (adminsock disabled).
func ServerConfigFromListen(l *conf.Listen) (cfg ServerConfig, ok bool, err error) {
	if l.AdminDisabled {
		return cfg, false, nil
	}
	cfg.Path = l.AdminSock
	cfg.Mode = 0600
	if l.AdminOwner == "" {
		return cfg, true, nil
	}
	u, err := user.Lookup(l.AdminOwner)
	if err != nil {
		return cfg, false, fmt.Errorf("admin: adminsock owner %q: %w", l.AdminOwner, err)
	}
	g, err := user.LookupGroup(l.AdminGroup)
	if err != nil {
		return cfg, false, fmt.Errorf("admin: adminsock group %q: %w", l.AdminGroup, err)
	}
	cfg.UID, _ = strconv.Atoi(u.Uid)
	cfg.GID, _ = strconv.Atoi(g.Gid)
	cfg.Mode = fs.FileMode(l.AdminMode)
	if cfg.Mode == 0 {
		cfg.Mode = fs.ModeSocket // permission bits 0, as configured
	}
	return cfg, true, nil
}

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

// Stats returns the counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{
		Accepted:  s.accepted.Load(),
		Requests:  s.requests.Load(),
		Malformed: s.malformed.Load(),
		Refused:   s.refused.Load(),
		Errors:    s.errors.Load(),
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// Serve accepts connections until Close, answering one request per
// connection (and streaming events for SHOW_EVT and establish-sa when the
// Backend is an EventSource). It returns nil after Close.
func (s *Server) Serve() error {
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if s.ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) {
				s.logf("admin: accept: %v", err)
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return fmt.Errorf("admin: accept: %w", err)
		}
		s.accepted.Add(1)
		if !s.track(c, true) {
			c.Close()
			return nil
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.track(c, false)
			defer c.Close()
			s.handle(c)
		}()
	}
}

func (s *Server) track(c net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.closed {
			return false
		}
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
	return true
}

// Close stops Serve, ends the open connections and removes the socket.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	err := s.ln.Close() // unlinks the path
	s.wg.Wait()
	return err
}

// answer is what one request produces.
type answer struct {
	errno   int16
	payload []byte
	secret  bool // payload carries keys: wipe after sending
	// stream, if set, runs after the reply on the same connection.
	stream func(c *net.UnixConn)
}

func (s *Server) handle(c *net.UnixConn) {
	c.SetReadDeadline(time.Now().Add(requestTimeout))
	var hdr [HeaderLen]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		s.malformed.Add(1)
		s.logf("admin: invalid header length of admin command: %v", err)
		return
	}
	n := RequestLen(s.d, hdr[:])
	bo := s.d.ByteOrder
	cmd := Command(bo.Uint16(hdr[2:]) &^ FlagVersion)
	proto := Proto(bo.Uint16(hdr[6:]))
	if n < HeaderLen {
		s.malformed.Add(1)
		s.logf("admin: %v: ac_len %d shorter than the header", cmd, n)
		s.reply(c, cmd, proto, answer{errno: int16(syscall.EINVAL)})
		return
	}
	buf := make([]byte, n)
	copy(buf, hdr[:])
	if _, err := io.ReadFull(c, buf[HeaderLen:]); err != nil {
		s.malformed.Add(1)
		s.logf("admin: %v: request truncated: %v", cmd, err)
		s.reply(c, cmd, proto, answer{errno: int16(syscall.EINVAL)})
		return
	}
	c.SetReadDeadline(time.Time{})
	req, err := ParseRequest(s.d, buf)
	if err != nil { // cannot happen: lengths were checked above
		s.malformed.Add(1)
		s.reply(c, cmd, proto, answer{errno: int16(syscall.EINVAL)})
		return
	}
	a := s.process(c, req)
	clear(buf) // IMPORT_PH1 and ESTABLISH_SA_PSK carry keys
	s.requests.Add(1)
	if !s.reply(c, req.Cmd, req.Proto, a) {
		return
	}
	if a.stream != nil {
		a.stream(c)
	}
}

func (s *Server) reply(c *net.UnixConn, cmd Command, proto Proto, a answer) bool {
	if a.errno != 0 {
		s.errors.Add(1)
	}
	b, err := AppendReply(s.d, nil, &Reply{Cmd: cmd, Proto: proto, Errno: a.errno, Payload: a.payload})
	if a.secret {
		clear(a.payload)
	}
	if err != nil {
		s.logf("admin: %v: %v", cmd, err)
		b, _ = AppendReply(s.d, nil, &Reply{Cmd: cmd, Proto: proto, Errno: int16(syscall.ENOMEM)})
	}
	c.SetWriteDeadline(time.Now().Add(requestTimeout))
	_, err = c.Write(b)
	if a.secret {
		clear(b)
	}
	c.SetWriteDeadline(time.Time{})
	if err != nil {
		s.logf("admin: %v: reply: %v", cmd, err)
		return false
	}
	return true
}

// Errno returns the errno a Backend error is answered with.
func Errno(err error) int16 {
	if err == nil {
		return 0
	}
	var en syscall.Errno
	switch {
	case errors.As(err, &en):
		return int16(en)
	case errors.Is(err, fs.ErrNotExist):
		return int16(syscall.ENOENT)
	case errors.Is(err, fs.ErrExist):
		return int16(syscall.EEXIST)
	case errors.Is(err, errors.ErrUnsupported):
		return int16(syscall.ENOTSUP)
	case errors.Is(err, fs.ErrPermission):
		return int16(syscall.EPERM)
	case errors.Is(err, fs.ErrInvalid):
		return int16(syscall.EINVAL)
	}
	return -1
}

func (s *Server) bad(req *Request, format string, args ...any) answer {
	s.malformed.Add(1)
	s.logf("admin: %v %v: "+format, append([]any{req.Cmd, req.Proto}, args...)...)
	return answer{errno: int16(syscall.EINVAL)}
}

func (s *Server) fromBackend(req *Request, err error) answer {
	if err != nil {
		s.logf("admin: %v %v: %v", req.Cmd, req.Proto, err)
	}
	return answer{errno: Errno(err)}
}

var enotsup = answer{errno: int16(syscall.ENOTSUP)}

func (s *Server) process(c *net.UnixConn, req *Request) (a answer) {
	defer func() {
		// A Backend that panics must not take the daemon down with the
		// admin socket; the request fails as racoon's generic error.
		if r := recover(); r != nil {
			s.logf("admin: %v %v: backend panic: %v", req.Cmd, req.Proto, r)
			a = answer{errno: -1}
		}
	}()
	b := s.cfg.Backend
	switch req.Cmd {
	case CmdReloadConf:
		if r, ok := b.(Reloader); ok {
			return s.fromBackend(req, r.ReloadConf())
		}
		return enotsup
	case CmdShowEvt:
		es, ok := b.(EventSource)
		if !ok {
			return enotsup
		}
		if req.Version == 0 {
			return answer{} // no queued events (deprecated polling)
		}
		return answer{stream: func(c *net.UnixConn) { s.streamEvents(c, es, nil) }}
	case CmdShowSA:
		return s.showSA(req)
	case CmdFlushSA:
		switch req.Proto {
		case ProtoISAKMP, ProtoIPsec, ProtoAH, ProtoESP:
			return s.fromBackend(req, b.FlushSA(req.Proto))
		}
		return enotsup
	case CmdDeleteSA:
		x, err := ParseIndexes(s.d, req.Payload)
		if err != nil {
			return s.bad(req, "%v", err)
		}
		return s.fromBackend(req, b.DeleteSA(Selector{Local: x.Src, Remote: x.Dst}))
	case CmdDeleteAllSADst:
		x, err := ParseIndexes(s.d, req.Payload)
		if err != nil {
			return s.bad(req, "%v", err)
		}
		return s.fromBackend(req, b.DeleteAllSADst(x.Dst.Addr()))
	case CmdEstablishSA, CmdEstablishSAPSK:
		return s.establish(req)
	case CmdGetSACert:
		if req.Proto != ProtoISAKMP {
			return enotsup
		}
		x, err := ParseIndexes(s.d, req.Payload)
		if err != nil {
			return s.bad(req, "%v", err)
		}
		sel := Selector{Local: x.Src, Remote: x.Dst}
		for _, p := range b.Phase1s() {
			if sel.Matches(p.Local, p.Remote, p.Index) {
				return answer{} // no certificates in ikectx
			}
		}
		return answer{errno: int16(syscall.ENOENT)}
	case CmdExportPh1, CmdImportPh1:
		cred, err := connCred(c)
		if err != nil {
			s.logf("admin: %v: peer credentials: %v", req.Cmd, err)
		}
		may := s.cfg.MayExport
		if may == nil {
			may = func(p PeerCred) bool { return p.Known && p.UID == 0 }
		}
		if !may(cred) {
			s.refused.Add(1)
			s.logf("admin: %v refused to uid %d pid %d (known %v)", req.Cmd, cred.UID, cred.PID, cred.Known)
			return answer{errno: int16(syscall.EPERM)}
		}
		if req.Cmd == CmdExportPh1 {
			return s.export(req)
		}
		return s.importPh1(req)
	}
	// SHOW_SCHED, LOGOUT_USER (no hybrid auth) and unknown commands.
	s.logf("admin: invalid command: %d", uint16(req.Cmd))
	return enotsup
}

func (s *Server) showSA(req *Request) answer {
	b := s.cfg.Backend
	if req.Proto == ProtoISAKMP {
		var out []byte
		for _, p := range b.Phase1s() {
			var err error
			if out, err = AppendPh1Dump(s.d, out, &p); err != nil {
				s.logf("admin: SHOW_SA isakmp: %v", err)
				return answer{errno: int16(syscall.ENOMEM)}
			}
		}
		return answer{payload: out}
	}
	t, ok := req.Proto.SAType()
	if !ok {
		return enotsup
	}
	sas, err := b.SAs(t)
	if err != nil {
		return s.fromBackend(req, err)
	}
	out, err := AppendSADump(s.d, nil, t, sas, uint32(os.Getpid()), uint8(syscall.ENOENT))
	for _, e := range sas {
		e.Wipe()
	}
	if err != nil {
		s.logf("admin: SHOW_SA %v: %v", req.Proto, err)
		return answer{errno: int16(syscall.ENOMEM)}
	}
	return answer{payload: out, secret: true}
}

func (s *Server) establish(req *Request) answer {
	x, err := ParseIndexes(s.d, req.Payload)
	if err != nil {
		return s.bad(req, "%v", err)
	}
	er := &EstablishRequest{Proto: req.Proto, Indexes: *x}
	rest := req.Payload[IndexesLen:]
	if req.Cmd == CmdEstablishSAPSK {
		p, err := ParsePSK(s.d, rest)
		if err != nil {
			return s.bad(req, "%v", err)
		}
		er.IDType, er.ID, er.Key = p.IDType, p.ID, p.Key
		defer p.Key.Wipe()
	} else if len(rest) > 0 {
		if i := bytes.IndexByte(rest, 0); i >= 0 {
			rest = rest[:i]
		}
		er.RemoteName = string(rest)
	}
	switch req.Proto {
	case ProtoISAKMP, ProtoESP, ProtoAH:
	default:
		return enotsup
	}
	if !x.Src.IsValid() || !x.Dst.IsValid() {
		return s.bad(req, "source or destination address missing")
	}
	err = s.cfg.Backend.EstablishSA(er)
	a := s.fromBackend(req, err)
	if err == nil && req.Versioned && req.Version >= 1 {
		if es, ok := s.cfg.Backend.(EventSource); ok {
			dst := x.Dst.Addr()
			ph2 := req.Proto != ProtoISAKMP
			a.stream = func(c *net.UnixConn) {
				s.streamEvents(c, es, func(e *Event) bool {
					if ph2 {
						return e.Type >= EvtPhase2NoPhase1 || e.Ph1Dst.Addr() == dst
					}
					return e.Type < EvtPhase2NoPhase1 && e.Ph1Dst.Addr() == dst
				})
			}
		}
	}
	return a
}

func (s *Server) export(req *Request) answer {
	sel, err := parseExportRequest(s.d, req.Payload)
	if err != nil {
		return s.bad(req, "%v", err)
	}
	pc, err := s.cfg.Backend.ExportPhase1(sel)
	if err != nil {
		return s.fromBackend(req, err)
	}
	defer pc.Wipe()
	out, err := pc.MarshalBinary()
	if err != nil {
		s.logf("admin: EXPORT_PH1: %v", err)
		return answer{errno: -1}
	}
	s.logf("admin: exported phase 1 %v", pc)
	return answer{payload: out, secret: true}
}

func (s *Server) importPh1(req *Request) answer {
	x, err := ParseIndexes(s.d, req.Payload)
	if err != nil {
		return s.bad(req, "%v", err)
	}
	pc, err := ParsePhase1Context(req.Payload[IndexesLen:])
	if err != nil {
		return s.bad(req, "%v", err)
	}
	defer pc.Wipe()
	err = s.cfg.Backend.ImportPhase1(pc, x.Src, x.Dst)
	if err == nil {
		s.logf("admin: imported phase 1 %v", pc)
	}
	return s.fromBackend(req, err)
}

// streamEvents pushes events as SHOW_EVT replies until the client closes,
// a write fails or the server stops.
func (s *Server) streamEvents(c *net.UnixConn, es EventSource, keep func(*Event) bool) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() {
		// The client sends nothing more: a read returns when it closes.
		var b [1]byte
		c.Read(b[:])
		cancel()
	}()
	for e := range es.Events(ctx) {
		if keep != nil && !keep(&e) {
			continue
		}
		p, err := AppendEvent(s.d, nil, &e)
		if err != nil {
			s.logf("admin: event: %v", err)
			continue
		}
		b, _ := AppendReply(s.d, nil, &Reply{Cmd: CmdShowEvt, Payload: p})
		c.SetWriteDeadline(time.Now().Add(requestTimeout))
		if _, err := c.Write(b); err != nil {
			return
		}
	}
}

func connCred(c *net.UnixConn) (PeerCred, error) {
	if c == nil {
		return PeerCred{}, errors.New("no connection")
	}
	return peerCred(c)
}

// Matches reports whether a phase 1 with these addresses and cookies is
// selected.
func (sel Selector) Matches(local, remote netip.AddrPort, x Index) bool {
	return matchAddr(sel.Local, local) && matchAddr(sel.Remote, remote) &&
		(sel.Index.IsZero() || sel.Index == x)
}

func matchAddr(want, have netip.AddrPort) bool {
	if !want.IsValid() {
		return true
	}
	if want.Addr().WithZone("") != have.Addr().WithZone("") {
		return false
	}
	return want.Port() == 0 || want.Port() == have.Port()
}
