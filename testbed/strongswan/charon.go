package strongswan

import (
	"os/exec"
	"sync"
	"time"
)

// Charon is one charon running in a network namespace, its files in Dir.
type Charon struct {
	NS   string // the network namespace
	Dir  string // strongswan.conf, swanctl.conf, run/, charon.vici
	Vici string // the vici socket's path
	Pid  int    // charon's process id (in the initial PID namespace)

	// ReadyAfter is the time from starting charon to its vici socket
	// answering; LoadedAfter adds swanctl --load-all.
	ReadyAfter, LoadedAfter time.Duration

	cmd     *exec.Cmd
	done    chan struct{} // closed when charon has exited
	waitErr error
	out     *tailWriter
	madeDir bool
	stop    sync.Once
}

// Output returns the last few KB charon wrote (its log).
func (c *Charon) Output() string { return c.out.tail() }

// Events returns the IKE and CHILD SA events charon logged so far (see
// ExchangeTime).
func (c *Charon) Events() []Event { return c.out.eventList() }
