package setkey

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/ikectx/ikectx/pfkey"
)

// Kernel is what Run needs of a key socket; *pfkey.Conn has it.
type Kernel interface {
	Dialect() *pfkey.Dialect
	Do(ctx context.Context, req *pfkey.Message) (*pfkey.Message, error)
	DoMulti(ctx context.Context, req *pfkey.Message) iter.Seq2[*pfkey.Message, error]
}

// RunOptions controls Run.
type RunOptions struct {
	// Out receives dump and get output; nil discards it.
	Out io.Writer
	// Verbose, when set, receives one line per message sent and received
	// (type, object, length; never key bytes).
	Verbose io.Writer
	// Format prints dumps; nil uses a Formatter for the kernel's dialect.
	Format *Formatter
}

// Unwrap returns the errors of the refused statements.
func (e *RunError) Unwrap() []error {
	out := make([]error, len(e.Errs))
	for i, x := range e.Errs {
		out[i] = x
	}
	return out
}

// RunError lists the statements the kernel refused. Run goes on after a
// refused statement, as setkey does, and returns a *RunError at the end.
type RunError struct {
	Errs []*Error
}

func (e *RunError) Error() string {
	s := make([]string, len(e.Errs))
	for i, x := range e.Errs {
		s[i] = x.Error()
	}
	return strings.Join(s, "\n")
}

// Run builds the whole script for the kernel's dialect and, only if every
// statement builds, sends the messages in order. Kernel errors are reported
// with the place of the statement ("file:3:1: add: pfkey: SADB_ADD ...:
// file exists") and do not stop the script.
func Run(ctx context.Context, k Kernel, sc *Script, o RunOptions) error {
	d := k.Dialect()
	ops, err := Build(sc, d)
	if err != nil {
		return err
	}
	defer func() {
		for _, op := range ops {
			op.Msg.Wipe()
		}
	}()
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	f := o.Format
	if f == nil {
		f = &Formatter{Dialect: d}
	}
	var failed []*Error
	for _, op := range ops {
		if err := runOp(ctx, k, op, out, f, o.Verbose); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				e = &Error{Pos: op.Stmt.Position(), Msg: fmt.Sprintf("%s: %v", op.Stmt.Command(), err), Err: err}
			}
			failed = append(failed, e)
			if ctx.Err() != nil {
				break
			}
		}
	}
	if len(failed) > 0 {
		return &RunError{Errs: failed}
	}
	return nil
}

func verbose(w io.Writer, dir string, m *pfkey.Message, d *pfkey.Dialect) {
	if w == nil || m == nil {
		return
	}
	n := 0
	if b, err := d.Marshal(m); err == nil {
		n = len(b)
		clear(b)
	}
	what := pfkey.Describe(m)
	if what != "" {
		what = " " + what
	}
	if dir == ">>" {
		// The connection numbers the request when it sends it.
		fmt.Fprintf(w, "%s %v%s (%d bytes)\n", dir, m.Type, what, n)
		return
	}
	fmt.Fprintf(w, "%s %v%s (seq=%d pid=%d errno=%d, %d bytes)\n", dir, m.Type, what, m.Seq, m.PID, m.Errno, n)
}

// Bounds of one request when the caller's context has no deadline. A dump
// of thousands of entries under emulation takes seconds, so dumps get more.
const (
	RequestTimeout = 30 * time.Second
	DumpTimeout    = 10 * time.Minute
)

func bounded(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

func do(ctx context.Context, k Kernel, m *pfkey.Message) (*pfkey.Message, error) {
	ctx, cancel := bounded(ctx, RequestTimeout)
	defer cancel()
	return k.Do(ctx, m)
}

func runOp(ctx context.Context, k Kernel, op Op, out io.Writer, f *Formatter, vw io.Writer) error {
	d := k.Dialect()
	if op.Dump {
		var matches []*pfkey.Message
		n := 0
		verbose(vw, ">>", op.Msg, d)
		dctx, cancel := bounded(ctx, DumpTimeout)
		defer cancel()
		for m, err := range k.DoMulti(dctx, op.Msg) {
			if err != nil {
				return err
			}
			verbose(vw, "<<", m, d)
			n++
			switch {
			case op.DeleteAll:
				if m.Src != nil && m.Dst != nil && m.SA != nil &&
					m.Src.Addr.Addr().WithZone("") == op.Match[0] && m.Dst.Addr.Addr().WithZone("") == op.Match[1] {
					matches = append(matches, &pfkey.Message{Type: pfkey.MsgDelete, SAType: m.SAType,
						SA: &pfkey.SA{SPI: m.SA.SPI}, Src: m.Src, Dst: m.Dst})
				}
			case op.Msg.Type == pfkey.MsgXSPDDump:
				if err := f.FormatPolicy(out, m); err != nil {
					return err
				}
			default:
				if err := f.FormatSA(out, m); err != nil {
					return err
				}
			}
			m.Wipe()
		}
		if op.DeleteAll {
			for _, del := range matches {
				verbose(vw, ">>", del, d)
				r, err := do(ctx, k, del)
				if err != nil {
					return err
				}
				verbose(vw, "<<", r, d)
			}
			return nil
		}
		if n == 0 {
			if op.Msg.Type == pfkey.MsgXSPDDump {
				fmt.Fprintln(out, "No SPD entries.")
			} else {
				fmt.Fprintln(out, "No SAD entries.")
			}
		}
		return nil
	}
	verbose(vw, ">>", op.Msg, d)
	r, err := do(ctx, k, op.Msg)
	if err != nil {
		return err
	}
	verbose(vw, "<<", r, d)
	defer r.Wipe()
	if op.Msg.Type == pfkey.MsgGet {
		return f.FormatSA(out, r)
	}
	return nil
}

// DumpSAD prints the whole SAD (setkey -D) or, with satype, one protocol's.
func DumpSAD(ctx context.Context, k Kernel, st pfkey.SAType, out io.Writer, f *Formatter) error {
	if f == nil {
		f = &Formatter{Dialect: k.Dialect()}
	}
	return runOp(ctx, k, Op{Msg: &pfkey.Message{Type: pfkey.MsgDump, SAType: st}, Dump: true}, out, f, nil)
}

// DumpSPD prints the whole SPD (setkey -DP).
func DumpSPD(ctx context.Context, k Kernel, out io.Writer, f *Formatter) error {
	if f == nil {
		f = &Formatter{Dialect: k.Dialect()}
	}
	return runOp(ctx, k, Op{Msg: &pfkey.Message{Type: pfkey.MsgXSPDDump}, Dump: true}, out, f, nil)
}

// FlushSAD deletes every SA (setkey -F); FlushSPD every policy (setkey -FP).
func FlushSAD(ctx context.Context, k Kernel) error {
	_, err := do(ctx, k, &pfkey.Message{Type: pfkey.MsgFlush})
	return err
}

// FlushSPD deletes every policy (setkey -FP).
func FlushSPD(ctx context.Context, k Kernel) error {
	_, err := do(ctx, k, &pfkey.Message{Type: pfkey.MsgXSPDFlush})
	return err
}
