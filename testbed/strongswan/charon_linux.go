package strongswan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// ipBinary is iproute2's ip (in the lab /sbin/ip; busybox's applet has no
// netns).
func ipBinary() (string, error) {
	if exists("/sbin/ip") || isLink("/sbin/ip") {
		return "/sbin/ip", nil
	}
	p, err := exec.LookPath("ip")
	if err != nil {
		return "", errors.New("strongswan: iproute2's ip is not installed")
	}
	return p, nil
}

func isLink(p string) bool {
	st, err := os.Lstat(p)
	return err == nil && st.Mode()&os.ModeSymlink != 0
}

// Available returns nil when charon, swanctl, the plugins charon cannot do
// without and iproute2's ip are installed on this system (in the lab: when
// the image was built with LabFiles).
func Available() error {
	if err := hostAvailable(); err != nil {
		return err
	}
	_, err := ipBinary()
	return err
}

// Start runs charon in network namespace ns (which must exist) with its
// own strongswan.conf (Conf) under dir (created if missing), a private
// /run (dir/run bind-mounted over /run in charon's mount namespace, for
// charon's fixed /var/run/charon.pid) and its vici socket at
// dir/charon.vici. It writes swanctlConf to dir/swanctl.conf, waits until
// vici answers, loads it with swanctl --load-all and returns. charon's
// output (its log, IKE at level 1) goes to log (nil: discarded). ctx
// bounds the start only; Stop ends charon. On failure charon is stopped
// and the error quotes its last output.
func Start(ctx context.Context, ns, dir, swanctlConf string, log io.Writer) (*Charon, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	ip, _ := ipBinary()
	if ns == "" {
		return nil, errors.New("strongswan: no network namespace given")
	}
	c := &Charon{NS: ns, Dir: dir, Vici: viciPath(dir), done: make(chan struct{}), out: &tailWriter{w: log}}
	if len(c.Vici) > 100 { // sun_path holds 108 bytes
		return nil, fmt.Errorf("strongswan: the vici socket path %s is too long for a unix socket; use a shorter dir", c.Vici)
	}
	if _, err := os.Stat(c.Vici); err == nil {
		return nil, fmt.Errorf("strongswan: %s exists: is another charon using %s?", c.Vici, dir)
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		c.madeDir = true
	}
	// From here on Stop removes what Start made.
	conf := Conf(dir, installedPlugins(Plugins), installedPlugins(SwanctlPlugins))
	for _, w := range []func() error{
		func() error { return os.MkdirAll(runDir(dir), 0o755) },
		func() error { return os.WriteFile(confPath(dir), []byte(conf), 0o644) },
		// It holds the PSKs: readable by root only; Stop removes it.
		func() error { return os.WriteFile(swanctlPath(dir), []byte(swanctlConf), 0o600) },
	} {
		if err := w(); err != nil {
			c.Stop()
			return nil, fmt.Errorf("strongswan: %w", err)
		}
	}
	// ip netns exec gives the command its own mount namespace (slave to
	// the initial one): the bind mount stays charon's.
	c.cmd = exec.Command(ip, "netns", "exec", ns, "/bin/sh", "-c", `mount -o bind "$1" /run && exec "$2"`, "sh", runDir(dir), CharonBin)
	c.cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+confPath(dir))
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	t0 := time.Now()
	if err := c.cmd.Start(); err != nil {
		c.cmd = nil
		c.Stop()
		return nil, fmt.Errorf("strongswan: starting charon in %s: %w", ns, err)
	}
	c.Pid = c.cmd.Process.Pid
	go func() { c.waitErr = c.cmd.Wait(); close(c.done) }()
	fail := func(err error) (*Charon, error) {
		c.Stop()
		return nil, fmt.Errorf("strongswan: charon in %s: %w; its last output:\n%s", ns, err, c.out.tail())
	}
	for {
		conn, err := net.Dial("unix", c.Vici)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case <-c.done:
			return fail(fmt.Errorf("exited before its vici socket answered (%v)", c.waitErr))
		case <-ctx.Done():
			return fail(fmt.Errorf("vici socket %s not answering: %w", c.Vici, ctx.Err()))
		case <-time.After(5 * time.Millisecond):
		}
	}
	c.ReadyAfter = time.Since(t0)
	if out, err := c.Swanctl("--load-all", "--file", swanctlPath(dir)); err != nil {
		return fail(fmt.Errorf("swanctl --load-all: %v\n%s", err, out))
	}
	c.LoadedAfter = time.Since(t0)
	return c, nil
}

// Swanctl runs swanctl against c's vici socket: args[0] is the command
// (e.g. "--initiate", "--list-sas"), the rest its options; --uri is
// inserted after the command. It returns swanctl's combined output. The
// vici socket is a file, so swanctl runs outside the namespace.
func (c *Charon) Swanctl(args ...string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("strongswan: swanctl needs a command")
	}
	full := append([]string{args[0], "--uri", "unix://" + c.Vici}, args[1:]...)
	cmd := exec.Command(SwanctlBin, full...)
	cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+confPath(c.Dir))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("strongswan: swanctl %s for charon in %s: %w", args[0], c.NS, err)
	}
	return string(out), nil
}

// Stop ends charon (SIGTERM, SIGKILL after 5 s; charon deletes the SAs and
// policies it installed when it shuts down cleanly) and removes the files
// Start wrote (the whole dir if Start created it). It can be called more
// than once.
func (c *Charon) Stop() {
	c.stop.Do(func() {
		if c.cmd != nil && c.cmd.Process != nil {
			c.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-c.done:
			case <-time.After(5 * time.Second):
				c.cmd.Process.Kill()
				<-c.done
			}
		}
		if c.madeDir {
			os.RemoveAll(c.Dir)
			return
		}
		for _, p := range []string{confPath(c.Dir), swanctlPath(c.Dir), c.Vici} {
			os.Remove(p)
		}
		os.RemoveAll(runDir(c.Dir))
	})
}

// Initiate makes charon initiate IKE SA ike with child child (swanctl
// --initiate, waiting up to timeout) and returns the IKE_SA_INIT +
// IKE_AUTH time as charon logged it (ExchangeTime), which leaves out
// swanctl's own start (a second or more under emulation).
func (c *Charon) Initiate(ike, child string, timeout time.Duration) (time.Duration, error) {
	t0 := time.Now()
	out, err := c.Swanctl("--initiate", "--ike", ike, "--child", child, "--timeout", fmt.Sprint(int(timeout.Seconds()+0.999)))
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, out)
	}
	// charon's log lines may still be on their way through the pipe.
	d, ok := ExchangeTime(c.Events(), t0)
	for end := time.Now().Add(3 * time.Second); !ok && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
		d, ok = ExchangeTime(c.Events(), t0)
	}
	if !ok {
		return time.Since(t0), fmt.Errorf("strongswan: charon in %s: swanctl --initiate succeeded but the log shows no initiation and CHILD_SA establishment", c.NS)
	}
	return d, nil
}
