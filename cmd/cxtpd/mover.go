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

func (p *pfkeyMover) Prepare(ctx context.Context, mv daemon.MNMove) (daemon.MovePlan, error) {
	p.mu.Lock()
	if p.mn == nil {
		mn, err := ipsecdaemon.OpenMN()
		if err != nil {
			p.mu.Unlock()
			return nil, err
		}
		p.mn = mn
	}
	mn := p.mn
	p.mu.Unlock()
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
