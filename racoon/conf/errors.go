package conf

import (
	"fmt"
	"strings"
)

// Error is a refusal of the configuration: where (file:line:col), why, and
// the chain of include statements that led to the file.
type Error struct {
	Pos      Pos
	Msg      string
	Included []Pos // the include statements, innermost first
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	b.WriteString(e.Msg)
	for _, p := range e.Included {
		fmt.Fprintf(&b, " (included from %s)", p)
	}
	return b.String()
}

// bailout carries an *Error up the recursive descent; Parse recovers it.
type bailout struct{ err *Error }
