package setkey

import "fmt"

// Pos is a place in a script: file name, 1-based line and 1-based byte column.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	f := p.File
	if f == "" {
		f = "-"
	}
	return fmt.Sprintf("%s:%d:%d", f, p.Line, p.Col)
}

// Error is a problem found in a script. It prints as "file:line:col: message".
type Error struct {
	Pos Pos
	Msg string
	// Err is the underlying cause, if any (a *pfkey.Error for statements
	// the kernel refused, so errors.Is(err, unix.EEXIST) works).
	Err error
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func errorf(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}
