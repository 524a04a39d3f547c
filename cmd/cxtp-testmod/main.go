// Command cxtp-testmod is a generic context module for tests: it serves a
// cxtpd shm segment and keeps contexts as files (see cxtp/daemon/testmod).
//
//	cxtp-testmod -shm /cxtp-nar -dir DIR -fpt 0x80ff [-fpt N ...]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/ikectx/ikectx/cxtp/daemon/testmod"
	"github.com/ikectx/ikectx/shm"
)

type fptList map[uint16]bool

func (f fptList) String() string { return fmt.Sprint(map[uint16]bool(f)) }
func (f fptList) Set(s string) error {
	v, err := strconv.ParseUint(s, 0, 16)
	if err != nil || v == 0 {
		return fmt.Errorf("bad FPT %q", s)
	}
	f[uint16(v)] = true
	return nil
}

func main() {
	name := flag.String("shm", "", "shared memory segment (as cxtpd's module shm)")
	dir := flag.String("dir", ".", "directory of the context files")
	slots := flag.Int("slots", 0, "slot count, if this process creates the segment (default: as cxtpd)")
	fpts := fptList{}
	flag.Var(fpts, "fpt", "FPT served (repeatable)")
	flag.Parse()
	if *name == "" || len(fpts) == 0 {
		fmt.Fprintln(os.Stderr, "usage: cxtp-testmod -shm NAME -dir DIR -fpt FPT [-fpt FPT ...]")
		os.Exit(2)
	}
	seg, err := shm.Open(*name, shm.RoleContext, &shm.Options{Slots: *slots})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cxtp-testmod:", err)
		os.Exit(1)
	}
	defer seg.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &testmod.Module{Seg: seg, Dir: *dir, FPTs: fpts}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "cxtp-testmod:", err)
		os.Exit(1)
	}
}
