package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/ikectx/ikectx/cxtp"
	"github.com/ikectx/ikectx/cxtp/engine"
	"github.com/ikectx/ikectx/cxtp/transport"
)

// mnDaemon is the MN role: the MN engine over ICMPv6, driven by the
// control socket (the testbed or a mobility daemon says when the MN moves).
//
// CXTP messages must leave from the right care-of address (the pAR tells a
// handover request from an activation by it), so the MN keeps one ICMPv6
// socket bound to each address it sends from.
type mnDaemon struct {
	cfg *Config
	eng *engine.MNEngine
	log *slog.Logger
	ctx context.Context
	wg  sync.WaitGroup

	mu    sync.Mutex
	cur   netip.Addr                    // current care-of address
	curAR netip.Addr                    // current access router
	src   map[netip.Addr]netip.Addr     // AR -> the address to send to it from
	conns map[netip.Addr]transport.Conn // bound per local address
	next  *move                         // the MN's move prepared by `handover NAR NCOA`
}

func (d *mnDaemon) Send(ar netip.Addr, b []byte) error {
	d.mu.Lock()
	from, ok := d.src[ar]
	if !ok {
		from = d.cur
	}
	d.mu.Unlock()
	c, err := d.conn(from)
	if err != nil {
		return err
	}
	return c.WriteTo(b, netip.AddrPortFrom(ar, 0))
}

// conn returns (opening) the socket bound to a local address.
func (d *mnDaemon) conn(a netip.Addr) (transport.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.conns[a]; c != nil {
		return c, nil
	}
	c, err := transport.ListenICMPv6(a)
	if err != nil {
		return nil, err
	}
	d.conns[a] = c
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			p, err := c.ReadFrom(d.ctx)
			if err != nil {
				if d.ctx.Err() != nil || errors.Is(err, transport.ErrClosed) {
					return
				}
				d.log.Warn("cxtp: receive", "local", a, "err", err)
				time.Sleep(receiveErrorPause) // a persistent error must not spin
				continue
			}
			d.eng.HandleAR(p.From.Addr(), p.Data)
		}
	}()
	return c, nil
}

func runMN(ctx context.Context, c *Config, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d := &mnDaemon{cfg: c, log: log, ctx: ctx, cur: c.Address, curAR: c.Mobile.AR,
		src: map[netip.Addr]netip.Addr{}, conns: map[netip.Addr]transport.Conn{}}
	var err error
	d.eng, err = engine.NewMN(engine.MNConfig{Key: c.Mobile.Key, Net: d,
		FirstRetry: c.Timers.MaxTransferTime.D(), RetryMax: c.Timers.RetryMax.D(),
		GiveUp: c.Timers.GiveUp.D(), SeqWindow: c.Timers.SeqWindow.D(), Log: log})
	if err != nil {
		return err
	}
	if c.Mobile.MoveIPsec && Mover == nil {
		return errors.New("[mobile] move_ipsec: this cxtpd has no MN move (cmd/cxtpd links ipsecmod's)")
	}
	if o, ok := Mover.(MoverOpener); ok && c.Mobile.MoveIPsec {
		if err := o.Open(); err != nil {
			return fmt.Errorf("[mobile] move_ipsec: %w", err)
		}
	}
	if _, err := net.InterfaceByName(c.Interface); err != nil {
		return fmt.Errorf("interface %q: %w", c.Interface, err)
	}
	if _, err := d.conn(c.Address); err != nil {
		return err
	}
	ctl, err := listenControl(c.Control, d.command, log)
	if err != nil {
		return err
	}
	log.Info("cxtpd: serving", "role", "mn", "address", c.Address, "ar", c.Mobile.AR)
	<-ctx.Done()
	ctl.Close()
	d.mu.Lock()
	for _, c := range d.conns {
		c.Close()
	}
	d.mu.Unlock()
	d.wg.Wait()
	return nil
}

func (d *mnDaemon) fpts() []cxtp.FPT {
	var out []cxtp.FPT
	for _, f := range d.cfg.Mobile.FPTs {
		out = append(out, cxtp.FPT(f))
	}
	return out
}

func (d *mnDaemon) command(ctx context.Context, args []string) (string, error) {
	addr := func(i int) (netip.Addr, error) {
		if len(args) <= i {
			return netip.Addr{}, fmt.Errorf("%s: missing address argument", args[0])
		}
		return netip.ParseAddr(args[i])
	}
	d.mu.Lock()
	cur, curAR := d.cur, d.curAR
	d.mu.Unlock()
	switch args[0] {
	case "status":
		var b strings.Builder
		fmt.Fprintf(&b, "role mn\naddress %s\nar %s\n%s", cur, curAR, d.eng.Metrics().String())
		d.mu.Lock()
		for a, c := range d.conns {
			s := c.Stats()
			fmt.Fprintf(&b, "transport icmpv6 %s sent %d received %d dropped-hoplimit %d dropped-malformed %d\n",
				a, s.Sent, s.Received, s.DroppedHopLimit, s.DroppedMalformed)
		}
		d.mu.Unlock()
		return b.String(), nil
	case "handover":
		nar, err := addr(1)
		if err != nil {
			return "", err
		}
		var ncoa netip.Addr
		if len(args) > 2 {
			if ncoa, err = addr(2); err != nil {
				return "", err
			}
		}
		d.mu.Lock()
		d.src[curAR] = cur
		d.mu.Unlock()
		out, err := d.wait(ctx, func(done func(engine.Result)) error {
			return d.eng.Handover(curAR, nar, cur, d.fpts(), done)
		})
		if err != nil || !d.cfg.Mobile.MoveIPsec || !ncoa.IsValid() {
			return out, err
		}
		// The handover is predicted: the MN's own move is prepared now,
		// its outbound SAs wait for the CTAA.
		m := newMove(MNMove{OldCoA: cur, NewCoA: ncoa, OldAR: curAR, NewAR: nar})
		m.start(Mover)
		out += m.report()
		if err := m.moveErr(); err != nil {
			m.discard()
			return out, err
		}
		d.mu.Lock()
		if d.next != nil {
			d.next.discard()
		}
		d.next = m
		d.mu.Unlock()
		return out, nil
	case "attach":
		nar, err := addr(1)
		if err != nil {
			return "", err
		}
		newAddr, err := addr(2)
		if err != nil {
			return "", err
		}
		if _, err := d.conn(newAddr); err != nil {
			return "", fmt.Errorf("attach: new address %s: %w", newAddr, err)
		}
		d.mu.Lock()
		d.src[nar] = newAddr
		m := d.next
		d.next = nil
		d.mu.Unlock()
		mv := MNMove{OldCoA: cur, NewCoA: newAddr, OldAR: curAR, NewAR: nar}
		prepared := m != nil && m.mv == mv
		if m != nil && !prepared {
			m.discard() // prepared for another move
			m = nil
		}
		if m == nil && d.cfg.Mobile.MoveIPsec {
			m = newMove(mv)
		}
		out, err := d.wait(ctx, func(done func(engine.Result)) error {
			err := d.eng.Attach(nar, curAR, cur, d.fpts(), func(r engine.Result) {
				if m != nil && r.Err == nil {
					// the nAR's context is active: open the MN's path
					// here, in the CTAA's receive path
					m.activateOn(time.Now())
				}
				done(r)
			})
			if err == nil && m != nil && !prepared {
				m.start(Mover) // reactive: while the CTAR is on its way
			}
			return err
		})
		if err == nil {
			// the CTAA came: the MN is attached here, whatever its own
			// IPsec move does
			d.mu.Lock()
			d.cur, d.curAR = newAddr, nar
			d.mu.Unlock()
		}
		if m != nil {
			if err != nil {
				m.discard()
				return out, err
			}
			out += m.report()
			if err = m.moveErr(); err != nil {
				m.discard()
				return out, err
			}
			go func() {
				if err := m.retire(); err != nil {
					d.log.Error("cxtp: MN move: retire the old CoA's entries", "old", mv.OldCoA, "err", err)
				}
			}()
		}
		return out, err
	}
	return "", fmt.Errorf("unknown command %q (status, handover, attach)", args[0])
}

func (d *mnDaemon) wait(ctx context.Context, start func(func(engine.Result)) error) (string, error) {
	ch := make(chan engine.Result, 1)
	if err := start(func(r engine.Result) { ch <- r }); err != nil {
		return "", err
	}
	select {
	case r := <-ch:
		var b strings.Builder
		fmt.Fprintf(&b, "ctaa from %s attempts %d elapsed %s\n", r.AR, r.Attempts, r.Elapsed)
		b.WriteString(fmtFailures(r.Failures))
		if r.Err != nil {
			return b.String(), r.Err
		}
		return b.String(), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
