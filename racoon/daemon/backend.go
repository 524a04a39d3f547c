package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"sync"
	"time"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
	"github.com/ikectx/ikectx/racoon/ike"
	"github.com/ikectx/ikectx/racoon/isakmp"
)

// backend is the daemon as the admin server sees it. Every method runs its
// work on the event loop.
type backend struct{ d *Daemon }

var (
	_ admin.Backend     = (*backend)(nil)
	_ admin.EventSource = (*backend)(nil)
)

func phase1Status(sa *ike.Phase1) int32 {
	switch sa.State {
	case ike.P1Established:
		return admin.Ph1Established
	case ike.P1Start:
		return admin.Ph1Start
	case ike.P1SentSA, ike.P1AggrSent1:
		return admin.Ph1Msg1Sent
	case ike.P1SentSAReply, ike.P1AggrSent2:
		return admin.Ph1Msg2Sent
	case ike.P1SentKE, ike.P1SentKEReply:
		return admin.Ph1Msg3Sent
	case ike.P1SentAuth:
		return admin.Ph1Msg4Received
	}
	return admin.Ph1Dying
}

func info(p *ph1) admin.Phase1Info {
	side := admin.Responder
	if p.sa.Initiator {
		side = admin.Initiator
	}
	created := p.sa.Created
	if created.IsZero() {
		created = p.sa.Started
	}
	return admin.Phase1Info{
		Index: admin.Index{I: p.sa.ICookie, R: p.sa.RCookie}, Status: phase1Status(p.sa), Side: side,
		Remote: p.peer, Local: p.sa.Local, Version: isakmp.Version, EType: uint8(p.sa.Mode), Created: created,
		Ph2Cnt: int32(p.sa.Phase2Count),
	}
}

func (b *backend) Phase1s() []admin.Phase1Info {
	var out []admin.Phase1Info
	b.d.call(func() {
		for _, p := range b.d.ph1s {
			if !p.deleted {
				out = append(out, info(p))
			}
		}
	})
	return out
}

func (b *backend) SAs(t pfkey.SAType) ([]*pfkey.SAEntry, error) {
	ctx, cancel := context.WithTimeout(context.Background(), kernelTimeout)
	defer cancel()
	return b.d.kernel.SAs(ctx, t)
}

func (b *backend) FlushSA(p admin.Proto) error {
	if p == admin.ProtoISAKMP {
		return b.d.call(func() {
			for _, x := range b.d.ph1s {
				if x.sa.Established() && !x.deleted {
					b.d.sendDelete(x)
				}
				b.d.removePhase1(x)
			}
		})
	}
	t, ok := p.SAType()
	if !ok {
		return errors.ErrUnsupported
	}
	ctx, cancel := context.WithTimeout(context.Background(), kernelTimeout)
	defer cancel()
	return b.d.kernel.Flush(ctx, t)
}

func (b *backend) deleteWhere(match func(*ph1) bool) error {
	return b.d.call(func() {
		for _, x := range b.d.ph1s {
			if x.deleted || !match(x) {
				continue
			}
			if x.sa.Established() {
				b.d.sendDelete(x)
			}
			b.d.logf("INFO: purged ISAKMP-SA %x:%x (admin)", x.sa.ICookie, x.sa.RCookie)
			b.d.removePhase1(x)
		}
	})
}

func (b *backend) DeleteSA(sel admin.Selector) error {
	return b.deleteWhere(func(x *ph1) bool {
		return sel.Matches(x.sa.Local, x.peer, admin.Index{I: x.sa.ICookie, R: x.sa.RCookie})
	})
}

func (b *backend) DeleteAllSADst(dst netip.Addr) error {
	return b.deleteWhere(func(x *ph1) bool { return x.peer.Addr() == dst.Unmap() })
}

func (b *backend) EstablishSA(req *admin.EstablishRequest) error {
	var err error
	cerr := b.d.call(func() { err = b.d.establish(req) })
	if cerr != nil {
		return cerr
	}
	return err
}

func (d *Daemon) establish(req *admin.EstablishRequest) error {
	src, dst := req.Src.Addr().Unmap(), req.Dst.Addr().Unmap()
	if !dst.IsValid() {
		return fmt.Errorf("no destination: %w", fs.ErrInvalid)
	}
	switch req.Proto {
	case admin.ProtoISAKMP:
		if p := d.findPhase1(dst, true); p != nil {
			return fs.ErrExist
		}
		var rm = d.findRemoteByName(req.RemoteName)
		if req.RemoteName != "" && rm == nil {
			return fmt.Errorf("no remote %q: %w", req.RemoteName, fs.ErrNotExist)
		}
		_, err := d.startPhase1(dst, src, rm, nil)
		return err
	case admin.ProtoESP, admin.ProtoAH:
		ls := selector{Prefix: netip.PrefixFrom(src, int(req.PrefS)).Masked(), Port: req.Src.Port(), Proto: req.ULProto}
		rs := selector{Prefix: netip.PrefixFrom(dst, int(req.PrefD)).Masked(), Port: req.Dst.Port(), Proto: req.ULProto}
		if req.PrefS == 0 && src.IsValid() {
			ls.Prefix = netip.PrefixFrom(src, src.BitLen())
		}
		if req.PrefD == 0 {
			rs.Prefix = netip.PrefixFrom(dst, dst.BitLen())
		}
		pol := d.findPolicy(ls, rs)
		var r *p2req
		if pol != nil {
			var err error
			if r, err = requestFromPolicy(pol); err != nil {
				return err
			}
		} else if ls.Prefix.IsSingleIP() && rs.Prefix.IsSingleIP() {
			// no policy: host to host, transport mode
			r = &p2req{local: ls, remote: rs, mode: pfkey.ModeTransport, me: src, peer: dst}
		} else {
			return fmt.Errorf("no policy for %v -> %v: %w", ls.Prefix, rs.Prefix, fs.ErrNotExist)
		}
		r.policyID = 0
		return d.request(r)
	}
	return errors.ErrUnsupported
}

func (b *backend) ExportPhase1(sel admin.Selector) (*admin.Phase1Context, error) {
	var pc *admin.Phase1Context
	err := b.d.call(func() {
		var best *ph1
		for _, x := range b.d.ph1s {
			if x.deleted || !x.sa.Established() || !sel.Matches(x.sa.Local, x.peer, admin.Index{I: x.sa.ICookie, R: x.sa.RCookie}) {
				continue
			}
			if best == nil || x.sa.Created.After(best.sa.Created) {
				best = x
			}
		}
		if best != nil {
			pc = exportPhase1(best)
		}
	})
	if err != nil {
		return nil, err
	}
	if pc == nil {
		return nil, fs.ErrNotExist
	}
	return pc, nil
}

func (b *backend) ImportPhase1(pc *admin.Phase1Context, local, remote netip.AddrPort) error {
	var err error
	cerr := b.d.call(func() { err = b.d.importPhase1(pc, local, remote) })
	if cerr != nil {
		return cerr
	}
	return err
}

func (b *backend) Events(ctx context.Context) <-chan admin.Event { return b.d.events.subscribe(ctx) }

// eventHub fans daemon events out to admin subscribers.
type eventHub struct {
	mu   sync.Mutex
	subs map[chan admin.Event]struct{}
}

func newEventHub() *eventHub { return &eventHub{subs: map[chan admin.Event]struct{}{}} }

func (h *eventHub) subscribe(ctx context.Context) <-chan admin.Event {
	ch := make(chan admin.Event, 32)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		delete(h.subs, ch)
		close(ch)
		h.mu.Unlock()
	}()
	return ch
}

func (h *eventHub) emit(t uint32, src, dst netip.AddrPort, msgID uint32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ev := admin.Event{Type: t, Time: time.Now(), Ph1Src: src, Ph1Dst: dst, Ph2MsgID: msgID}
	for ch := range h.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}
