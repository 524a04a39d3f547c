//go:build linux || freebsd

package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/ikectx/ikectx/ipsecmod"
	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
	"github.com/ikectx/ikectx/shm"
)

// Run serves cxtpd's segment until ctx is done: it opens the PF_KEY
// socket, the racoon admin client (when configured), attaches to the
// segment as the context module (registering its PID so cxtpd's signals
// reach it) and listens on the status socket.
func Run(ctx context.Context, c *Config, log *slog.Logger) error {
	k, err := pfkey.Open()
	if err != nil {
		return fmt.Errorf("open PF_KEY socket: %w", err)
	}
	defer k.Close()
	cfg := c.Module
	cfg.Kernel = k
	cfg.Log = log
	if c.Racoon.Socket != "" {
		cfg.IKEv1 = &admin.Client{Path: c.Racoon.Socket, Timeout: cfg.CallTimeout}
	}
	if c.Iked.Socket != "" {
		cfg.IKEv2 = &ipsecmod.Iked{Socket: c.Iked.Socket, MaxRoundTrips: c.Iked.MaxRoundTrips, Timer: c.Iked.TimerValue, Log: log}
	}
	m, err := ipsecmod.New(cfg)
	if err != nil {
		return err
	}
	seg, err := shm.Open(c.SHM.Name, shm.RoleContext, &shm.Options{Slots: c.SHM.Slots})
	if err != nil {
		return fmt.Errorf("attach to cxtpd's segment: %w", err)
	}
	defer seg.Close()
	os.Remove(c.Status)
	l, err := net.Listen("unix", c.Status)
	if err != nil {
		return fmt.Errorf("status socket: %w", err)
	}
	defer os.Remove(c.Status)
	defer l.Close()
	go serveStatus(l, m)
	log.Info("ipsec-cxtpd: running", "address", cfg.Address, "shm", c.SHM.Name, "status", c.Status,
		"fpts", fmt.Sprintf("%#x/%#x/%#x/%#x", cfg.FPTs.SA, cfg.FPTs.SP, cfg.FPTs.IKEv1, cfg.FPTs.IKEv2),
		"sad_lookup", cfg.Rule.String(), "racoon", c.Racoon.Socket, "iked", c.Iked.Socket, "dialect", k.Dialect().Name)
	return m.Serve(ctx, seg)
}

// MNRewrite runs ipsecmod.RewriteMN on this host's PF_KEY socket.
func MNRewrite(ctx context.Context, mv ipsecmod.MNMove) (ipsecmod.MNResult, error) {
	k, err := pfkey.Open()
	if err != nil {
		return ipsecmod.MNResult{}, fmt.Errorf("open PF_KEY socket: %w", err)
	}
	defer k.Close()
	return ipsecmod.RewriteMN(ctx, k, mv)
}

// MN is the MN's side of a handover over this host's PF_KEY socket, split
// so that the CTAR leaves first (ipsecmod.MNPlan): Prepare before the move
// (predictive) or right after the CTAR (reactive), Activate on the CTAA.
// The socket is opened once, in the MN's network namespace.
type MN struct {
	k *pfkey.Conn
}

// OpenMN opens the PF_KEY socket.
func OpenMN() (*MN, error) {
	k, err := pfkey.Open()
	if err != nil {
		return nil, fmt.Errorf("open PF_KEY socket: %w", err)
	}
	return &MN{k: k}, nil
}

// Prepare runs ipsecmod.PrepareMN.
func (m *MN) Prepare(ctx context.Context, mv ipsecmod.MNMove) (*ipsecmod.MNPlan, error) {
	return ipsecmod.PrepareMN(ctx, m.k, mv)
}

// Activate runs the plan's Activate.
func (m *MN) Activate(ctx context.Context, p *ipsecmod.MNPlan) (ipsecmod.MNResult, error) {
	return p.Activate(ctx, m.k)
}

// Retire runs the plan's Retire.
func (m *MN) Retire(ctx context.Context, p *ipsecmod.MNPlan) error { return p.Retire(ctx, m.k) }

// Close closes the socket.
func (m *MN) Close() error { return m.k.Close() }
