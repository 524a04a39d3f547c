package setkey

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/pfkey"
)

// hx turns a layout written as commented hex lines into bytes.
func hx(t *testing.T, s string) []byte {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(strings.Join(strings.Fields(line), ""))
	}
	out, err := hex.DecodeString(b.String())
	if err != nil {
		t.Fatalf("bad golden hex: %v", err)
	}
	return out
}

func buildOne(t *testing.T, src string, d *pfkey.Dialect) []byte {
	t.Helper()
	sc, err := Parse("golden.conf", []byte(src), &Options{Resolve: noResolve})
	if err != nil {
		t.Fatal(err)
	}
	ops, err := Build(sc, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 {
		t.Fatalf("%d messages, want 1", len(ops))
	}
	b, err := d.Marshal(ops[0].Msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compareGolden(t *testing.T, name string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s: bytes differ\n got %x\nwant %x", name, got, want)
		for i := 0; i < len(got) && i < len(want); i++ {
			if got[i] != want[i] {
				t.Errorf("%s: first difference at byte %d: got %02x want %02x", name, i, got[i], want[i])
				break
			}
		}
	}
}

var linuxLE = pfkey.Linux.WithByteOrder(binary.LittleEndian)
var freebsdLE = pfkey.FreeBSD.WithByteOrder(binary.LittleEndian)

const addSrc = `add 2001:db8::1 2001:db8::2 esp 0x1000 -m tunnel -u 7
	-E aes-cbc 0x00112233445566778899aabbccddeeff
	-A hmac-sha1 0x0102030405060708090a0b0c0d0e0f1011121314;`

// The message layouts come from include/uapi/linux/pfkeyv2.h and
// sys/net/pfkeyv2.h: sadb_msg (16), sadb_sa (16), sadb_address (8) +
// sockaddr_in6 (28, padded to 32), sadb_key (8) + key padded to 8,
// sadb_x_sa2 (16). Extensions in ascending type order.
func TestGoldenAddLinux(t *testing.T) {
	want := hx(t, `
02 03 00 03  17 00 00 00  00 00 00 00  00 00 00 00 // sadb_msg: v2 ADD errno 0 satype ESP, len 23*8=184, reserved, seq 0, pid 0
02 00 01 00  00 00 10 00  00 00 03 0c  40 00 00 00 // sadb_sa: len 2, type 1, spi 0x1000 (network order), replay 0, state 0, auth 3 (sha1), enc 12 (aes-cbc), flags CYCSEQ
05 00 05 00  ff 80 00 00                           // sadb_address src: len 5, type 5, proto any, prefixlen 128
0a 00 00 00  00 00 00 00                           // sockaddr_in6: family 10, port 0, flowinfo 0
20 01 0d b8  00 00 00 00  00 00 00 00  00 00 00 01 // 2001:db8::1
00 00 00 00  00 00 00 00                           // scope id 0, padding
05 00 06 00  ff 80 00 00                           // sadb_address dst
0a 00 00 00  00 00 00 00
20 01 0d b8  00 00 00 00  00 00 00 00  00 00 00 02
00 00 00 00  00 00 00 00
04 00 08 00  a0 00 00 00                           // sadb_key auth: len 4, type 8, 160 bits
01 02 03 04  05 06 07 08  09 0a 0b 0c  0d 0e 0f 10  11 12 13 14  00 00 00 00
03 00 09 00  80 00 00 00                           // sadb_key encrypt: len 3, type 9, 128 bits
00 11 22 33  44 55 66 77  88 99 aa bb  cc dd ee ff
02 00 13 00  02 00 00 00  00 00 00 00  07 00 00 00 // sadb_x_sa2: len 2, type 19, mode tunnel, seq 0, reqid 7
`)
	compareGolden(t, "linux add", buildOne(t, addSrc, linuxLE), want)
}

func TestGoldenAddFreeBSD(t *testing.T) {
	want := hx(t, `
02 03 00 03  17 00 00 00  00 00 00 00  00 00 00 00
02 00 01 00  00 00 10 00  00 00 03 0c  40 00 00 00
05 00 05 00  ff 80 00 00
1c 1c 00 00  00 00 00 00                           // sockaddr_in6: sin6_len 28, family 28 (AF_INET6), port 0, flowinfo 0
20 01 0d b8  00 00 00 00  00 00 00 00  00 00 00 01
00 00 00 00  00 00 00 00
05 00 06 00  ff 80 00 00
1c 1c 00 00  00 00 00 00
20 01 0d b8  00 00 00 00  00 00 00 00  00 00 00 02
00 00 00 00  00 00 00 00
04 00 08 00  a0 00 00 00
01 02 03 04  05 06 07 08  09 0a 0b 0c  0d 0e 0f 10  11 12 13 14  00 00 00 00
03 00 09 00  80 00 00 00
00 11 22 33  44 55 66 77  88 99 aa bb  cc dd ee ff
02 00 13 00  02 00 00 00  00 00 00 00  07 00 00 00
`)
	compareGolden(t, "freebsd add", buildOne(t, addSrc, freebsdLE), want)
}

const spdSrc = `spdadd 2001:db8::/64[any] 2001:db8:1::/64[any] any
	-P out ipsec esp/tunnel/2001:db8::1-2001:db8::2/require;`

func TestGoldenSPDAddLinux(t *testing.T) {
	want := hx(t, `
02 0e 00 00  17 00 00 00  00 00 00 00  00 00 00 00 // sadb_msg: X_SPDADD (14), satype unspec, len 23
05 00 05 00  ff 40 00 00                           // src: proto any, /64
0a 00 00 00  00 00 00 00
20 01 0d b8  00 00 00 00  00 00 00 00  00 00 00 00
00 00 00 00  00 00 00 00
05 00 06 00  ff 40 00 00                           // dst: /64
0a 00 00 00  00 00 00 00
20 01 0d b8  00 01 00 00  00 00 00 00  00 00 00 00
00 00 00 00  00 00 00 00
0b 00 12 00  02 00 02 00                           // sadb_x_policy: len 11, type 18, IPSEC_POLICY_IPSEC, dir out, reserved
00 00 00 00  00 00 00 80                           // id 0, priority 0x80000000 (def)
48 00 32 00  02 02 00 00                           // sadb_x_ipsecrequest: len 72 bytes, proto 50, mode tunnel, level require
00 00 00 00  00 00 00 00                           // reqid 0 (32 bits), reserved
0a 00 00 00  00 00 00 00                           // tunnel src sockaddr_in6
20 01 0d b8  00 00 00 00  00 00 00 00  00 00 00 01
00 00 00 00
0a 00 00 00  00 00 00 00                           // tunnel dst sockaddr_in6
20 01 0d b8  00 00 00 00  00 00 00 00  00 00 00 02
00 00 00 00
`)
	compareGolden(t, "linux spdadd", buildOne(t, spdSrc, linuxLE), want)
}

func TestGoldenSPDAddFreeBSD(t *testing.T) {
	want := hx(t, `
02 0e 00 00  16 00 00 00  00 00 00 00  00 00 00 00 // len 22
05 00 05 00  ff 40 00 00
1c 1c 00 00  00 00 00 00
20 01 0d b8  00 00 00 00  00 00 00 00  00 00 00 00
00 00 00 00  00 00 00 00
05 00 06 00  ff 40 00 00
1c 1c 00 00  00 00 00 00
20 01 0d b8  00 01 00 00  00 00 00 00  00 00 00 00
00 00 00 00  00 00 00 00
0a 00 12 00  02 00 02 00                           // sadb_x_policy: len 10, ipsec, out, scope 0
00 00 00 00  00 00 00 80
40 00 32 00  02 02 00 00                           // FreeBSD ipsecrequest: len 64 bytes, proto 50, tunnel, require, reqid 0 (16 bits)
1c 1c 00 00  00 00 00 00
20 01 0d b8  00 00 00 00  00 00 00 00  00 00 00 01
00 00 00 00
1c 1c 00 00  00 00 00 00
20 01 0d b8  00 00 00 00  00 00 00 00  00 00 00 02
00 00 00 00
`)
	compareGolden(t, "freebsd spdadd", buildOne(t, spdSrc, freebsdLE), want)
}

// An IPv4 transport policy with ports, a unique:N level and a priority.
func TestGoldenSPDAddIPv4Linux(t *testing.T) {
	src := `spdadd -n 10.0.0.1[500] 10.0.0.2/32[any] udp -P in prio high + 5 ipsec esp/transport//unique:300;`
	want := hx(t, `
02 0e 00 00  0c 00 00 00  00 00 00 00  00 00 00 00 // len 12 (96 bytes)
03 00 05 00  11 20 00 00                           // src: len 3, proto udp (17), /32
02 00 01 f4  0a 00 00 01  00 00 00 00  00 00 00 00 // sockaddr_in: family 2, port 500, 10.0.0.1, zero
03 00 06 00  11 20 00 00
02 00 00 00  0a 00 00 02  00 00 00 00  00 00 00 00
04 00 12 00  02 00 01 00                           // x_policy: len 4, ipsec, dir in
00 00 00 00  fb ff ff 3f                           // priority 0x40000000 - 5
10 00 32 00  01 03 00 00                           // request: 16 bytes, esp, transport, unique
2c 01 00 00  00 00 00 00                           // reqid 300
`)
	compareGolden(t, "linux spdadd ipv4", buildOne(t, src, linuxLE), want)
}

// get, delete and flush carry only what ipsec-tools sends.
func TestGoldenSmallLinux(t *testing.T) {
	compareGolden(t, "flush esp", buildOne(t, "flush esp;", linuxLE), hx(t, `02 09 00 03  02 00 00 00  00 00 00 00  00 00 00 00`))
	compareGolden(t, "spddump", buildOne(t, "spddump;", linuxLE), hx(t, `02 12 00 00  02 00 00 00  00 00 00 00  00 00 00 00`))
	want := hx(t, `
02 05 00 02  0c 00 00 00  00 00 00 00  00 00 00 00 // GET ah, len 12 (96 bytes)
02 00 01 00  00 01 00 04  00 00 00 00  40 00 00 00 // sa: spi 0x10004
03 00 05 00  ff 20 00 00
02 00 00 00  7f 00 00 01  00 00 00 00  00 00 00 00
03 00 06 00  ff 20 00 00
02 00 00 00  7f 00 00 02  00 00 00 00  00 00 00 00
02 00 13 00  00 00 00 00  00 00 00 00  00 00 00 00 // sa2: mode any, reqid 0
`)
	compareGolden(t, "get", buildOne(t, "get 127.0.0.1 127.0.0.2 ah 0x10004;", linuxLE), want)
}

// -E null carries an encryption key extension of 0 bits (ipsec-tools does
// the same; Linux refuses an ESP SA without KEY_ENCRYPT), -A null none.
func TestGoldenNullLinux(t *testing.T) {
	want := hx(t, `
02 03 00 03  0d 00 00 00  00 00 00 00  00 00 00 00 // ADD esp, len 13 (104 bytes)
02 00 01 00  00 00 00 09  00 00 fb 0b  40 00 00 00 // sa: spi 9, auth 251 (null), enc 11 (null), CYCSEQ
03 00 05 00  ff 20 00 00                           // src /32
02 00 00 00  0a 00 00 01  00 00 00 00  00 00 00 00
03 00 06 00  ff 20 00 00                           // dst /32
02 00 00 00  0a 00 00 02  00 00 00 00  00 00 00 00
01 00 09 00  00 00 00 00                           // sadb_key encrypt: len 1, 0 bits, no key bytes
02 00 13 00  00 00 00 00  00 00 00 00  00 00 00 00 // sa2: mode any
`)
	compareGolden(t, "null", buildOne(t, "add 10.0.0.1 10.0.0.2 esp 9 -E null -A null;", linuxLE), want)
}
