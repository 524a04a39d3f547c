package daemon

const udpEncapOpt = 1 // UDP_ENCAP (netinet/udp.h)
