// Package charontest runs strongSwan's charon (kernel-libipsec, vici) in a
// network namespace for the interop tests of racoon/daemon and
// ikev2/daemon. It is test support: only _test.go files import it. The
// runner itself is Linux-only (network namespaces, bind mounts); on other
// systems the package is empty.
package charontest
