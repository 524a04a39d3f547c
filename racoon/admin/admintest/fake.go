// Package admintest provides a fake admin.Backend for tests of the admin
// socket, racoonctl and their users.
package admintest

import (
	"context"
	"io/fs"
	"net/netip"
	"sync"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
)

// Imported records one ImportPhase1 call.
type Imported struct {
	Ctx           *admin.Phase1Context // a clone
	Local, Remote netip.AddrPort
}

// Fake is an in-memory Backend. Set the exported fields before use (or
// under Lock); the recording slices grow with each call. It implements
// admin.Reloader and admin.EventSource.
type Fake struct {
	sync.Mutex
	Ph1s []admin.Phase1Info
	// IPsec SAs returned by SAs (filtered by type).
	IPsec []*pfkey.SAEntry
	// Contexts are what ExportPhase1 can return, matched by their
	// Local/Remote/Index.
	Contexts []*admin.Phase1Context
	// Err, when set, is returned by every method.
	Err error

	Flushed     []admin.Proto
	Deleted     []admin.Selector
	DeletedDst  []netip.Addr
	Established []admin.EstablishRequest
	Imports     []Imported
	Reloads     int

	subs []chan admin.Event
}

var (
	_ admin.Backend     = (*Fake)(nil)
	_ admin.Reloader    = (*Fake)(nil)
	_ admin.EventSource = (*Fake)(nil)
)

// Phase1s implements admin.Backend.
func (f *Fake) Phase1s() []admin.Phase1Info {
	f.Lock()
	defer f.Unlock()
	return append([]admin.Phase1Info(nil), f.Ph1s...)
}

// SAs implements admin.Backend; the entries are clones.
func (f *Fake) SAs(t pfkey.SAType) ([]*pfkey.SAEntry, error) {
	f.Lock()
	defer f.Unlock()
	if f.Err != nil {
		return nil, f.Err
	}
	return pfkey.Clones(f.IPsec, pfkey.OfType(t)), nil
}

// FlushSA implements admin.Backend.
func (f *Fake) FlushSA(p admin.Proto) error {
	f.Lock()
	defer f.Unlock()
	f.Flushed = append(f.Flushed, p)
	return f.Err
}

// DeleteSA implements admin.Backend.
func (f *Fake) DeleteSA(sel admin.Selector) error {
	f.Lock()
	defer f.Unlock()
	f.Deleted = append(f.Deleted, sel)
	return f.Err
}

// DeleteAllSADst implements admin.Backend.
func (f *Fake) DeleteAllSADst(dst netip.Addr) error {
	f.Lock()
	defer f.Unlock()
	f.DeletedDst = append(f.DeletedDst, dst)
	return f.Err
}

// EstablishSA implements admin.Backend. The key is copied.
func (f *Fake) EstablishSA(req *admin.EstablishRequest) error {
	f.Lock()
	defer f.Unlock()
	r := *req
	r.ID = append([]byte(nil), req.ID...)
	r.Key = req.Key.Clone()
	f.Established = append(f.Established, r)
	return f.Err
}

// ExportPhase1 implements admin.Backend.
func (f *Fake) ExportPhase1(sel admin.Selector) (*admin.Phase1Context, error) {
	f.Lock()
	defer f.Unlock()
	if f.Err != nil {
		return nil, f.Err
	}
	for i := len(f.Contexts) - 1; i >= 0; i-- {
		pc := f.Contexts[i]
		if sel.Matches(pc.Local, pc.Remote, pc.Index) {
			return pc.Clone(), nil
		}
	}
	return nil, fs.ErrNotExist
}

// ImportPhase1 implements admin.Backend.
func (f *Fake) ImportPhase1(pc *admin.Phase1Context, local, remote netip.AddrPort) error {
	f.Lock()
	defer f.Unlock()
	if f.Err != nil {
		return f.Err
	}
	for _, c := range f.Contexts {
		if c.Index == pc.Index {
			return fs.ErrExist
		}
	}
	f.Imports = append(f.Imports, Imported{Ctx: pc.Clone(), Local: local, Remote: remote})
	return nil
}

// ReloadConf implements admin.Reloader.
func (f *Fake) ReloadConf() error {
	f.Lock()
	defer f.Unlock()
	f.Reloads++
	return f.Err
}

// Events implements admin.EventSource.
func (f *Fake) Events(ctx context.Context) <-chan admin.Event {
	ch := make(chan admin.Event, 16)
	f.Lock()
	f.subs = append(f.subs, ch)
	f.Unlock()
	go func() {
		<-ctx.Done()
		f.Lock()
		defer f.Unlock()
		for i, c := range f.subs {
			if c == ch {
				f.subs = append(f.subs[:i], f.subs[i+1:]...)
				close(ch)
				break
			}
		}
	}()
	return ch
}

// Subscribers returns the number of open event subscriptions.
func (f *Fake) Subscribers() int {
	f.Lock()
	defer f.Unlock()
	return len(f.subs)
}

// Emit sends e to every subscriber (dropping it for a full one).
func (f *Fake) Emit(e admin.Event) {
	f.Lock()
	defer f.Unlock()
	for _, c := range f.subs {
		select {
		case c <- e:
		default:
		}
	}
}
