//go:build linux || freebsd

package daemon

import (
	"context"
	"net/netip"

	"github.com/ikectx/ikectx/pfkey"
)

// pfkeyKernel is the real kernel through PF_KEY: one socket for requests,
// one registered listener for ACQUIRE and EXPIRE.
type pfkeyKernel struct {
	c      *pfkey.Conn
	l      *pfkey.Listener
	events chan *pfkey.Message
	cancel context.CancelFunc
}

func openKernel(logf func(string, ...any)) (Kernel, error) {
	c, err := pfkey.Open()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l, err := pfkey.Listen(ctx, pfkey.SATypeESP, pfkey.SATypeAH)
	if err != nil {
		cancel()
		c.Close()
		return nil, err
	}
	k := &pfkeyKernel{c: c, l: l, events: make(chan *pfkey.Message, 64), cancel: cancel}
	go func() {
		defer close(k.events)
		for {
			m, err := l.Next(ctx)
			if err != nil {
				if ctx.Err() == nil {
					logf("pfkey listener: %v", err)
				}
				return
			}
			select {
			case k.events <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	return k, nil
}

func (k *pfkeyKernel) GetSPI(ctx context.Context, src, dst netip.Addr, mode pfkey.Mode, reqid uint32) (uint32, error) {
	return k.c.GetSPI(ctx, pfkey.SATypeESP, src, dst, 0, 0, mode, reqid)
}

func (k *pfkeyKernel) Install(ctx context.Context, in, out *pfkey.SAEntry) error {
	if err := k.c.Update(ctx, in); err != nil {
		return err
	}
	return k.c.Add(ctx, out)
}

func (k *pfkeyKernel) SAs(ctx context.Context, t pfkey.SAType) ([]*pfkey.SAEntry, error) {
	return k.c.SAs(ctx, t)
}

func (k *pfkeyKernel) Flush(ctx context.Context, t pfkey.SAType) error { return k.c.Flush(ctx, t) }

func (k *pfkeyKernel) Delete(ctx context.Context, t pfkey.SAType, src, dst netip.Addr, spi uint32) error {
	return k.c.Delete(ctx, t, src, dst, spi)
}

func (k *pfkeyKernel) Policy(ctx context.Context, id uint32) (*pfkey.PolicyEntry, error) {
	return k.c.SPDGet(ctx, id)
}

func (k *pfkeyKernel) Policies(ctx context.Context) ([]*pfkey.PolicyEntry, error) {
	return k.c.Policies(ctx)
}

func (k *pfkeyKernel) AddPolicy(ctx context.Context, p *pfkey.PolicyEntry) error {
	err := k.c.SPDAdd(ctx, p)
	if pfkey.IsExist(err) {
		return k.c.SPDUpdate(ctx, p)
	}
	return err
}

func (k *pfkeyKernel) Events() <-chan *pfkey.Message { return k.events }

func (k *pfkeyKernel) Close() error {
	k.cancel()
	k.l.Close()
	return k.c.Close()
}
