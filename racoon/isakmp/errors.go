package isakmp

import "fmt"

// Error describes a malformed message: the structure (payload type or
// "header"), the byte offset from the start of what was being decoded, and
// the reason.
type Error struct {
	Where  string
	Offset int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("isakmp: %s at offset %d: %s", e.Where, e.Offset, e.Msg)
}

func errf(where string, off int, format string, args ...any) *Error {
	return &Error{Where: where, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// shift moves the offset of an error found inside a nested structure.
func shift(err error, by int) error {
	if e, ok := err.(*Error); ok {
		c := *e
		c.Offset += by
		return &c
	}
	return err
}
