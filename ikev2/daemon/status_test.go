package daemon

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/ikev2"
	"github.com/ikectx/ikectx/ikev2/msg"
)

// ParseStatus reads FormatStatus's text back (SPIs, roles, addresses,
// children) and names the line of what it cannot read.
func TestParseStatusRoundTrip(t *testing.T) {
	sel := func(p string) []msg.Selector { return []msg.Selector{msg.SelectorFromPrefix(netip.MustParsePrefix(p))} }
	mn, _ := ikev2.ParseIdentity("mn@example")
	sas := []ikev2.SAState{
		{Name: "mn", State: "ESTABLISHED", SPIi: 0x0102030405060708, SPIr: 0x1112131415161718,
			Local: netip.MustParseAddrPort("[2001:db8:2::1]:500"), Remote: netip.MustParseAddrPort("[2001:db8:2::100]:4500"), PeerID: mn, MOBIKE: true,
			Children: []ikev2.ChildState{{Name: "mn", SPIIn: 0xc1a2b3c4, SPIOut: 0x00000101, LocalTS: sel("2001:db8:3::1/128"), RemoteTS: sel("2001:db8:2::100/128")}}},
		{Name: "home", State: "ESTABLISHED", Initiator: true, SPIi: 9, SPIr: 10,
			Local: netip.MustParseAddrPort("10.0.0.1:500"), Remote: netip.MustParseAddrPort("10.0.0.2:500")},
	}
	// the daemon's status ends with its counters
	text := FormatStatus(sas) + FormatStats(ikev2.RekeyStats{})
	got, err := ParseStatus(text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	want := []StatusSA{
		{Name: "mn", State: "ESTABLISHED", SPIi: 0x0102030405060708, SPIr: 0x1112131415161718, Local: sas[0].Local, Remote: sas[0].Remote,
			Children: []StatusChild{{Name: "mn", SPIIn: 0xc1a2b3c4, SPIOut: 0x101}}},
		{Name: "home", State: "ESTABLISHED", Initiator: true, SPIi: 9, SPIr: 10, Local: sas[1].Local, Remote: sas[1].Remote},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v\n%s", got, want, text)
	}
	if got[0].LocalSPI() != got[0].SPIr || got[1].LocalSPI() != 9 {
		t.Error("LocalSPI")
	}
	if s, err := ParseStatus(FormatStatus(nil)); err != nil || len(s) != 0 {
		t.Fatal(s, err)
	}
	for _, bad := range []string{"  local [::1]:500 x\n", "mn: ESTABLISHED responder spi zz_i 01_r\n", "mn: ESTABLISHED responder spi 01_i\n",
		"collisions resolved: 0\n  c: ESP tunnel in 0x01 out 0x02 p\n",
		"mn: ESTABLISHED responder spi 01_i 02_r\n  remote nowhere\n", "mn: ESTABLISHED responder spi 01_i 02_r\n  c: ESP tunnel in 0xqq out 0x01 p\n"} {
		if _, err := ParseStatus(bad); err == nil || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
