//go:build linux || freebsd

package pfkey

import (
	"context"
	"errors"
	"iter"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Add installs an SA (SADB_ADD).
func (c *Conn) Add(ctx context.Context, e *SAEntry) error {
	return c.doSA(ctx, e, MsgAdd)
}

// Update replaces an SA's keys, algorithms and lifetimes (SADB_UPDATE),
// typically a larval SA from GetSPI.
func (c *Conn) Update(ctx context.Context, e *SAEntry) error {
	return c.doSA(ctx, e, MsgUpdate)
}

func (c *Conn) doSA(ctx context.Context, e *SAEntry, t MsgType) error {
	m := e.Message(t)
	defer m.Wipe()
	r, err := c.Do(ctx, m)
	if err != nil {
		return err
	}
	r.Wipe()
	return nil
}

func saRequest(t MsgType, st SAType, src, dst netip.Addr, spi uint32) *Message {
	return &Message{Type: t, SAType: st, SA: &SA{SPI: spi},
		Src: HostAddress(src), Dst: HostAddress(dst)}
}

// Delete removes an SA (SADB_DELETE).
func (c *Conn) Delete(ctx context.Context, st SAType, src, dst netip.Addr, spi uint32) error {
	_, err := c.Do(ctx, saRequest(MsgDelete, st, src, dst, spi))
	return err
}

// Get reads one SA with its keys (SADB_GET).
func (c *Conn) Get(ctx context.Context, st SAType, src, dst netip.Addr, spi uint32) (*SAEntry, error) {
	r, err := c.Do(ctx, saRequest(MsgGet, st, src, dst, spi))
	if err != nil {
		return nil, err
	}
	defer r.Wipe()
	return SAEntryFrom(r)
}

// GetSPI asks the kernel for a free SPI in [min, max] for a larval SA from
// src to dst (SADB_GETSPI); min = max = 0 lets the kernel choose from its
// whole range. mode and reqid go in the SA2 extension.
func (c *Conn) GetSPI(ctx context.Context, st SAType, src, dst netip.Addr, min, max uint32, mode Mode, reqid uint32) (uint32, error) {
	m := &Message{Type: MsgGetSPI, SAType: st, Src: HostAddress(src), Dst: HostAddress(dst),
		SA2: &SA2{Mode: mode, ReqID: reqid}}
	if min != 0 || max != 0 {
		m.SPIRange = &SPIRange{Min: min, Max: max}
	}
	r, err := c.Do(ctx, m)
	if err != nil {
		return 0, err
	}
	if r.SA == nil {
		return 0, &Error{Type: MsgGetSPI, SAType: st, What: Describe(m) + ": reply without SA extension", Errno: unix.EPROTO}
	}
	return r.SA.SPI, nil
}

// Flush deletes all SAs of a type (SATypeUnspec: all) (SADB_FLUSH).
func (c *Conn) Flush(ctx context.Context, st SAType) error {
	_, err := c.Do(ctx, &Message{Type: MsgFlush, SAType: st})
	return err
}

// Dump iterates over the SAs of a type (SATypeUnspec: all), keys included
// (SADB_DUMP). Each SAEntry owns its keys; Wipe them when done.
func (c *Conn) Dump(ctx context.Context, st SAType) iter.Seq2[*SAEntry, error] {
	return func(yield func(*SAEntry, error) bool) {
		for m, err := range c.DoMulti(ctx, &Message{Type: MsgDump, SAType: st}) {
			if err != nil {
				yield(nil, err)
				return
			}
			e, err := SAEntryFrom(m)
			m.Wipe()
			if !yield(e, err) {
				return
			}
		}
	}
}

// SAs returns all SAs of a type (SATypeUnspec: all).
func (c *Conn) SAs(ctx context.Context, st SAType) ([]*SAEntry, error) {
	return c.collectSAs(ctx, st, func(*SAEntry) bool { return true })
}

// SAsFor returns the SAs (keys included) whose source or destination is
// addr: what a context transfer must move for a node.
func (c *Conn) SAsFor(ctx context.Context, addr netip.Addr) ([]*SAEntry, error) {
	return c.collectSAs(ctx, SATypeUnspec, func(e *SAEntry) bool { return e.Involves(addr) })
}

func (c *Conn) collectSAs(ctx context.Context, st SAType, keep func(*SAEntry) bool) ([]*SAEntry, error) {
	var out []*SAEntry
	for e, err := range c.Dump(ctx, st) {
		if err != nil {
			for _, o := range out {
				o.Wipe()
			}
			return nil, err
		}
		if keep(e) {
			out = append(out, e)
		} else {
			e.Wipe()
		}
	}
	return out, nil
}

// Register registers the socket for ACQUIRE and EXPIRE messages of a SA
// type (SADB_REGISTER) and returns the kernel's reply, whose SupportedAuth
// and SupportedEnc list the algorithms it can use now.
func (c *Conn) Register(ctx context.Context, st SAType) (*Message, error) {
	return c.Do(ctx, &Message{Type: MsgRegister, SAType: st})
}

// Promisc turns promiscuous mode on or off (SADB_X_PROMISC): the socket
// then receives a copy of every PF_KEY message.
func (c *Conn) Promisc(ctx context.Context, on bool) error {
	m := &Message{Type: MsgXPromisc}
	if on {
		m.SAType = 1 // sadb_msg_satype carries the flag
	}
	_, err := c.Do(ctx, m)
	return err
}

// IsNotExist reports whether err is a kernel "no such entry" error.
func IsNotExist(err error) bool { return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) }

// IsExist reports whether err is a kernel "entry exists" error.
func IsExist(err error) bool { return errors.Is(err, unix.EEXIST) }
