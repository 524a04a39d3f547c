//go:build linux

package scenario

import (
	"testing"

	"github.com/ikectx/ikectx/testbed/traffic"
)

func TestFlowFrom(t *testing.T) {
	var recs []traffic.Record
	for q := uint64(1); q <= 20; q++ {
		if q == 12 || q == 13 {
			continue // lost
		}
		recs = append(recs, traffic.Record{Seq: q, Recv: int64(q) * 50e6, Src: "b"})
		recs = append(recs, traffic.Record{Seq: q, Recv: int64(q) * 50e6, Src: "a"})
	}
	n, lost, gap := flowFrom(recs, "b", 10*50e6)
	if n != 9 || lost != 2 || gap != 150 {
		t.Fatal(n, lost, gap)
	}
	if n, lost, gap := flowFrom(recs, "b", 14*50e6); n != 7 || lost != 0 || gap != 50 {
		t.Fatal(n, lost, gap)
	}
	if n, _, _ := flowFrom(recs, "c", 0); n != 0 {
		t.Fatal(n)
	}
}
