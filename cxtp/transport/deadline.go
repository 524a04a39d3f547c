package transport

import (
	"context"
	"errors"
	"net"
	"os"
	"time"
)

// withContext runs one blocking read bounded by ctx: the context's
// deadline becomes the read deadline and cancelling ctx interrupts the
// read. Only one read may use a socket's deadline at a time.
func withContext(ctx context.Context, setDeadline func(time.Time) error, read func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, hasDeadline := ctx.Deadline() // zero: no deadline
	if err := setDeadline(d); err != nil {
		return mapClosed(err)
	}
	stop := context.AfterFunc(ctx, func() { setDeadline(time.Unix(1, 0)) })
	err := read()
	stop()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		// The socket deadline may fire a moment before the context's
		// own timer.
		if hasDeadline && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(d) {
			return context.DeadlineExceeded
		}
		return mapClosed(err)
	}
	return nil
}

func mapClosed(err error) error {
	if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
		return ErrClosed
	}
	return err
}
