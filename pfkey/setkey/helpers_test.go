package setkey

import (
	"errors"
	"net/netip"
)

// noResolve is a resolver for tests: no network, no names.
func noResolve(host string, family int) ([]netip.Addr, error) {
	return nil, errors.New("name resolution disabled in tests")
}
