//go:build linux

package scenario

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ikectx/ikectx/testbed/strongswan"
	"github.com/ikectx/ikectx/testbed/topo"
)

// The ikev2-charon row: strongSwan's charon (kernel-netlink, the kernel's
// XFRM and ESP) on the MN, the pAR and the nAR (package testbed/strongswan;
// the lab image carries it when table1 selects the row). The MN's "nar"
// child is trapped: after the handover the first datagram from the nCoA
// raises the kernel's ACQUIRE and charon runs IKE_SA_INIT + IKE_AUTH with
// the nAR, as racoon does in the IKEv1 rows (iked has no ACQUIRE handling:
// the iked row initiates at the attachment).

// charonCannotRun says why the charon row cannot run here.
func charonCannotRun(cfg Config) string {
	for _, b := range []string{"setkey", "udpgen"} {
		if _, err := os.Stat(cfg.Bin(b)); err != nil {
			return b + " is not installed"
		}
	}
	if err := strongswan.Available(); err != nil {
		return "strongSwan is not in the lab image (" + err.Error() + ")"
	}
	return ""
}

// lockedBuffer collects one charon's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startCharons starts charon on the MN, the pAR and the nAR (with
// narConns).
func (s *station) startCharons(ctx context.Context, narConns []topo.IKEv2Conn) (ikev2Daemons, error) {
	plan := s.plan
	charons := map[string]*strongswan.Charon{}
	logs := map[string]*lockedBuffer{}
	d := ikev2Daemons{
		initFn: func(ns, conn string) error {
			c := charons[ns]
			if c == nil {
				return fmt.Errorf("no charon in %s", ns)
			}
			_, err := c.Initiate(conn, "net", 60*time.Second)
			return err
		},
		stopFn: func(dump bool) {
			for ns, c := range charons {
				c.Stop()
				if dump {
					fmt.Fprintf(s.cfg.Log, "--- charon@%s output:\n%s\n", ns, logs[ns].String())
				}
			}
		},
	}
	for _, st := range []struct {
		ns    string
		self  string
		peers []string
		conns []topo.IKEv2Conn
		trap  map[string]bool
	}{
		{topo.NSMN, topo.IDMN, []string{topo.IDAR}, plan.MNIKEv2Conns()[:2], map[string]bool{"nar": true}},
		{topo.NSPAR, topo.IDAR, []string{topo.IDMN}, []topo.IKEv2Conn{plan.ARIKEv2Conn("mn", topo.IDMN, plan.PAR, plan.PCoA)}, nil},
		{topo.NSNAR, topo.IDAR, []string{topo.IDMN}, narConns, nil},
	} {
		// a short directory: the vici socket's path must fit sun_path
		dir, err := os.MkdirTemp("", "tb-sw-"+st.ns+"-")
		if err != nil {
			return d, err
		}
		s.cleanup = append(s.cleanup, func() { os.RemoveAll(dir) })
		conf := plan.SwanctlConf(st.self, st.peers, st.conns, st.trap)
		os.WriteFile(filepath.Join(s.dir, st.ns+"-swanctl.conf"), []byte(conf), 0o600)
		logs[st.ns] = &lockedBuffer{}
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		c, err := strongswan.Start(sctx, st.ns, filepath.Join(dir, "c"), conf, logs[st.ns])
		cancel()
		if err != nil {
			return d, fmt.Errorf("charon in %s: %w", st.ns, err)
		}
		charons[st.ns] = c
	}
	return d, nil
}
