package lab

import (
	"io"
	"strconv"
	"strings"
	"time"
)

// Console markers printed by the guest's /init around the payload.
const (
	MarkerBegin  = "@@BEGIN"
	MarkerResult = "@@RESULT rc="
)

// console follows the guest's serial console line by line: lines before
// @@BEGIN are the boot log, lines between @@BEGIN and @@RESULT rc=N are the
// payload's output, N is its exit status.
type console struct {
	out  io.Writer // payload lines, as they come; may be nil
	boot io.Writer // boot-log lines (before @@BEGIN, after @@RESULT); may be nil

	began   bool
	ended   bool
	rc      int
	beganAt time.Time
	payload strings.Builder
	tail    []string // the last lines of everything, for error messages
}

const consoleTail = 40

// line consumes one console line (without its line end; a trailing \r from
// the serial line is dropped).
func (c *console) line(s string) {
	s = strings.TrimRight(s, "\r")
	if len(c.tail) == consoleTail {
		copy(c.tail, c.tail[1:])
		c.tail = c.tail[:consoleTail-1]
	}
	c.tail = append(c.tail, s)
	switch {
	case !c.began:
		if strings.Contains(s, MarkerBegin) {
			c.began = true
			c.beganAt = time.Now()
			return
		}
		c.write(c.boot, s)
	case !c.ended:
		if i := strings.Index(s, MarkerResult); i >= 0 {
			f := strings.Fields(s[i+len(MarkerResult):])
			if len(f) > 0 {
				if rc, err := strconv.Atoi(f[0]); err == nil {
					if before := s[:i]; before != "" { // output without a final newline
						c.payload.WriteString(before + "\n")
						c.write(c.out, before)
					}
					c.ended = true
					c.rc = rc
					return
				}
			}
		}
		c.payload.WriteString(s + "\n")
		c.write(c.out, s)
	default:
		c.write(c.boot, s)
	}
}

func (c *console) write(w io.Writer, s string) {
	if w != nil {
		io.WriteString(w, s+"\n")
	}
}

// lastLines returns the tail of the console for error messages.
func (c *console) lastLines() string {
	return strings.Join(c.tail, "\n")
}
