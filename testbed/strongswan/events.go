package strongswan

import (
	"strconv"
	"strings"
	"time"
)

// Event is one line of charon's log about an IKE or CHILD SA's life
// (initiating, established, deleting, closing), with charon's own
// timestamp (millisecond resolution; the time the line arrived if it has
// none).
type Event struct {
	At   time.Time
	Line string // the log line without the timestamp
}

// eventWords mark the log lines kept as Events (charon's IKE group, level
// 0-1).
var eventWords = []string{" established ", "deleting IKE_SA", "closing CHILD_SA", "deleting CHILD_SA"}

// isEvent reports whether a log line is an Event.
func isEvent(line string) bool {
	if isInitiation(line) {
		return true
	}
	for _, w := range eventWords {
		if strings.Contains(line, w) {
			return true
		}
	}
	return false
}

// isInitiation reports whether a log line starts an IKE SA: charon
// initiating ("initiating IKE_SA", IKEv1 "initiating Main Mode IKE_SA" or
// "initiating Aggressive Mode IKE_SA") or a peer initiating towards it
// ("is initiating an IKE_SA", IKEv1 "is initiating a Main Mode IKE_SA").
func isInitiation(line string) bool {
	i := strings.Index(line, "initiating ")
	return i >= 0 && strings.Contains(line[i:], "IKE_SA")
}

// parseLogTime splits the "SECONDS.MMM " prefix that Conf's time_format
// ("%s") and time_add_ms give each line off the line.
func parseLogTime(line string) (time.Time, string, bool) {
	stamp, rest, ok := strings.Cut(line, " ")
	if !ok {
		return time.Time{}, line, false
	}
	sec, frac, ok := strings.Cut(stamp, ".")
	if !ok || len(frac) != 3 {
		return time.Time{}, line, false
	}
	s, err1 := strconv.ParseInt(sec, 10, 64)
	m, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || s <= 0 {
		return time.Time{}, line, false
	}
	return time.Unix(s, m*int64(time.Millisecond)), rest, true
}

// ExchangeTime is the time from the first IKE_SA initiation in events at
// or after since (charon initiating, or a peer initiating towards charon)
// to the first CHILD_SA established after it: IKE_SA_INIT + IKE_AUTH with
// its child (IKEv1: phase 1 and quick mode), as charon saw it. ok is false if either is missing.
func ExchangeTime(events []Event, since time.Time) (d time.Duration, ok bool) {
	var start time.Time
	for _, e := range events {
		if e.At.Before(since.Truncate(time.Millisecond)) {
			continue
		}
		if start.IsZero() {
			if isInitiation(e.Line) {
				start = e.At
			}
			continue
		}
		if strings.Contains(e.Line, "CHILD_SA") && strings.Contains(e.Line, " established ") {
			return e.At.Sub(start), true
		}
	}
	return 0, false
}
