package strongswan

import (
	"strings"
	"testing"
	"time"
)

// charon's output is not ours: whatever it writes, in whatever pieces, the
// writer passes it on, never panics, keeps its memory bounded and only
// records lines that are events.
func FuzzTailWriter(f *testing.F) {
	f.Add([]byte("1000.200 09[IKE] initiating IKE_SA cc[1] to fd00:5::2\n1000.490 12[IKE] CHILD_SA net{1} established with SPIs\n"), uint8(7))
	f.Add([]byte("no stamp established \n\n\n.123 x\n99999999999999999999.999 is initiating an IKE_SA\n"), uint8(1))
	f.Add([]byte{0xff, '\n', 0, ' ', '.', '\n'}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		var sink strings.Builder
		w := &tailWriter{w: &sink}
		n := int(step) + 1
		for i := 0; i < len(data); i += n {
			w.Write(data[i:min(i+n, len(data))])
		}
		if sink.String() != string(data) {
			t.Fatal("output changed on its way")
		}
		if len(w.tail()) > tailMax || len(w.partial) > tailMax+n {
			t.Fatalf("unbounded: tail %d partial %d", len(w.tail()), len(w.partial))
		}
		for _, e := range w.eventList() {
			if !isEvent(e.Line) || strings.Contains(e.Line, "\n") {
				t.Fatalf("not an event line: %q", e.Line)
			}
		}
		ExchangeTime(w.eventList(), time.Time{})
		parseLogTime(string(data))
	})
}

// The timestamp's separator is not part of an event word.
func TestEventWordAfterStamp(t *testing.T) {
	w := &tailWriter{}
	w.Write([]byte("1.123 established x\n2.000 09[IKE] IKE_SA cc[1] established between a...b\n"))
	if ev := w.eventList(); len(ev) != 1 || ev[0].At.Unix() != 2 {
		t.Errorf("events %v", ev)
	}
}

// IKEv1's log lines name the mode.
func TestExchangeTimeIKEv1(t *testing.T) {
	w := &tailWriter{}
	w.Write([]byte("10.000 15[CFG] vici initiate CHILD_SA 'net'\n" +
		"10.100 05[IKE] initiating Main Mode IKE_SA v1[1] to fd00:5::2\n" +
		"10.900 06[IKE] IKE_SA v1[1] established between fd00:5::1[mn@example]...fd00:5::2[ar@example]\n" +
		"11.450 08[IKE] CHILD_SA net{1} established with SPIs c495a2c2_i c5a0e406_o\n"))
	if d, ok := ExchangeTime(w.eventList(), time.Unix(10, 0)); !ok || d != 1350*time.Millisecond {
		t.Errorf("initiator: %v %v", d, ok)
	}
	r := &tailWriter{}
	r.Write([]byte("20.000 16[IKE] fd00:5::1 is initiating a Main Mode IKE_SA\n" +
		"20.500 11[IKE] CHILD_SA net{1} established with SPIs\n" +
		"21.000 12[IKE] initiating Aggressive Mode IKE_SA a[2] to fd00:5::2\n"))
	ev := r.eventList()
	if d, ok := ExchangeTime(ev, time.Unix(20, 0)); len(ev) != 3 || !ok || d != 500*time.Millisecond {
		t.Errorf("responder: %v %v %v", ev, d, ok)
	}
	if w.eventList()[0].Line == "" || isEvent("vici initiate CHILD_SA 'net'") {
		t.Error("vici's initiate request is not an IKE SA initiation")
	}
}
