package pfkey

import "testing"

func benchEncode(b *testing.B, d *Dialect, m *Message) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		out, err := d.Append(buf[:0], m)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}

func benchDecode(b *testing.B, d *Dialect, m *Message) {
	wire, err := d.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	var dst Message
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		if err := d.UnmarshalInto(&dst, wire); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeAdd(b *testing.B) {
	b.Run("linux", func(b *testing.B) { benchEncode(b, Linux, addMessage()) })
	b.Run("freebsd", func(b *testing.B) { benchEncode(b, FreeBSD, addMessage()) })
}

func BenchmarkDecodeAdd(b *testing.B) {
	b.Run("linux", func(b *testing.B) { benchDecode(b, Linux, addMessage()) })
	b.Run("freebsd", func(b *testing.B) { benchDecode(b, FreeBSD, addMessage()) })
}

func BenchmarkEncodeSPDAdd(b *testing.B) {
	b.Run("linux", func(b *testing.B) { benchEncode(b, Linux, spdAddMessage()) })
	b.Run("freebsd", func(b *testing.B) { benchEncode(b, FreeBSD, spdAddMessage()) })
}

func BenchmarkDecodeSPDAdd(b *testing.B) {
	b.Run("linux", func(b *testing.B) { benchDecode(b, Linux, spdAddMessage()) })
	b.Run("freebsd", func(b *testing.B) { benchDecode(b, FreeBSD, spdAddMessage()) })
}
