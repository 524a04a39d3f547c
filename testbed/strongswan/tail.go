package strongswan

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"time"
)

// tailWriter passes charon's output on, keeps its end for error messages
// and collects its Events.
type tailWriter struct {
	mu      sync.Mutex
	w       io.Writer
	buf     bytes.Buffer
	partial []byte
	events  []Event
}

const tailMax = 8 << 10

func (t *tailWriter) Write(b []byte) (int, error) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w != nil {
		t.w.Write(b)
	}
	t.buf.Write(b)
	if t.buf.Len() > 2*tailMax {
		keep := append([]byte(nil), t.buf.Bytes()[t.buf.Len()-tailMax:]...)
		t.buf.Reset()
		t.buf.Write(keep)
	}
	t.partial = append(t.partial, b...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		line := string(t.partial[:i])
		t.partial = t.partial[i+1:]
		at, rest, ok := parseLogTime(line)
		if !ok {
			at = now
		}
		if isEvent(rest) {
			t.events = append(t.events, Event{At: at, Line: rest})
		}
	}
	if len(t.partial) > tailMax { // no newline for that long: not a log line
		t.partial = t.partial[:0]
	}
	return len(b), nil
}

func (t *tailWriter) eventList() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Event(nil), t.events...)
}

func (t *tailWriter) tail() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.buf.String()
	if len(s) > tailMax {
		s = s[len(s)-tailMax:]
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return s
}
