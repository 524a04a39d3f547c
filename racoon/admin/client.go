package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"
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

func (e *ErrnoError) Error() string {
	return "admin: " + e.Cmd.String() + " " + e.Proto.String() + ": " + errnoString(e.Errno)
}

// Is makes errors.Is(err, syscall.EEXIST) (and fs.ErrExist, ...) work.
func (e *ErrnoError) Is(target error) bool {
	if e.Errno <= 0 {
		return false
	}
	return syscall.Errno(e.Errno) == target || errors.Is(syscall.Errno(e.Errno), target)
}

func (c *Client) path() string {
	if c.Path == "" {
		return DefaultSocketPath
	}
	return c.Path
}

// Conn is one open request: the reply has been read, further replies
// (streamed events) can be read with Next.
type Conn struct {
	c *net.UnixConn
	d *pfkey.Dialect
}

// Close closes the connection.
func (cn *Conn) Close() error { return cn.c.Close() }

// Next reads one reply (an event pushed by the server after the first).
func (cn *Conn) Next() (*Reply, error) {
	var hdr [HeaderLen]byte
	if _, err := io.ReadFull(cn.c, hdr[:]); err != nil {
		return nil, err
	}
	n := ReplyLen(cn.d, hdr[:])
	if n < HeaderLen || n > MaxReply {
		return nil, perr("reply", 0, "length %d", n)
	}
	b := make([]byte, n)
	copy(b, hdr[:])
	if _, err := io.ReadFull(cn.c, b[HeaderLen:]); err != nil {
		return nil, fmt.Errorf("admin: reply truncated: %w", err)
	}
	return ParseReply(cn.d, b)
}

// SetDeadline sets the deadline of further reads.
func (cn *Conn) SetDeadline(t time.Time) error { return cn.c.SetDeadline(t) }

// Open connects, sends req and reads the first reply. The connection stays
// open for Next; the caller closes it. A reply with an errno is returned
// with an *ErrnoError.
func (c *Client) Open(ctx context.Context, req *Request) (*Conn, *Reply, error) {
	d := dialectOr(c.Dialect)
	b, err := AppendRequest(d, nil, req)
	if err != nil {
		return nil, nil, err
	}
	defer clear(b)
	var dl net.Dialer
	nc, err := dl.DialContext(ctx, "unix", c.path())
	if err != nil {
		return nil, nil, fmt.Errorf("admin: %w", err)
	}
	uc := nc.(*net.UnixConn)
	cn := &Conn{c: uc, d: d}
	deadline, ok := ctx.Deadline()
	if !ok {
		t := c.Timeout
		if t == 0 {
			t = 10 * time.Second
		}
		deadline = time.Now().Add(t)
	}
	uc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { uc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := uc.Write(b); err != nil {
		uc.Close()
		return nil, nil, fmt.Errorf("admin: send %v: %w", req.Cmd, err)
	}
	r, err := cn.Next()
	if err != nil {
		uc.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, nil, fmt.Errorf("admin: %v %v: %w", req.Cmd, req.Proto, err)
	}
	if r.Errno != 0 {
		return cn, r, &ErrnoError{Cmd: r.Cmd, Proto: r.Proto, Errno: r.Errno}
	}
	return cn, r, nil
}

// Do sends one request and returns its reply, closing the connection.
func (c *Client) Do(ctx context.Context, req *Request) (*Reply, error) {
	cn, r, err := c.Open(ctx, req)
	if cn != nil {
		cn.Close()
	}
	return r, err
}

func versioned(cmd Command, proto Proto, payload []byte) *Request {
	return &Request{Cmd: cmd, Versioned: true, Version: 1, Proto: proto, Payload: payload}
}

// Phase1s lists the phase-1 SAs (show-sa isakmp).
func (c *Client) Phase1s(ctx context.Context) ([]Phase1Info, error) {
	r, err := c.Do(ctx, versioned(CmdShowSA, ProtoISAKMP, nil))
	if err != nil {
		return nil, err
	}
	return ParsePh1Dumps(c.Dialect, r.Payload)
}

// SAs dumps the IPsec SAs of proto (ProtoIPsec, ProtoESP, ProtoAH), keys
// included; none is an empty list.
func (c *Client) SAs(ctx context.Context, p Proto) ([]*pfkey.SAEntry, error) {
	r, err := c.Do(ctx, versioned(CmdShowSA, p, nil))
	if err != nil {
		return nil, err
	}
	msgs, err := ParseSADump(c.Dialect, r.Payload)
	defer func() {
		for _, m := range msgs {
			m.Wipe()
		}
		clear(r.Payload)
	}()
	if err != nil {
		return nil, err
	}
	var out []*pfkey.SAEntry
	for _, m := range msgs {
		if m.Errno == uint8(syscall.ENOENT) {
			return nil, nil
		}
		if m.Errno != 0 {
			return nil, fmt.Errorf("admin: SA dump: %w", syscall.Errno(m.Errno))
		}
		e, err := pfkey.SAEntryFrom(m)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// FlushSA flushes the phase-1 SAs (ProtoISAKMP) or IPsec SAs.
func (c *Client) FlushSA(ctx context.Context, p Proto) error {
	_, err := c.Do(ctx, versioned(CmdFlushSA, p, nil))
	return err
}

// DeleteSA deletes the phase-1 SAs between local and remote (port 0: any).
func (c *Client) DeleteSA(ctx context.Context, local, remote netip.AddrPort) error {
	b, err := AppendIndexes(c.Dialect, nil, &Indexes{PrefS: 32, PrefD: 32, Src: local, Dst: remote})
	if err != nil {
		return err
	}
	_, err = c.Do(ctx, versioned(CmdDeleteSA, ProtoISAKMP, b))
	return err
}

// EstablishSA asks the daemon to start a phase 1 or a quick mode. The
// request is sent without the version flag, so the daemon streams no
// events; use Open for that.
func (c *Client) EstablishSA(ctx context.Context, er *EstablishRequest) error {
	req, err := EstablishRequestMessage(c.Dialect, er)
	if err != nil {
		return err
	}
	req.Versioned = false
	_, err = c.Do(ctx, req)
	return err
}

// EstablishRequestMessage builds the ESTABLISH_SA or ESTABLISH_SA_PSK
// request as racoonctl does (version 1).
func EstablishRequestMessage(d *pfkey.Dialect, er *EstablishRequest) (*Request, error) {
	b, err := AppendIndexes(d, nil, &er.Indexes)
	if err != nil {
		return nil, err
	}
	cmd := CmdEstablishSA
	switch {
	case er.ID != nil || er.Key != nil:
		cmd = CmdEstablishSAPSK
		b = AppendPSK(d, b, &PSK{IDType: er.IDType, ID: er.ID, Key: er.Key})
	case er.RemoteName != "" && er.Proto == ProtoISAKMP:
		b = append(append(b, er.RemoteName...), 0)
	}
	return versioned(cmd, er.Proto, b), nil
}

// ExportPhase1 fetches the phase-1 context that sel picks (EXPORT_PH1).
// The caller wipes it.
func (c *Client) ExportPhase1(ctx context.Context, sel Selector) (*Phase1Context, error) {
	b, err := appendExportRequest(dialectOr(c.Dialect), nil, sel)
	if err != nil {
		return nil, err
	}
	r, err := c.Do(ctx, versioned(CmdExportPh1, ProtoISAKMP, b))
	if err != nil {
		return nil, err
	}
	defer clear(r.Payload)
	return ParsePhase1Context(r.Payload)
}

// ImportPhase1 installs pc in the daemon (IMPORT_PH1); valid local/remote
// replace the context's addresses.
func (c *Client) ImportPhase1(ctx context.Context, pc *Phase1Context, local, remote netip.AddrPort) error {
	b, err := AppendIndexes(c.Dialect, nil, &Indexes{Src: local, Dst: remote})
	if err != nil {
		return err
	}
	b, err = pc.AppendBinary(b)
	if err != nil {
		return err
	}
	defer clear(b)
	_, err = c.Do(ctx, versioned(CmdImportPh1, ProtoISAKMP, b))
	return err
}

// Events subscribes to the daemon's events (SHOW_EVT, version 1) until ctx
// is done or the daemon closes the connection; the channel is closed then.
func (c *Client) Events(ctx context.Context) (<-chan Event, error) {
	d := dialectOr(c.Dialect)
	b, err := AppendRequest(d, nil, versioned(CmdShowEvt, 0, nil))
	if err != nil {
		return nil, err
	}
	var dl net.Dialer
	nc, err := dl.DialContext(ctx, "unix", c.path())
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	uc := nc.(*net.UnixConn)
	cn := &Conn{c: uc, d: d}
	if _, err := uc.Write(b); err != nil {
		uc.Close()
		return nil, fmt.Errorf("admin: send SHOW_EVT: %w", err)
	}
	ch := make(chan Event, 16)
	stop := context.AfterFunc(ctx, func() { uc.Close() })
	go func() {
		defer close(ch)
		defer stop()
		defer uc.Close()
		for {
			r, err := cn.Next()
			if err != nil {
				return
			}
			if r.Errno != 0 {
				return
			}
			if len(r.Payload) == 0 {
				continue
			}
			e, err := ParseEvent(d, r.Payload)
			if err != nil {
				continue
			}
			select {
			case ch <- *e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}
