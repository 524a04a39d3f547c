package shm

import (
	"encoding/hex"
	"strings"
	"testing"
)

// kinfoRecord is a struct kinfo_proc of size bytes, zero but for the runs
// of hex bytes given at their offsets.
func kinfoRecord(t testing.TB, size int, runs map[int]string) []byte {
	b := make([]byte, size)
	for off, h := range runs {
		v, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		copy(b[off:], v)
	}
	return b
}

// goldenKinfo is the record of kern.proc.pid.4242 for an exited, unreaped
// ipsec-cxtpd on FreeBSD amd64 (little-endian; offsets of sys/sys/user.h
// as listed in kinfo.go), the fields not listed zero. stat and nice are
// ki_stat and ki_nice (a nice of 5 catches a parser that reads one byte
// too far).
func goldenKinfo(t testing.TB, size int, stat, nice string) []byte {
	return kinfoRecord(t, size, map[int]string{
		0:   "40 04 00 00  00 00 00 00",         // ki_structsize 1088, ki_layout
		72:  "92 10 00 00  01 00 00 00",         // ki_pid 4242, ki_ppid 1
		368: "00 20 00 00 00 00 00 00",          // ki_flag: P_WEXIT (sys/sys/proc.h)
		388: stat + nice,                        // ki_stat, ki_nice
		447: "69 70 73 65 63 2d 63 78 74 70 64", // ki_comm "ipsec-cxtpd"
	})
}

func TestKinfoProcStatGolden(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("golden bytes are little-endian")
	}
	for _, c := range []struct {
		name string
		b    []byte
		pid  uint32
		want byte
		ok   bool
	}{
		{"zombie", goldenKinfo(t, 1088, "05", "00"), 4242, kinfoStatZombie, true},
		{"sleeping, nice 5", goldenKinfo(t, 1088, "03", "05"), 4242, 3, true},
		{"running", goldenKinfo(t, 1088, "02", "00"), 4242, 2, true},
		{"another pid", goldenKinfo(t, 1088, "05", "00"), 4243, 0, false},
		{"pid 0", goldenKinfo(t, 1088, "05", "00"), 0, 0, false},
		{"one byte short", goldenKinfo(t, 1088, "05", "00")[:1087], 4242, 0, false},
		{"one byte more", goldenKinfo(t, 1089, "05", "00"), 4242, 0, false},
		{"i386 record (768 bytes)", kinfoRecord(t, 768, map[int]string{0: "00 03 00 00", 40: "92 10 00 00"}), 4242, 0, false},
		{"1088 bytes, ki_structsize 768", kinfoRecord(t, 1088, map[int]string{0: "00 03 00 00", 72: "92 10 00 00", 388: "05"}), 4242, 0, false},
		{"big-endian ki_structsize", kinfoRecord(t, 1088, map[int]string{0: "00 00 04 40", 72: "92 10 00 00", 388: "05"}), 4242, 0, false},
		{"empty", nil, 4242, 0, false},
	} {
		st, err := kinfoProcStat(c.b, c.pid)
		if (err == nil) != c.ok || st != c.want {
			t.Errorf("%s: state %d, %v; want %d, ok %v", c.name, st, err, c.want, c.ok)
		}
	}
}

// FuzzKinfoProcStat: any bytes give a state or an error, never a panic; a
// state is ki_stat of a 1088-byte record of the pid asked for.
func FuzzKinfoProcStat(f *testing.F) {
	f.Add(goldenKinfo(f, 1088, "05", "00"), uint32(4242))
	f.Add(goldenKinfo(f, 1088, "03", "05"), uint32(4242))
	f.Add(goldenKinfo(f, 1088, "05", "00")[:400], uint32(4242))
	f.Add([]byte{}, uint32(0))
	f.Fuzz(func(t *testing.T, b []byte, pid uint32) {
		st, err := kinfoProcStat(b, pid)
		if err != nil {
			if st != 0 {
				t.Fatalf("state %d with error %v", st, err)
			}
			return
		}
		if len(b) != kinfoProcSize || st != b[kinfoOffStat] {
			t.Fatalf("state %d from %d bytes", st, len(b))
		}
	})
}
