//go:build linux || freebsd

package main

import (
	"context"
	"sync"

	"github.com/ikectx/ikectx/cxtp/daemon"
	"github.com/ikectx/ikectx/ipsecmod"
	ipsecdaemon "github.com/ikectx/ikectx/ipsecmod/daemon"
)

// The MN role's own SAD/SPD move ([mobile] move_ipsec = true) is
// ipsecmod's MNPlan over a PF_KEY socket opened on first use.
func init() { daemon.Mover = &pfkeyMover{} }

type pfkeyMover struct {
	mu sync.Mutex
	mn *ipsecdaemon.MN
}

// Open opens the PF_KEY socket (the MN role calls it at start).
func (p *pfkeyMover) Open() error {
	_, err := p.open()
	return err
}

func (p *pfkeyMover) open() (*ipsecdaemon.MN, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mn == nil {
		mn, err := ipsecdaemon.OpenMN()
		if err != nil {
			return nil, err
		}
		p.mn = mn
	}
	return p.mn, nil
}

func (p *pfkeyMover) Prepare(ctx context.Context, mv daemon.MNMove) (daemon.MovePlan, error) {
	mn, err := p.open()
	if err != nil {
		return nil, err
	}
	plan, err := mn.Prepare(ctx, ipsecmod.MNMove{OldCoA: mv.OldCoA, NewCoA: mv.NewCoA, OldAR: mv.OldAR, NewAR: mv.NewAR})
	if err != nil {
		return nil, err
	}
	return &pfkeyPlan{mn: mn, plan: plan}, nil
}

type pfkeyPlan struct {
	mn   *ipsecdaemon.MN
	plan *ipsecmod.MNPlan
}

func (p *pfkeyPlan) Activate(ctx context.Context) error {
	_, err := p.mn.Activate(ctx, p.plan)
	return err
}

func (p *pfkeyPlan) Retire(ctx context.Context) error { return p.mn.Retire(ctx, p.plan) }

func (p *pfkeyPlan) Wipe() { p.plan.Wipe() }
