package ipsecmod

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"sync"
	"syscall"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
)

// fakeKernel is a SAD and SPD with Linux's rules: an SA is identified by
// (type, destination, SPI), a policy by its selector and direction.
type fakeKernel struct {
	mu    sync.Mutex
	sas   []*pfkey.SAEntry
	pols  []*pfkey.PolicyEntry
	calls []string
	fail  map[string]error // method name -> error to return
	d     *pfkey.Dialect
	rule  LookupRule // the SAD's uniqueness rule (0: Linux's SPI+dst)
}

func newFakeKernel() *fakeKernel { return &fakeKernel{fail: map[string]error{}, d: pfkey.Linux} }

func (k *fakeKernel) Dialect() *pfkey.Dialect { return k.d }

func (k *fakeKernel) call(name string) error {
	k.calls = append(k.calls, name)
	return k.fail[name]
}

func (k *fakeKernel) SAsFor(_ context.Context, a netip.Addr) ([]*pfkey.SAEntry, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.call("SAsFor"); err != nil {
		return nil, err
	}
	var out []*pfkey.SAEntry
	for _, s := range k.sas {
		if s.Involves(a) {
			out = append(out, s.Clone())
		}
	}
	return out, nil
}

func (k *fakeKernel) PoliciesFor(_ context.Context, a netip.Addr) ([]*pfkey.PolicyEntry, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.call("PoliciesFor"); err != nil {
		return nil, err
	}
	var out []*pfkey.PolicyEntry
	for _, p := range k.pols {
		if p.InvolvesHost(a) {
			out = append(out, p.Clone())
		}
	}
	return out, nil
}

func (k *fakeKernel) SAs(context.Context, pfkey.SAType) ([]*pfkey.SAEntry, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.call("SAs"); err != nil {
		return nil, err
	}
	var out []*pfkey.SAEntry
	for _, s := range k.sas {
		out = append(out, s.Clone())
	}
	return out, nil
}

func (k *fakeKernel) Policies(context.Context) ([]*pfkey.PolicyEntry, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.call("Policies"); err != nil {
		return nil, err
	}
	var out []*pfkey.PolicyEntry
	for _, p := range k.pols {
		out = append(out, p.Clone())
	}
	return out, nil
}

func (k *fakeKernel) Add(_ context.Context, e *pfkey.SAEntry) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.call("Add"); err != nil {
		return err
	}
	rule := k.rule
	if rule == 0 {
		rule = RuleSPIDst
	}
	for _, s := range k.sas {
		if rule.Collides(s, e) {
			return &pfkey.Error{Type: pfkey.MsgAdd, SAType: e.Type, What: e.String(), Errno: syscall.EEXIST}
		}
	}
	k.sas = append(k.sas, e.Clone())
	return nil
}

func (k *fakeKernel) Delete(_ context.Context, st pfkey.SAType, src, dst netip.Addr, spi uint32) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.call("Delete"); err != nil {
		return err
	}
	for i, s := range k.sas {
		if s.Type == st && s.Src == src && s.Dst == dst && s.SPI == spi {
			s.Wipe()
			k.sas = append(k.sas[:i], k.sas[i+1:]...)
			return nil
		}
	}
	return &pfkey.Error{Type: pfkey.MsgDelete, SAType: st, What: "sa", Errno: syscall.ESRCH}
}

func (k *fakeKernel) findPol(p *pfkey.PolicyEntry) int {
	for i, q := range k.pols {
		if sameSelector(p, q) {
			return i
		}
	}
	return -1
}

func (k *fakeKernel) SPDAdd(_ context.Context, p *pfkey.PolicyEntry) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.call("SPDAdd"); err != nil {
		return err
	}
	if k.findPol(p) >= 0 {
		return &pfkey.Error{Type: pfkey.MsgXSPDAdd, What: p.String(), Errno: syscall.EEXIST}
	}
	k.pols = append(k.pols, p.Clone())
	return nil
}

func (k *fakeKernel) SPDUpdate(_ context.Context, p *pfkey.PolicyEntry) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.call("SPDUpdate"); err != nil {
		return err
	}
	if i := k.findPol(p); i >= 0 {
		k.pols[i] = p.Clone()
		return nil
	}
	k.pols = append(k.pols, p.Clone())
	return nil
}

func (k *fakeKernel) SPDDelete(_ context.Context, p *pfkey.PolicyEntry) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.call("SPDDelete"); err != nil {
		return err
	}
	if i := k.findPol(p); i >= 0 {
		k.pols = append(k.pols[:i], k.pols[i+1:]...)
		return nil
	}
	return &pfkey.Error{Type: pfkey.MsgXSPDDelete, What: p.String(), Errno: syscall.ENOENT}
}

func (k *fakeKernel) count(name string) int {
	n := 0
	for _, c := range k.calls {
		if c == name {
			n++
		}
	}
	return n
}

// fakeRacoon is racoon's admin socket.
type fakeRacoon struct {
	mu        sync.Mutex
	ph1       map[netip.Addr]*admin.Phase1Context // by remote address
	imported  []*admin.Phase1Context
	importAt  []netip.AddrPort // local, remote pairs
	cookies   map[admin.Index]bool
	establish []*admin.EstablishRequest
	exportErr error
}

func newFakeRacoon() *fakeRacoon {
	return &fakeRacoon{ph1: map[netip.Addr]*admin.Phase1Context{}, cookies: map[admin.Index]bool{}}
}

func (r *fakeRacoon) ExportPhase1(_ context.Context, sel admin.Selector) (*admin.Phase1Context, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.exportErr != nil {
		return nil, r.exportErr
	}
	pc := r.ph1[sel.Remote.Addr()]
	if pc == nil {
		return nil, &admin.ErrnoError{Cmd: admin.CmdExportPh1, Errno: int16(syscall.ENOENT)}
	}
	if sel.Local.Addr().IsValid() && pc.Local.Addr() != sel.Local.Addr() {
		return nil, fmt.Errorf("export: local %v does not match %v: %w", sel.Local, pc.Local, fs.ErrNotExist)
	}
	return pc.Clone(), nil
}

func (r *fakeRacoon) ImportPhase1(_ context.Context, pc *admin.Phase1Context, local, remote netip.AddrPort) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cookies[pc.Index] {
		return &admin.ErrnoError{Cmd: admin.CmdImportPh1, Errno: int16(syscall.EEXIST)}
	}
	r.cookies[pc.Index] = true
	r.imported = append(r.imported, pc.Clone())
	r.importAt = append(r.importAt, local, remote)
	return nil
}

func (r *fakeRacoon) EstablishSA(_ context.Context, er *admin.EstablishRequest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.establish = append(r.establish, er)
	return nil
}

var errBoom = errors.New("boom")
