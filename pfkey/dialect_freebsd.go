package pfkey

// Native is the dialect of the running system.
var Native = FreeBSD
