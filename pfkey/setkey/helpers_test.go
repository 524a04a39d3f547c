package setkey

import (
	"errors"
	"net/netip"
	"os"
)

// noResolve is a resolver for tests: no network, no names.
func noResolve(host string, family int) ([]netip.Addr, error) {
	return nil, errors.New("name resolution disabled in tests")
}

func parseFile(path string) (*Script, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b, &Options{Resolve: noResolve})
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
