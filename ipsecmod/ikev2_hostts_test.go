package ipsecmod

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ikectx/ikectx/ikev2"
	"github.com/ikectx/ikectx/ipsecmod/ikev2ctx"
)

// TestImportIKEv2HostSelectors: a child whose selectors are the MN's
// previous CoA (the testbed's CoA <-> HA tunnel) is imported into the
// nAR's iked with the nCoA in their place, as the SP records are; other
// selectors are kept.
func TestImportIKEv2HostSelectors(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "iked.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var imported string
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			f := strings.Fields(line)
			switch {
			case len(f) > 3 && f[0] == "import":
				mu.Lock()
				imported = strings.Join(f[3:], " ")
				mu.Unlock()
				c.Write([]byte("00000000000000aa\n"))
			case len(f) > 0 && f[0] == "repair":
				c.Write([]byte("round-trips 1 updated 0 fallback false\n"))
			}
			c.Close()
		}
	}()
	pcoa, ncoa := netip.MustParseAddr("2001:db8:1::100"), netip.MustParseAddr("2001:db8:2::100")
	par, nar, ha := netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:2::1"), netip.MustParseAddr("2001:db8:3::1")
	host := func(a netip.Addr) []ikev2ctx.TrafficSelector {
		return []ikev2ctx.TrafficSelector{{Proto: 0, StartPort: 0, EndPort: 65535, Start: a, End: a}}
	}
	sa := &ikev2ctx.SA{SPIi: 1, SPIr: 2, Responder: true, Encr: 12, KeyLength: 128, Integ: 12, PRF: 5, DHGroup: 19,
		Local: netip.AddrPortFrom(par, 500), Remote: netip.AddrPortFrom(pcoa, 500), SKd: ikev2ctx.Secret{1}, Flags: ikev2ctx.FlagMOBIKE,
		Children: []ikev2ctx.ChildSA{{Proto: 3, Mode: 2, SPIIn: 0x1000, SPIOut: 0x2000, Encr: 12, KeyLength: 128, Integ: 2,
			TSi: host(pcoa), TSr: host(ha)}}}
	d := &Iked{Socket: sock}
	if err := d.ImportIKEv2(context.Background(), &IKEv2Import{SA: sa, Local: netip.AddrPortFrom(nar, 500), Remote: netip.AddrPortFrom(ncoa, 500)}); err != nil {
		t.Fatal(err)
	}
	d.Wait()
	mu.Lock()
	defer mu.Unlock()
	var st ikev2.SAState
	if err := json.Unmarshal([]byte(imported), &st); err != nil || len(st.Children) != 1 {
		t.Fatalf("%v: %q", err, imported)
	}
	c := st.Children[0]
	if len(c.LocalTS) != 1 || c.LocalTS[0].Start != ha || len(c.RemoteTS) != 1 || c.RemoteTS[0].Start != ncoa || c.RemoteTS[0].End != ncoa {
		t.Fatalf("imported selectors local %v remote %v, want HA and the nCoA", c.LocalTS, c.RemoteTS)
	}
	if o := d.Outcomes(); len(o) != 1 || o[0].RoundTrips != 1 || o[0].Err != nil {
		t.Fatalf("%+v", o)
	}
}
