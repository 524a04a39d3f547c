package transport

import "testing"

func TestKinds(t *testing.T) {
	for _, k := range []Kind{KindICMPv6, KindUDP, KindSCTP} {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := ParseKind("tcp"); err == nil {
		t.Error("tcp accepted")
	}
	if Kind(0).String() != "unknown" {
		t.Error("zero kind has a name")
	}
}
