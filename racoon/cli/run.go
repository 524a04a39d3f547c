package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/ikectx/ikectx/racoon/conf"
	"github.com/ikectx/ikectx/racoon/daemon"
)

// runDaemon runs the IKE daemon. Without -F it starts itself again in the
// background (a new session, output to the -l file or discarded) and
// returns, as racoon's daemon(3).
func runDaemon(o *Options, stderr io.Writer) int {
	c, err := conf.ParseFile(o.ConfigFile)
	if err != nil {
		fmt.Fprintf(stderr, "racoon: ERROR: %v\n", err)
		return 1
	}
	if !o.Foreground && os.Getenv("IKECTX_RACOON_CHILD") == "" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "racoon: ERROR: %v\n", err)
			return 1
		}
		cmd := exec.Command(exe, os.Args[1:]...)
		cmd.Env = append(os.Environ(), "IKECTX_RACOON_CHILD=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			fmt.Fprintf(stderr, "racoon: ERROR: %v\n", err)
			return 1
		}
		return 0
	}
	var logw io.Writer = stderr
	if o.LogFile != "" {
		f, err := os.OpenFile(o.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0600)
		if err != nil {
			fmt.Fprintf(stderr, "racoon: ERROR: %v\n", err)
			return 1
		}
		defer f.Close()
		logw = f
	}
	d, err := daemon.New(daemon.Options{ConfigFile: o.ConfigFile, Config: c, NoKernel: o.NoKernel, PolicyFile: o.PolicyFile,
		Port: o.Port, NATTPort: o.NATTPort, Family: o.Family, AdminSock: o.AdminSock, Log: logw, Debug: o.Debug})
	if err != nil {
		fmt.Fprintf(stderr, "racoon: ERROR: %v\n", err)
		return 1
	}
	if p := c.Path(conf.PathPIDFile); p != "" {
		os.WriteFile(p, []byte(strconv.Itoa(os.Getpid())+"\n"), 0644)
		defer os.Remove(p)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := d.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "racoon: ERROR: %v\n", err)
		return 1
	}
	return 0
}
