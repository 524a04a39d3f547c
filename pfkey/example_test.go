package pfkey_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/ikectx/ikectx/pfkey"
)

// Encoding the same X_SPDADD for both systems: FreeBSD's ipsecrequest is
// 8 bytes shorter and its sockaddrs carry sa_len.
func ExampleDialect_Marshal() {
	p := &pfkey.PolicyEntry{
		Src: netip.MustParsePrefix("2001:db8:1::/64"), Dst: netip.MustParsePrefix("2001:db8:2::/64"),
		Proto: pfkey.ProtoAny, Dir: pfkey.DirOutbound, Type: pfkey.PolicyIPsec,
		Requests: []pfkey.IPSecRequest{{
			Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelRequire,
			Src: netip.MustParseAddrPort("[2001:db8::1]:0"), Dst: netip.MustParseAddrPort("[2001:db8::2]:0"),
		}},
	}
	m := p.Message(pfkey.MsgXSPDAdd)
	for _, d := range []*pfkey.Dialect{pfkey.Linux, pfkey.FreeBSD} {
		b, err := d.WithByteOrder(binary.LittleEndian).Marshal(m)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %d bytes, sockaddr starts % x\n", d, len(b), b[24:26])
	}
	// Output:
	// linux: 184 bytes, sockaddr starts 0a 00
	// freebsd: 176 bytes, sockaddr starts 1c 1c
}

// Reading a kernel reply and turning it into an SAEntry that can be
// written to another kernel with its addresses rewritten.
func ExampleSAEntryFrom() {
	e := &pfkey.SAEntry{
		Type: pfkey.SATypeESP, SPI: 0x1000, Mode: pfkey.ModeTunnel,
		Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2"),
		Auth: pfkey.AuthSHA1HMAC, Enc: pfkey.EncAESCBC,
		Keys: pfkey.Keys{Auth: make([]byte, 20), Enc: make([]byte, 16)},
	}
	wire, _ := pfkey.Linux.Marshal(e.Message(pfkey.MsgAdd))
	m, _ := pfkey.Linux.Unmarshal(wire)
	got, _ := pfkey.SAEntryFrom(m)
	m.Wipe()
	moved := got.Clone()
	moved.Src = netip.MustParseAddr("2001:db8:ff::1")
	fmt.Println(moved)
	got.Wipe()
	// Output:
	// esp 2001:db8:ff::1->2001:db8::2 spi 0x1000 mode tunnel reqid 0 auth 3 enc 12 state larval keys(auth 160 bits, enc 128 bits)
}
