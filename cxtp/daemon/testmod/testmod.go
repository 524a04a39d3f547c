// Package testmod is a small generic context module: a real second process
// that talks to cxtpd through shm + signals exactly as the IPsec-CXTP module
// does (paper Figure 3), for any FPT, with contexts as opaque blobs in a
// directory, so tests can seed and check them:
//
//	DIR/ctx-MN.bin      on the pAR: what CAPTURE answers for MN
//	DIR/pre-MN.bin      on the nAR: written by PREINSTALL, removed by DISCARD
//	DIR/active-MN.bin   on the nAR: ACTIVATE moves pre- here ...
//	DIR/active-MN.coa   ... and records the MN's new care-of address
//	DIR/transferred-MN  on the pAR: the nAR's status octet after its CTDR
//	                    (operation 5, see daemon.OpTransferred); the pAR's
//	                    ctx- file is kept (a fast return needs it)
//	DIR/log             one line per operation: "OP MN FPT STATUS"
//
// MN is the previous care-of address with ':' replaced by '_'.
package testmod

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/ikectx/ikectx/shm"
)

// opTransferred is cxtpd's notice after a CTDR (daemon.OpTransferred; not
// imported to keep this module free of the daemon).
const opTransferred shm.Op = 5

// Module serves one shm segment as the context module.
type Module struct {
	Seg  *shm.Segment
	Dir  string
	FPTs map[uint16]bool // served FPTs (others get StatusUnsupported)
}

// FileName is the per-MN file name part.
func FileName(mn netip.Addr) string { return strings.ReplaceAll(mn.String(), ":", "_") }

// Run serves requests until ctx is done.
func (m *Module) Run(ctx context.Context) error {
	ev, err := m.Seg.Events(ctx)
	if err != nil {
		return err
	}
	for e := range ev {
		if e.State != shm.StateRequest || e.Err != nil {
			continue
		}
		rec, err := m.Seg.Accept(e.Slot)
		if err != nil {
			// Withdrawn by cxtpd (timed out) or corrupt: nothing to do.
			continue
		}
		st, data := m.do(rec)
		m.logLine(rec, st)
		if err := m.Seg.Complete(e.Slot, st, data); err != nil {
			fmt.Fprintf(os.Stderr, "cxtp-testmod: complete slot %d: %v\n", e.Slot, err)
		}
	}
	return nil
}

func (m *Module) path(kind string, mn netip.Addr, ext string) string {
	return filepath.Join(m.Dir, kind+"-"+FileName(mn)+ext)
}

func (m *Module) do(r shm.Record) (shm.Status, []byte) {
	if !m.FPTs[r.FPT] {
		return shm.StatusUnsupported, nil
	}
	if !r.MN.IsValid() {
		return shm.StatusInvalid, nil
	}
	switch r.Op {
	case shm.OpCapture:
		b, err := os.ReadFile(m.path("ctx", r.MN, ".bin"))
		if errors.Is(err, os.ErrNotExist) {
			return shm.StatusNoContext, nil
		}
		if err != nil {
			return shm.StatusFailed, nil
		}
		return shm.StatusOK, b
	case shm.OpPreinstall:
		if err := writeAtomic(m.path("pre", r.MN, ".bin"), r.Data); err != nil {
			return shm.StatusFailed, nil
		}
		return shm.StatusOK, nil
	case shm.OpActivate:
		// Idempotent: a repeated ACTIVATE (after a crash) finds it done.
		pre, act := m.path("pre", r.MN, ".bin"), m.path("active", r.MN, ".bin")
		if _, err := os.Stat(pre); err != nil {
			if _, err := os.Stat(act); err == nil {
				return shm.StatusOK, nil
			}
			return shm.StatusNoContext, nil
		}
		coa := "none"
		if a, ok := netip.AddrFromSlice(r.Data); ok {
			coa = a.String()
		}
		if err := writeAtomic(m.path("active", r.MN, ".coa"), []byte(coa+"\n")); err != nil {
			return shm.StatusFailed, nil
		}
		if err := os.Rename(pre, act); err != nil {
			return shm.StatusFailed, nil
		}
		return shm.StatusOK, nil
	case shm.OpDiscard:
		os.Remove(m.path("pre", r.MN, ".bin"))
		return shm.StatusOK, nil
	case opTransferred:
		if err := writeAtomic(m.path("transferred", r.MN, ""), r.Data); err != nil {
			return shm.StatusFailed, nil
		}
		return shm.StatusOK, nil
	}
	return shm.StatusUnsupported, nil
}

func (m *Module) logLine(r shm.Record, st shm.Status) {
	f, err := os.OpenFile(filepath.Join(m.Dir, "log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%v %s %d %v\n", r.Op, r.MN, r.FPT, st)
}

func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
