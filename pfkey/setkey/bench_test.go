package setkey

import (
	"strings"
	"testing"

	"github.com/ikectx/ikectx/pfkey"
)

// benchScript is 100 SAs and 100 tunnel policies, the size of a busy gateway.
func benchScript() []byte {
	var b strings.Builder
	for i := 0; i < 100; i++ {
		b.WriteString("add 2001:db8::1 2001:db8::2 esp " + itoa(0x1000+i) + " -m tunnel -E aes-cbc 0x00112233445566778899aabbccddeeff -A hmac-sha256 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f;\n")
		b.WriteString("spdadd 2001:db8:" + itoa(i+1) + "::/64[any] 2001:db8:ffff::/64[any] any -P out ipsec esp/tunnel/2001:db8::1-2001:db8::2/require;\n")
	}
	return []byte(b.String())
}

func BenchmarkParse200(b *testing.B) {
	src := benchScript()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("bench", src, &Options{Resolve: noResolve}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuild200(b *testing.B) {
	sc, err := Parse("bench", benchScript(), &Options{Resolve: noResolve})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(sc, pfkey.Linux); err != nil {
			b.Fatal(err)
		}
	}
}
