package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"

	"github.com/ikectx/ikectx/cxtp"
	"github.com/ikectx/ikectx/cxtp/engine"
	"github.com/ikectx/ikectx/cxtp/transport"
)

// mnDaemon is the MN role: the MN engine over ICMPv6, driven by the
// control socket (the testbed or a mobility daemon says when the MN moves).
type mnDaemon struct {
	cfg  *Config
	eng  *engine.MNEngine
	conn transport.Conn

	mu    sync.Mutex
	cur   netip.Addr // current care-of address
	curAR netip.Addr // current access router
}

func (d *mnDaemon) Send(ar netip.Addr, b []byte) error {
	return d.conn.WriteTo(b, netip.AddrPortFrom(ar, 0))
}

func runMN(ctx context.Context, c *Config, log *slog.Logger) error {
	conn, err := transport.ListenICMPv6(netip.Addr{}) // any address: the CoA changes
	if err != nil {
		return err
	}
	defer conn.Close()
	d := &mnDaemon{cfg: c, conn: conn, cur: c.Address, curAR: c.Mobile.AR}
	d.eng, err = engine.NewMN(engine.MNConfig{Key: c.Mobile.Key, Net: d,
		FirstRetry: c.Timers.MaxTransferTime.D(), RetryMax: c.Timers.RetryMax.D(),
		GiveUp: c.Timers.GiveUp.D(), SeqWindow: c.Timers.SeqWindow.D(), Log: log})
	if err != nil {
		return err
	}
	ctl, err := listenControl(c.Control, d.command, log)
	if err != nil {
		return err
	}
	defer ctl.Close()
	log.Info("cxtpd: serving", "role", "mn", "address", c.Address, "ar", c.Mobile.AR)
	for {
		p, err := conn.ReadFrom(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, transport.ErrClosed) {
				return nil
			}
			log.Warn("cxtp: receive", "err", err)
			continue
		}
		d.eng.HandleAR(p.From.Addr(), p.Data)
	}
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
		s := d.conn.Stats()
		return fmt.Sprintf("role mn\naddress %s\nar %s\n%stransport icmpv6 sent %d received %d dropped-hoplimit %d dropped-malformed %d\n",
			cur, curAR, d.eng.Metrics().String(), s.Sent, s.Received, s.DroppedHopLimit, s.DroppedMalformed), nil
	case "handover":
		nar, err := addr(1)
		if err != nil {
			return "", err
		}
		return d.wait(ctx, func(done func(engine.Result)) error {
			return d.eng.Handover(curAR, nar, cur, d.fpts(), done)
		})
	case "attach":
		nar, err := addr(1)
		if err != nil {
			return "", err
		}
		newAddr, err := addr(2)
		if err != nil {
			return "", err
		}
		out, err := d.wait(ctx, func(done func(engine.Result)) error {
			return d.eng.Attach(nar, curAR, cur, d.fpts(), done)
		})
		if err == nil {
			d.mu.Lock()
			d.cur, d.curAR = newAddr, nar
			d.mu.Unlock()
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
		fmt.Fprintf(&b, "ctaa from %s attempts %d\n", r.AR, r.Attempts)
		b.WriteString(fmtFailures(r.Failures))
		if r.Err != nil {
			return b.String(), r.Err
		}
		return b.String(), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
