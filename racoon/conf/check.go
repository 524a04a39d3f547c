package conf

import "fmt"

// processRemote is process_rmconf of cfparse.y plus ikectx's own checks: a
// remote that cannot work as written is refused, one that uses what ikectx
// does not implement is reported.
func (p *parser) processRemote(r *Remote) {
	if len(r.ExchangeModes) == 0 {
		p.failAt(r.Pos, "remote %s: no exchange_mode specified", r)
	}
	if len(r.Proposals) == 0 {
		p.failAt(r.Pos, "remote %s: no proposal (no remote specification found)", r)
	}
	for _, pr := range r.Proposals {
		for _, m := range []struct {
			a    *Algorithm
			what string
		}{{pr.Encryption, "encryption algorithm"}, {pr.Hash, "hash algorithm"}, {pr.DHGroup, "DH group"}, {pr.AuthMethod, "authentication method"}} {
			if m.a == nil {
				p.failAt(pr.Pos, "remote %s: proposal: %s required", r, m.what)
			}
		}
	}
	aggressive, implemented := false, false
	for _, m := range r.ExchangeModes {
		if m == ModeAggressive {
			aggressive = true
		}
		if m == ModeMain || m == ModeAggressive {
			implemented = true
		}
	}
	if !implemented {
		p.warnAt(r.Pos, "remote %s allows only base mode, which ikectx does not implement: every phase 1 with this peer will fail", r)
	}
	if aggressive {
		for _, pr := range r.Proposals[1:] {
			if pr.DHGroup.DOI != r.Proposals[0].DHGroup.DOI {
				p.failAt(pr.Pos, "remote %s: aggressive mode needs the same DH group in every proposal (%s at %s, %s here)",
					r, r.Proposals[0].DHGroup.Name, r.Proposals[0].Pos, pr.DHGroup.Name)
			}
		}
	}
	if r.MyIdentifier.Type == IDASN1DN && r.MyIdentifier.Value == "" && r.MyCertFile == "" {
		p.failAt(r.Pos, "remote %s: my_identifier asn1dn without a value needs certificate_type", r)
	}
	usable := 0
	for _, pr := range r.Proposals {
		var missing []string
		for _, a := range []*Algorithm{pr.Encryption, pr.Hash, pr.AuthMethod, pr.DHGroup} {
			if !a.Implemented() {
				missing = append(missing, a.Name)
			}
		}
		if len(missing) == 0 {
			usable++
			continue
		}
		p.warnAt(pr.Pos, "proposal uses %v, which ikectx does not implement: this proposal is never offered or accepted", missing)
	}
	if usable == 0 {
		p.warnAt(r.Pos, "remote %s has no proposal ikectx can negotiate: every phase 1 with this peer will fail", r)
	}
	if r.Name != "" && !r.Address.IsValid() {
		p.warnAt(r.Pos, "remote %s has no remote_address: it is used only as a parent for inherit", r)
	}
}

// finish runs the checks that need the whole file.
func (p *parser) finish() {
	if len(p.cfg.Remotes) > 0 && len(p.cfg.SAInfos) == 0 {
		p.warnAt(p.cfg.Remotes[0].Pos, "no sainfo block: every quick mode will fail")
	}
}

// NeedsPSK reports whether the configuration needs a pre-shared key file.
func (c *Config) NeedsPSK() bool {
	for _, r := range c.Remotes {
		for _, pr := range r.Proposals {
			if pr.AuthMethod != nil && pr.AuthMethod.Name == "pre_shared_key" {
				return true
			}
		}
	}
	return false
}

// Summary is a one-line description for -t output.
func (c *Config) Summary() string {
	return fmt.Sprintf("%d remote(s), %d sainfo(s), %d file(s) read", len(c.Remotes), len(c.SAInfos), len(c.Files))
}
