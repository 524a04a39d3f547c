package lab

import (
	"fmt"
	"testing"
)

func TestParseLdd(t *testing.T) {
	out := "\tlinux-vdso.so.1 (0x00007ffd)\n" +
		"\tlibbpf.so.1 => /lib/x86_64-linux-gnu/libbpf.so.1 (0x00007f96)\n" +
		"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f96)\n" +
		"\t/lib64/ld-linux-x86-64.so.2 (0x00007f96)\n"
	libs, err := parseLdd(out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(libs), "[/lib/x86_64-linux-gnu/libbpf.so.1 /lib/x86_64-linux-gnu/libc.so.6 /lib64/ld-linux-x86-64.so.2]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if libs, err := parseLdd("\tnot a dynamic executable\n"); err != nil || len(libs) != 0 {
		t.Errorf("static: %v %v", libs, err)
	}
	if _, err := parseLdd("\tlibmissing.so.3 => not found\n"); err == nil {
		t.Error("missing library accepted")
	}
}
