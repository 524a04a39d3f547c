package daemon

const udpEncapOpt = 100 // UDP_ENCAP (linux/udp.h)
