package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"
)

// The control socket (SIGUSR1/SIGUSR2 belong to the shm channel): an
// AF_UNIX stream socket, mode 0600. A client sends one line of
// space-separated words and reads the answer until EOF. The answer's first
// line is "ok" or "error: <reason>"; the rest is the command's output.
//
//	status                   counters (engine, transports, shm)
//	trigger MN NAR           AR: predictive transfer of MN's context to NAR
//	cancel MN                AR: CTC to the nAR of MN's last transfer
//	state MN                 AR: nAR-side state of MN's context
//	handover NAR             MN: ask the current AR to transfer to NAR
//	attach NAR NEWADDR       MN: CTAR to NAR after moving to NEWADDR

// CommandFunc runs one control command and returns its output.
type CommandFunc func(ctx context.Context, args []string) (string, error)

// controlServer serves the control socket.
type controlServer struct {
	ln  net.Listener
	run CommandFunc
	log *slog.Logger
}

func listenControl(path string, run CommandFunc, log *slog.Logger) (*controlServer, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		// A stale socket of a previous run: refuse if someone answers.
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: another cxtpd is serving it", path)
		}
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	s := &controlServer{ln: ln, run: run, log: log}
	go s.serve()
	return s, nil
}

func (s *controlServer) Close() error {
	path := s.ln.Addr().String()
	err := s.ln.Close()
	os.Remove(path)
	return err
}

func (s *controlServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.handle(c)
	}
}

func (s *controlServer) handle(c net.Conn) {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(io.LimitReader(c, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return
	}
	args := strings.Fields(line)
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if len(args) == 0 {
		io.WriteString(c, "error: empty command\n")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Second)
	defer cancel()
	out, err := s.run(ctx, args)
	if err != nil {
		fmt.Fprintf(c, "error: %v\n%s", err, out)
		return
	}
	fmt.Fprintf(c, "ok\n%s", out)
}

// Control sends one command to a running cxtpd and returns its output
// (without the status line); an "error:" answer becomes an error.
func Control(path string, args ...string) (string, error) {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("cxtpd control %s: %w (is cxtpd running?)", path, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(70 * time.Second))
	if _, err := io.WriteString(c, strings.Join(args, " ")+"\n"); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return "", err
	}
	first, rest, _ := strings.Cut(string(b), "\n")
	if first == "ok" {
		return rest, nil
	}
	if r, ok := strings.CutPrefix(first, "error: "); ok {
		return rest, errors.New(r)
	}
	return "", fmt.Errorf("cxtpd control %s: bad answer %q", path, first)
}
