package ipsecmod

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"github.com/ikectx/ikectx/ipsecmod/ikev2ctx"
	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
)

// Kernel is the part of pfkey.Conn the module uses; *pfkey.Conn implements
// it, tests use a fake.
type Kernel interface {
	Dialect() *pfkey.Dialect
	SAsFor(ctx context.Context, addr netip.Addr) ([]*pfkey.SAEntry, error)
	PoliciesFor(ctx context.Context, addr netip.Addr) ([]*pfkey.PolicyEntry, error)
	SAs(ctx context.Context, st pfkey.SAType) ([]*pfkey.SAEntry, error)
	Policies(ctx context.Context) ([]*pfkey.PolicyEntry, error)
	Add(ctx context.Context, e *pfkey.SAEntry) error
	Delete(ctx context.Context, st pfkey.SAType, src, dst netip.Addr, spi uint32) error
	SPDAdd(ctx context.Context, p *pfkey.PolicyEntry) error
	SPDUpdate(ctx context.Context, p *pfkey.PolicyEntry) error
	SPDDelete(ctx context.Context, p *pfkey.PolicyEntry) error
}

// IKEv1Daemon is the part of racoon's admin client (racoon/admin.Client)
// the module uses.
type IKEv1Daemon interface {
	ExportPhase1(ctx context.Context, sel admin.Selector) (*admin.Phase1Context, error)
	ImportPhase1(ctx context.Context, pc *admin.Phase1Context, local, remote netip.AddrPort) error
	EstablishSA(ctx context.Context, er *admin.EstablishRequest) error
}

// IKEv2Daemon is what the IKEv2 daemon offers (Iked: iked's control
// socket): export of the MN's IKE SAs on the pAR, import on the nAR with
// the new addresses followed by the MOBIKE move towards the nCoA, with
// UPDATE_SPI for the colliding SPIs (Algorithm 1).
type IKEv2Daemon interface {
	ExportIKEv2(ctx context.Context, mn netip.Addr) ([]*ikev2ctx.SA, error)
	ImportIKEv2(ctx context.Context, imp *IKEv2Import) error
}

// IKEv2Import is one transferred IKE SA to import on the nAR.
type IKEv2Import struct {
	SA            *ikev2ctx.SA
	Local, Remote netip.AddrPort // the nAR and the MN's nCoA
	// ESPColliding are the transferred inbound ESP SPIs (the nAR's) that
	// collide here under the SAD lookup rule: not installed, UPDATE_SPI
	// changes them.
	ESPColliding []uint32
	// Keys are the child SAs' keys by SPI, from the SA records (FPT
	// 0x8001) of the same transfer: the IKEv2 record carries none, and iked
	// needs them to install a child whose SPI UPDATE_SPI changes. Owned by
	// the caller (wiped after the call).
	Keys map[uint32]pfkey.Keys
}

// Errors the operations return (wrapped, naming the MN and the object);
// the daemon maps them to shm statuses.
var (
	// ErrNoContext: nothing known for this MN (no SA, no policy, no phase 1,
	// or no pre-installed context on the nAR).
	ErrNoContext = errors.New("no context")
	// ErrCollision: an SPI (or IKE SA cookie pair) of the context is in use
	// on this router under the configured lookup rule.
	ErrCollision = errors.New("SPI collision")
	// ErrInvalid: the context or the request could not be used.
	ErrInvalid = errors.New("invalid context")
	// ErrUnsupported: this kind is not served (e.g. no IKE daemon configured).
	ErrUnsupported = errors.ErrUnsupported
)

// LookupRule is how a router's SAD finds an inbound SA (paper section
// 3.2.3), hence which transferred SPIs can collide.
type LookupRule int

const (
	// RuleSPI: the SPI alone identifies an SA (case 1): any SA with the
	// same SPI collides.
	RuleSPI LookupRule = iota + 1
	// RuleSPIDst: SPI and destination address (case 2), per protocol:
	// how both Linux (xfrm_state_lookup: daddr, spi, proto) and FreeBSD
	// (key_allocsa: dst, proto, spi) find an inbound SA. Linux's default.
	RuleSPIDst
	// RuleSPIDstSrc: SPI, destination and source (case 3): no collision
	// is possible in practice, since the MN's new CoA is in the triplet.
	RuleSPIDstSrc
)

// DefaultRule is the running kernel's rule (rule_*.go): on FreeBSD
// key_add refuses an SPI that any SA already uses (key_getsavbyspi looks
// the SPI up alone), so although its inbound lookup matches SPI and
// destination, what can be installed collides on the SPI alone.

var ruleNames = map[LookupRule]string{RuleSPI: "spi", RuleSPIDst: "spi-dst", RuleSPIDstSrc: "spi-dst-src"}

func (r LookupRule) String() string {
	if n, ok := ruleNames[r]; ok {
		return n
	}
	return fmt.Sprintf("rule(%d)", int(r))
}

// ParseRule reads "spi", "spi-dst" or "spi-dst-src" ("" is the default).
func ParseRule(s string) (LookupRule, error) {
	if s == "" {
		return DefaultRule, nil
	}
	for r, n := range ruleNames {
		if n == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("unknown SAD lookup rule %q (want spi, spi-dst or spi-dst-src)", s)
}

// Collides reports whether installing cand next to have makes two SAs
// that the SAD cannot tell apart under rule r.
func (r LookupRule) Collides(have, cand *pfkey.SAEntry) bool {
	if have.SPI != cand.SPI {
		return false
	}
	switch r {
	case RuleSPI:
		return true
	case RuleSPIDstSrc:
		return have.Type == cand.Type && sameAddr(have.Dst, cand.Dst) && sameAddr(have.Src, cand.Src)
	default:
		return have.Type == cand.Type && sameAddr(have.Dst, cand.Dst)
	}
}

func sameAddr(a, b netip.Addr) bool { return a.WithZone("") == b.WithZone("") }

// Collision is one transferred SA that could not be installed.
type Collision struct {
	MN   netip.Addr
	SA   string // the transferred SA as it would have been installed
	With string // the SA already there ("" when the kernel said EEXIST)
	Rule LookupRule
	// SPI and Inbound: the transferred SA's SPI, and whether it is the
	// nAR's inbound SA (destination the nAR), which IKEv2 can repair.
	SPI     uint32
	Inbound bool
}

func (c Collision) String() string {
	if c.With == "" {
		return fmt.Sprintf("MN %v: SA %s: kernel reports the SPI in use (rule %v)", c.MN, c.SA, c.Rule)
	}
	return fmt.Sprintf("MN %v: SA %s collides with %s (rule %v)", c.MN, c.SA, c.With, c.Rule)
}

func isExist(err error) bool { return err != nil && errors.Is(err, syscall.EEXIST) }

func isNotExistK(err error) bool {
	return err != nil && (errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH))
}
