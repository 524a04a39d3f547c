package shm

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Multi-process tests re-execute the test binary: SHM_TEST_CHILD selects
// the child's role, SHM_TEST_NAME the segment, and the child talks to the
// parent through stdout lines.

const envChild = "SHM_TEST_CHILD"

func TestMain(m *testing.M) {
	if role := os.Getenv(envChild); role != "" {
		if err := runChild(role); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func envInt(k string) int {
	n, _ := strconv.Atoi(os.Getenv(k))
	return n
}

func envOpts() *Options {
	o := &Options{Slots: envInt("SHM_TEST_SLOTS"), MaxData: envInt("SHM_TEST_MAXDATA")}
	if envInt("SHM_TEST_NORESCAN") == 1 {
		o.Rescan = -1
	}
	return o
}

// resultFor and requestFor are the deterministic contents the tests check
// byte for byte: size and bytes depend on the tag.
func payload(tag uint64, salt byte, max int) []byte {
	n := max/2 + int(tag%uint64(max/2+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(tag>>(8*(i%8))) ^ byte(i*7) ^ salt
	}
	return b
}

func runChild(role string) error {
	name := os.Getenv("SHM_TEST_NAME")
	out := os.Stdout
	if k := envInt("SHM_TEST_TEAR"); k > 0 {
		// Die in the middle of the k-th write: scribble over the second
		// half of the uncommitted copy, say so, and wait to be killed.
		n := 0
		testHookBeforePublish = func(area []byte) {
			if n++; n < k {
				return
			}
			for i := len(area) / 2; i < len(area); i++ {
				area[i] = 0xff
			}
			fmt.Fprintln(out, "T 0 tearing")
			select {}
		}
	}
	switch role {
	case "worker", "echo":
		// A context module: performs every request; "worker" answers
		// with a big payload derived from the tag, "echo" with nothing.
		seg, err := Open(name, RoleContext, envOpts())
		if err != nil {
			return err
		}
		ch, err := seg.Events(context.Background())
		if err != nil {
			return err
		}
		for seg.Stats().Scans == 0 {
			time.Sleep(time.Millisecond) // until the initial scan is done
		}
		fmt.Fprintf(out, "ready %d %d\n", os.Getpid(), seg.Stats().Recovered)
		stop := envInt("SHM_TEST_COUNT")
		done := 0
		for ev := range ch {
			if ev.Err != nil {
				return ev.Err
			}
			req, err := seg.Accept(ev.Slot)
			if err != nil {
				return err
			}
			if role == "worker" && !bytes.Equal(req.Data, payload(req.Tag, 0x11, seg.Geometry().MaxData)) {
				return fmt.Errorf("slot %d: request %d carries wrong data", ev.Slot, req.Tag)
			}
			var data []byte
			if role == "worker" {
				data = payload(req.Tag, 0x5c, seg.Geometry().MaxData)
			}
			if err := seg.Complete(ev.Slot, StatusOK, data); err != nil {
				return err
			}
			done++
			if stop > 0 && done == stop {
				st := seg.Stats()
				fmt.Fprintf(out, "stats %d %d %d\n", st.Signals, st.Scans, st.Events)
				return seg.Close()
			}
		}
		return nil
	case "poster":
		// A CXTP module that never stops writing big requests: it posts
		// until the table is full, then cancels one and posts again. It
		// reports "P tag slot" after each post returned and "C tag"
		// before each cancel.
		seg, err := Open(name, RoleCXTP, envOpts())
		if err != nil {
			return err
		}
		st := seg.Stats()
		fmt.Fprintf(out, "ready %d %d\n", os.Getpid(), st.Recovered)
		if envInt("SHM_TEST_RECOVERONLY") == 1 {
			return seg.Close()
		}
		tag := uint64(envInt("SHM_TEST_TAG"))
		max := seg.Geometry().MaxData
		bySlot := map[SlotID]uint64{}
		for victim := 0; ; victim++ {
			id, err := seg.Post(Request{Op: OpPreinstall, FPT: 0xfff1, Tag: tag, Data: payload(tag, 0xa3, max)})
			if err == nil {
				fmt.Fprintf(out, "P %d %d\n", tag, id)
				bySlot[id] = tag
				tag++
				continue
			}
			// Full: cancel some slot's request.
			v := SlotID(victim % seg.Geometry().Slots)
			si, _ := seg.Slot(v)
			if si.State != StateRequest || si.Rec == nil {
				continue
			}
			fmt.Fprintf(out, "C %d\n", si.Rec.Tag)
			if err := seg.Release(v); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("unknown child role %q", role)
}

type child struct {
	cmd   *exec.Cmd
	lines chan string
	pid   int
}

func startChild(t testing.TB, role, name string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+role, "SHM_TEST_NAME="+name)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		stdout.Close()
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 1<<16), pid: cmd.Process.Pid}
	go func() {
		defer stdout.Close()
		r := bufio.NewReader(stdout)
		for {
			l, err := r.ReadString('\n')
			if l != "" && strings.HasSuffix(l, "\n") {
				c.lines <- strings.TrimSuffix(l, "\n")
			}
			if err != nil {
				if err != io.EOF {
					t.Log(err)
				}
				close(c.lines)
				return
			}
		}
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	})
	return c
}

// line waits for the child's next line (the deadline only keeps a broken
// test from hanging).
func (c *child) line(t testing.TB) string {
	t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			t.Fatalf("child %d: output ended", c.pid)
		}
		return l
	case <-time.After(60 * time.Second):
		t.Fatalf("child %d: no output", c.pid)
	}
	return ""
}

// kill sends SIGKILL and reaps the child, so that kill(pid, 0) reports it
// gone (a zombie still exists).
func (c *child) kill(t testing.TB) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
}
