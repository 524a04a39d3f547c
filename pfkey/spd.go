//go:build linux || freebsd

package pfkey

import (
	"context"
	"iter"
	"net/netip"
)

// SPDAdd installs a policy (SADB_X_SPDADD).
func (c *Conn) SPDAdd(ctx context.Context, p *PolicyEntry) error {
	_, err := c.Do(ctx, p.Message(MsgXSPDAdd))
	return err
}

// SPDUpdate installs or replaces a policy (SADB_X_SPDUPDATE).
func (c *Conn) SPDUpdate(ctx context.Context, p *PolicyEntry) error {
	_, err := c.Do(ctx, p.Message(MsgXSPDUpdate))
	return err
}

// SPDDelete removes the policy with p's selector and direction
// (SADB_X_SPDDELETE).
func (c *Conn) SPDDelete(ctx context.Context, p *PolicyEntry) error {
	_, err := c.Do(ctx, p.Message(MsgXSPDDelete))
	return err
}

// SPDDeleteID removes a policy by its kernel id (SADB_X_SPDDELETE2).
func (c *Conn) SPDDeleteID(ctx context.Context, id uint32) error {
	_, err := c.Do(ctx, &Message{Type: MsgXSPDDelete2, Policy: &Policy{Type: PolicyIPsec, ID: id}})
	return err
}

// SPDGet reads a policy by its kernel id (SADB_X_SPDGET).
func (c *Conn) SPDGet(ctx context.Context, id uint32) (*PolicyEntry, error) {
	r, err := c.Do(ctx, &Message{Type: MsgXSPDGet, Policy: &Policy{Type: PolicyIPsec, ID: id}})
	if err != nil {
		return nil, err
	}
	return PolicyEntryFrom(r)
}

// SPDFlush deletes all policies (SADB_X_SPDFLUSH).
func (c *Conn) SPDFlush(ctx context.Context) error {
	_, err := c.Do(ctx, &Message{Type: MsgXSPDFlush})
	return err
}

// SPDDump iterates over all policies (SADB_X_SPDDUMP).
func (c *Conn) SPDDump(ctx context.Context) iter.Seq2[*PolicyEntry, error] {
	return func(yield func(*PolicyEntry, error) bool) {
		for m, err := range c.DoMulti(ctx, &Message{Type: MsgXSPDDump}) {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(PolicyEntryFrom(m)) {
				return
			}
		}
	}
}

// Policies returns all policies.
func (c *Conn) Policies(ctx context.Context) ([]*PolicyEntry, error) {
	return c.collectPolicies(ctx, func(*PolicyEntry) bool { return true })
}

// PoliciesFor returns the policies whose selector or tunnel endpoints
// name addr as a host (PolicyEntry.InvolvesHost).
func (c *Conn) PoliciesFor(ctx context.Context, addr netip.Addr) ([]*PolicyEntry, error) {
	return c.collectPolicies(ctx, func(p *PolicyEntry) bool { return p.InvolvesHost(addr) })
}

func (c *Conn) collectPolicies(ctx context.Context, keep func(*PolicyEntry) bool) ([]*PolicyEntry, error) {
	var out []*PolicyEntry
	for p, err := range c.SPDDump(ctx) {
		if err != nil {
			return nil, err
		}
		if keep(p) {
			out = append(out, p)
		}
	}
	return out, nil
}
