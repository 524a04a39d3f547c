package ikev2

import (
	"errors"
	"net/netip"
	"testing"
)

// recKernel records the addresses Install and Delete see.
type recKernel struct {
	MemKernel
	calls  []string
	delErr error
}

func (k *recKernel) Install(sa *IKESA, c *ChildSA) error {
	k.calls = append(k.calls, "install "+sa.Local.String()+" "+sa.Remote.String())
	return nil
}

func (k *recKernel) Delete(sa *IKESA, c *ChildSA) error {
	k.calls = append(k.calls, "delete "+sa.Local.String()+" "+sa.Remote.String())
	return k.delErr
}

func TestReinstall(t *testing.T) {
	k := &recKernel{}
	sa := &IKESA{Local: netip.MustParseAddrPort("[fd00::9]:4500"), Remote: netip.MustParseAddrPort("[fd00::2]:4500")}
	if err := Reinstall(k, sa, &ChildSA{}, netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")); err != nil {
		t.Fatal(err)
	}
	want := []string{"delete [fd00::1]:4500 [fd00::2]:4500", "install [fd00::9]:4500 [fd00::2]:4500"}
	if len(k.calls) != 2 || k.calls[0] != want[0] || k.calls[1] != want[1] {
		t.Fatalf("calls %q, want %q", k.calls, want)
	}
	if sa.Local != netip.MustParseAddrPort("[fd00::9]:4500") {
		t.Fatalf("sa changed: %v", sa.Local)
	}
	k = &recKernel{delErr: errors.New("no")}
	if err := Reinstall(k, sa, &ChildSA{}, netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")); err == nil || len(k.calls) != 1 {
		t.Fatalf("delete failed: %v, calls %q (want no install)", err, k.calls)
	}
}
