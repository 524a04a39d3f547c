#!/bin/sh
# table1.sh [RUNS] [SCENARIOS]: the paper's Table 1 on the four FreeBSD VMs.
# Run on the host, from anywhere, after `vagrant up` in vagrant/. RUNS per
# scenario (5); SCENARIOS a comma list of ikev1-main, ikev1-aggressive,
# cxtp-predictive, cxtp-reactive (all). Every run starts from fresh daemons
# and an empty SAD/SPD, brings the MN-pAR tunnel up with traffic, moves the
# MN to the nAR's link, and fetches the MN's capture and the HA's sink log
# into OUT/SCENARIO-N/ (OUT: out/vagrant); the table is then computed by
# `ikectx-vagrant report` with the Linux testbed's report code.
# Environment: OUT, BEFORE (1.5 s of traffic before the move), AFTER (1 s).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
RUNS=${1:-5}
SCENARIOS=${2:-ikev1-main,ikev1-aggressive,cxtp-predictive,cxtp-reactive}
OUT=${OUT:-$root/out/vagrant}
BEFORE=${BEFORE:-1.5}
AFTER=${AFTER:-1}
# shellcheck source-path=SCRIPTDIR source=config/all/net.sh
. "$here/config/all/net.sh"

case $RUNS in '' | *[!0-9]*) echo "table1.sh: RUNS must be a number" >&2; exit 2 ;; esac

# One ssh configuration for the four VMs: plain ssh is much faster than
# `vagrant ssh -c` (no Ruby start-up per step), which matters between the
# steps of a run.
cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT INT TERM
(
	cd "$here"
	for st in mn par nar ha; do
		vagrant ssh-config "$st"
	done
) >"$cfg" || { echo "table1.sh: vagrant ssh-config failed: are the VMs up (cd vagrant && vagrant up)?" >&2; exit 1; }

# g STATION ARGS...: one step on a station
g() {
	st=$1
	shift
	ssh -F "$cfg" -o LogLevel=ERROR "$st" sudo ikectx-tb "$@"
}
fetch() {
	scp -q -F "$cfg" -o LogLevel=ERROR "$1:/tmp/ikectx-$2" "$3/$2" 2>/dev/null || true
}

run_once() {
	sc=$1
	dir=$OUT/$sc-$2
	rm -rf "$dir"
	mkdir -p "$dir"
	for st in mn par nar ha; do g "$st" reset || return 1; done
	g mn setkey mn-par.setkey || return 1
	g par setkey par.setkey || return 1
	case $sc in
	cxtp-*)
		g nar setkey nar-ct.setkey || return 1
		g par setkey par-arar.setkey || return 1
		;;
	*) g nar setkey nar.setkey || return 1 ;;
	esac
	mode=main
	[ "$sc" = ikev1-aggressive ] && mode=aggressive
	for st in mn par nar; do g "$st" racoon "$mode" || return 1; done
	case $sc in
	cxtp-*) for st in par nar mn; do g "$st" cxtp || return 1; done ;;
	esac
	g ha sink || return 1
	sleep 0.1
	g mn send || return 1
	# attached to the pAR: the first datagram's ACQUIRE brings the tunnel up
	g ha wait-src "$PCOA" 90 || return 1
	sleep "$BEFORE"
	if [ "$sc" = cxtp-predictive ]; then
		g mn handover-request || return 1
		g nar wait-stored || return 1
	fi
	g mn capture || return 1
	g mn move "$sc" >"$dir/move.env" || return 1
	g ha wait-src "$NCOA" 60 || return 1
	sleep "$AFTER"
}

collect() {
	dir=$OUT/$1-$2
	for st in mn par nar ha; do g "$st" finish || true; done
	fetch mn mn1.pcap "$dir"
	fetch ha rx.jsonl "$dir"
	for st in mn par nar; do
		mkdir -p "$dir/logs/$st"
		for f in racoon.log cxtpd.log ipsec-cxtpd.out racoon.out cxtpd.out; do
			fetch "$st" "$f" "$dir/logs/$st"
		done
	done
}

mkdir -p "$OUT"
OLDIFS=$IFS
IFS=,
# shellcheck disable=SC2086 # split on commas
set -- $SCENARIOS
IFS=$OLDIFS
for sc in "$@"; do
	case $sc in
	ikev1-main | ikev1-aggressive | cxtp-predictive | cxtp-reactive) ;;
	*) echo "table1.sh: unknown scenario $sc" >&2; exit 2 ;;
	esac
	n=1
	while [ "$n" -le "$RUNS" ]; do
		if run_once "$sc" "$n"; then
			collect "$sc" "$n"
			echo "$sc run $n/$RUNS: done"
		else
			collect "$sc" "$n"
			echo "run failed (see logs/)" >"$OUT/$sc-$n/error.txt"
			echo "$sc run $n/$RUNS: FAILED (logs in $OUT/$sc-$n/logs)"
		fi
		n=$((n + 1))
	done
done
for st in mn par nar ha; do g "$st" reset || true; done

cd "$root"
if [ -x "$root/bin/ikectx-vagrant" ]; then
	"$root/bin/ikectx-vagrant" report --in "$OUT"
else
	go run ./vagrant/ikectx-vagrant report --in "$OUT"
fi
