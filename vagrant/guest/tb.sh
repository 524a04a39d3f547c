#!/bin/sh
# ikectx-tb: the steps of one testbed run on one FreeBSD station, driven
# from the host by vagrant/table1.sh (as root: `sudo ikectx-tb CMD ...`).
# It mirrors testbed/scenario (the Linux driver) step by step.
set -eu

# shellcheck source-path=SCRIPTDIR source=../config/all/net.sh
. "${IKECTX_NET:-/var/ikectx/net.sh}"
D=$IKECTX_DIR
ST=$(cat "$D/station" 2>/dev/null || hostname -s)
SINK="[$HA]:$SINKPORT"

die() { echo "ikectx-tb[$ST]: $*" >&2; exit 1; }
now() { ikectx-vagrant now; }

# start NAME CMD...: run CMD in the background under daemon(8), pid in $D/NAME.pid
start() {
	name=$1
	shift
	daemon -f -p "$D/$name.pid" -o "$D/$name.out" "$@"
}
stop() {
	for name in "$@"; do
		if [ -f "$D/$name.pid" ]; then
			kill "$(cat "$D/$name.pid")" 2>/dev/null || true
			rm -f "$D/$name.pid"
		fi
	done
}
# waitfor SECONDS CMD...: poll CMD every 20 ms
waitfor() {
	limit=$1
	shift
	end=$(($(date +%s) + limit))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.02
	done
}
has_src() { grep -q "\"src\":\"$1\"" "$D/rx.jsonl"; }
stored() {
	n=$(cxtpd status -c "$D/cxtpd.toml" | awk '/^contexts stored/ {print $3}')
	[ "${n:-0}" -ge 1 ]
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
reset)
	# a fresh station: no daemons, empty SAD and SPD; the MN back on the pAR's link
	stop tcpdump udpgen-send udpgen-sink cxtpd ipsec-cxtpd racoon
	sleep 0.2
	setkey -F >/dev/null 2>&1 || true
	setkey -FP >/dev/null 2>&1 || true
	rm -f "$D"/*.sock "$D"/*.log "$D"/*.out "$D"/rx.jsonl "$D"/mn1.pcap "$D"/move.env
	for s in /tb-par /tb-nar; do posixshmcontrol rm "$s" 2>/dev/null || true; done
	if [ "$ST" = mn ]; then
		ifconfig mn1 inet6 "$NCOA" delete 2>/dev/null || true
		ifconfig mn1 down
		ifconfig mn0 up
		ifconfig mn0 inet6 | grep -q "inet6 $PCOA " || ifconfig mn0 inet6 "$PCOA" prefixlen "$PLEN" no_dad alias
		ndp -s "$PAR" "$PARMAC" >/dev/null 2>&1 || true
		route -6 -q change default "$PAR" >/dev/null 2>&1 || route -6 -q add default "$PAR" >/dev/null
	fi
	;;
setkey)
	setkey -f "$D/${1:?setkey FILE}"
	;;
racoon)
	mode=${1:?racoon main|aggressive}
	start racoon racoon -F -f "$D/racoon-$mode.conf" -l "$D/racoon.log"
	waitfor 60 test -S "$D/racoon.sock" || die "racoon never opened its admin socket"
	;;
cxtp)
	# ARs: the IPsec-CXTP module and cxtpd; MN: cxtpd (role mn)
	if [ "$ST" != mn ]; then
		start ipsec-cxtpd ipsec-cxtpd -c "$D/ipsec-cxtpd.toml"
	fi
	start cxtpd cxtpd -c "$D/cxtpd.toml"
	waitfor 30 cxtpd status -c "$D/cxtpd.toml" || die "cxtpd never answered"
	;;
sink)
	: >"$D/rx.jsonl"
	start udpgen-sink udpgen sink --listen "$SINK" --out "$D/rx.jsonl"
	;;
send)
	start udpgen-send udpgen send --to "$SINK" --interval 50ms
	;;
wait-src)
	# HA: a datagram from ADDR arrived (SECONDS, default 60)
	waitfor "${2:-60}" has_src "${1:?wait-src ADDR}" || die "no datagram from $1 reached the HA"
	;;
handover-request)
	# naming the nCoA: the MN's cxtpd prepares the MN's own move now
	cxtpd handover -c "$D/cxtpd.toml" "$NAR" "$NCOA"
	;;
wait-stored)
	waitfor 30 stored || die "the nAR never stored the MN's context"
	;;
capture)
	# MN: the nAR-side interface from before the link comes up
	start tcpdump tcpdump -n -U -s 0 -i mn1 -w "$D/mn1.pcap"
	sleep 0.5
	;;
move)
	# MN: the handover (mn0 down with its pCoA, mn1 up with the nCoA, default
	# route to the nAR), then the scenario's first step on the new link
	sc=${1:?move SCENARIO}
	leave=$(now)
	ifconfig mn0 inet6 "$PCOA" delete
	ifconfig mn0 down
	ifconfig mn1 up
	ifconfig mn1 inet6 "$NCOA" prefixlen "$PLEN" no_dad alias
	ndp -s "$NAR" "$NARMAC" >/dev/null 2>&1 || true
	route -6 -q change default "$NAR" >/dev/null 2>&1 || route -6 -q add default "$NAR" >/dev/null
	attach=$(now)
	case $sc in
	cxtp-*)
		# the CTAR first; the MN's cxtpd (move_ipsec) moves the MN's
		# SAD/SPD: prepared before (predictive) or meanwhile (reactive),
		# its outbound SAs added on the CTAA
		cxtpd attach -c "$D/cxtpd.toml" "$NAR" "$NCOA" >/dev/null
		;;
	*)
		setkey -f "$D/mn-nar.setkey" >/dev/null
		;;
	esac
	printf 'leave_ns=%s\nattach_ns=%s\n' "$leave" "$attach" | tee "$D/move.env"
	;;
finish)
	# stop traffic and capture; leave the files readable for scp
	stop udpgen-send tcpdump udpgen-sink
	sleep 0.3
	for f in mn1.pcap rx.jsonl move.env racoon.log cxtpd.log ipsec-cxtpd.out racoon.out cxtpd.out; do
		[ -f "$D/$f" ] && install -m 0644 "$D/$f" "/tmp/ikectx-$f"
	done
	true
	;;
*)
	echo "usage: ikectx-tb reset|setkey FILE|racoon MODE|cxtp|sink|send|wait-src ADDR [S]|handover-request|wait-stored|capture|move SCENARIO|finish" >&2
	exit 2
	;;
esac
