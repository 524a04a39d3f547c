//go:build !linux && !freebsd

package pfkey

// Native is the dialect of the running system. Systems other than Linux and
// FreeBSD have no key socket here; the codec still works with Linux's
// dialect.
var Native = Linux
