// Package scenario is the testbed's driver inside the kernel lab (or on a
// host whose kernel has PF_KEY and ESP): it builds the paper's four
// stations (package topo) as network namespaces, attaches the MN to the
// pAR with its ESP tunnel up (ikectx racoon on the MN and the ARs, UDP from
// udpgen flowing MN -> HA), hands the MN over to the nAR and measures the
// security set-up: the delay from the attachment with the nCoA to the first
// UDP datagram from the nCoA at the HA, the datagrams lost, and a capture of
// the MN's nAR-side interface (AF_PACKET through gopacket/pcapgo).
//
// cmd/testbed-guest runs it and prints, on its standard output (the lab's
// console), one line per event, the host side (cmd/testbed table1) parses:
//
//	@@PROGRESS text                     a progress line per run
//	@@RUN {json}                        one report.Run (records included)
//	@@NOTRUN scenario reason            a scenario that cannot run here
//	@@PCAP name                         then base64 lines of the pcap file,
//	@@ENDPCAP                           ended by this marker
//
// # What each scenario does after the handover
//
//   - ikev1-main, ikev1-aggressive: the MN's SPD is rewritten to the nCoA
//     and the nAR (setkey, as the paper's MN did automatically); the next
//     UDP datagram raises an ACQUIRE in the MN's kernel and the MN's racoon
//     runs a full phase 1 (main or aggressive mode) + quick mode with the
//     nAR's racoon, which had the MN's policies for its nCoA configured.
//
//   - cxtp-predictive, cxtp-reactive: cxtpd and ipsec-cxtpd on the MN and
//     the ARs move the MN's context (SAs, policies, racoon's phase 1) from
//     the pAR to the nAR; the MN rewrites its SAD/SPD and sends the CTAR.
//     Once traffic is back (and outside the run's capture), the nAR's
//     racoon starts a quick mode to the MN (establish-sa esp for its
//     outbound policy to the nCoA) on the phase 1 imported from the pAR:
//     the run records whether new ESP SAs appeared in both kernels, the
//     MN's and the nAR's racoon still hold only the pAR's phase 1, and
//     MN-HA datagrams cross the new SAs (rekey_ok, rekey_ms, and the IKE
//     frames of a capture of its own: 3 for a quick mode).
//
//   - ikev2-iked, ikev2-charon, ikev2-ct, ikev2-ct-collision (ikev2_linux.go,
//     ikev2_charon_linux.go): the same stations with an IKEv2 daemon
//     instead of racoon (iked with PF_KEY; charon with kernel-netlink for
//     ikev2-charon), the MN's tunnel through the pAR brought up by it. The
//     full exchanges: the MN's SPD moves to the nCoA and its iked
//     initiates towards the nAR (charon: its trapped child negotiates on
//     the next datagram's ACQUIRE). The context transfers: predictive,
//     with the IKEv2 FPT (iked export-peer on the pAR, import on the nAR);
//     the MN sends the CTAR without touching its SAD/SPD and the nAR's iked
//     moves the tunnel with MOBIKE (UPDATE_SA_ADDRESSES to the nCoA). The
//     collision row adds MN2 on the nAR (topo.NSMN2) whose IKE and ESP SPIs
//     the nAR's iked sets, by UPDATE_SPI, to the transferred ones before the
//     handover; the run records Algorithm 1's outcome (ipsec-cxtpd's
//     status), the SPIs changed, MN2's flow and the nAR's SAD (dump, no
//     keys) in report.IKEv2Run.
//
// # Counting
//
// Lost datagrams are the sequence numbers missing between the last one
// from the pCoA and the first from the nCoA whose (scheduled) send time is
// at or after the attachment: lost to security set-up. Those scheduled
// before it are lost to the link change itself (the paper's alpha) and
// reported apart. Frames are counted on the MN's nAR-side interface from
// the attachment on, as whole Ethernet frames (package report).
package scenario
