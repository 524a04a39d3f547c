#!/bin/sh
# provision.sh STATION MAC=IFNAME[,MAC=IFNAME]: prepares one FreeBSD station
# of the ikectx testbed (run by Vagrant as root, from the synced tree at
# /ikectx). Idempotent: `vagrant provision` runs it again.
#   - kernel: IPsec and SCTP modules (not compiled into GENERIC), sysctls
#   - the testbed links: NICs found by MAC, renamed as in the Linux testbed
#     (mn0, mn1, acc0, acc1, core0, core1, hap, han), IPv6 addresses,
#     routes and static neighbours
#   - the project's FreeBSD binaries (bin/freebsd/) in /usr/local/bin
#   - the station's configuration (vagrant/config/STATION/) in /var/ikectx
set -eu

ST=${1:?usage: provision.sh STATION MAC=IFNAME,...}
IFMAP=${2:-}
SRC=${IKECTX_SRC:-/ikectx}
# shellcheck source-path=SCRIPTDIR source=../config/all/net.sh
. "$SRC/vagrant/config/all/net.sh"

say() { echo "ikectx[$ST]: $*"; }

case $ST in
mn | par | nar | ha) ;;
*) echo "provision.sh: unknown station $ST (mn, par, nar, ha)" >&2; exit 2 ;;
esac

# --- kernel ------------------------------------------------------------
for m in ipsec sctp; do
	if ! kldstat -q -m "$m" 2>/dev/null && ! kldstat -q -n "$m.ko" 2>/dev/null; then
		kldload "$m" || { echo "provision.sh: kldload $m failed" >&2; exit 1; }
	fi
	sysrc -q kld_list+=" $m" >/dev/null
done
# no router advertisements, no duplicate address detection (the Linux lab
# adds every address with nodad), static neighbours on the access links
setsysctl() {
	sysctl "$1=$2" >/dev/null
	if grep -q "^$1=" /etc/sysctl.conf 2>/dev/null; then
		sed -i '' "s|^$1=.*|$1=$2|" /etc/sysctl.conf
	else
		echo "$1=$2" >>/etc/sysctl.conf
	fi
}
setsysctl net.inet6.ip6.accept_rtadv 0
setsysctl net.inet6.ip6.dad_count 0
case $ST in
mn) setsysctl net.inet6.ip6.forwarding 0 ;;
*) setsysctl net.inet6.ip6.forwarding 1 ;;
esac
sysrc -q rtsold_enable=NO >/dev/null

# --- links ---------------------------------------------------------------
# ifname_by_mac MAC: the interface that has MAC (empty if none)
ifname_by_mac() {
	for i in $(ifconfig -l); do
		if ifconfig "$i" 2>/dev/null | grep -qi "ether $1\$"; then
			echo "$i"
			return
		fi
	done
}
# Vagrant's first NIC is its own (NAT/management); if a provider did not
# take our MAC addresses, the testbed NICs are the next ones, in order.
ifname_by_position() {
	n=0
	for i in $(ifconfig -l ether 2>/dev/null || ifconfig -l); do
		case $i in lo* | pflog* | enc*) continue ;; esac
		if [ "$n" = "$1" ]; then
			echo "$i"
			return
		fi
		n=$((n + 1))
	done
}
pos=1
OLDIFS=$IFS
IFS=,
for pair in $IFMAP; do
	IFS=$OLDIFS
	mac=${pair%%=*}
	want=${pair#*=}
	if ifconfig "$want" >/dev/null 2>&1; then
		cur=$want
	else
		cur=$(ifname_by_mac "$mac")
		[ -n "$cur" ] || cur=$(ifname_by_position "$pos")
		[ -n "$cur" ] || { echo "provision.sh: no interface for $want ($mac)" >&2; exit 1; }
		say "interface $cur -> $want"
		ifconfig "$cur" name "$want" >/dev/null
		sysrc -q "ifconfig_${cur}_name=$want" >/dev/null
	fi
	ifconfig "$want" inet6 -ifdisabled -accept_rtadv no_dad auto_linklocal up
	pos=$((pos + 1))
	IFS=,
done
IFS=$OLDIFS

# addr IF ADDR: IF has ADDR/PLEN (now and after a reboot)
addr() {
	if ! ifconfig "$1" inet6 | grep -q "inet6 $2 "; then
		ifconfig "$1" inet6 "$2" prefixlen "$PLEN" no_dad alias
	fi
	sysrc -q "ifconfig_${1}_ipv6=inet6 $2 prefixlen $PLEN no_dad" >/dev/null
}
# route6 DEST GW: DEST (or default) via GW
route6() {
	route -6 -q change "$1" "$2" >/dev/null 2>&1 || route -6 -q add "$1" "$2" >/dev/null
}
case $ST in
mn)
	# attached to the pAR: mn0 carries the pCoA, mn1 is down
	addr mn0 "$PCOA"
	ndp -s "$PAR" "$PARMAC" >/dev/null 2>&1 || true
	ifconfig mn1 down
	route6 default "$PAR"
	;;
par)
	addr acc0 "$PAR"
	addr core0 "$PARCORE"
	ndp -s "$PCOA" "$MNMAC0" >/dev/null 2>&1 || true
	route6 default "$HACOREP"
	;;
nar)
	addr acc1 "$NAR"
	addr core1 "$NARCORE"
	ndp -s "$NCOA" "$MNMAC1" >/dev/null 2>&1 || true
	route6 default "$HACOREN"
	;;
ha)
	addr hap "$HACOREP"
	addr han "$HACOREN"
	if ! ifconfig lo0 inet6 | grep -q "inet6 $HA "; then
		ifconfig lo0 inet6 "$HA" prefixlen "$PLEN" alias
	fi
	route6 "$PARNET" "$PARCORE"
	route6 "$NARNET" "$NARCORE"
	;;
esac

# --- binaries and configuration -------------------------------------------
BIN="$SRC/bin/freebsd"
if [ ! -x "$BIN/setkey" ]; then
	echo "provision.sh: $BIN/setkey missing: run vagrant/build.sh (make freebsd-bin) on the host, then \`vagrant rsync && vagrant provision\`" >&2
	exit 1
fi
for b in "$BIN"/*; do
	install -m 0755 "$b" /usr/local/bin/
done
install -m 0755 "$SRC/vagrant/guest/tb.sh" /usr/local/sbin/ikectx-tb
install -d -m 0700 "$IKECTX_DIR"
install -m 0644 "$SRC/vagrant/config/all/net.sh" "$IKECTX_DIR/net.sh"
if [ -d "$SRC/vagrant/config/$ST" ]; then
	for f in "$SRC/vagrant/config/$ST"/*; do
		case $f in
		*/psk.txt) install -m 0600 -o root "$f" "$IKECTX_DIR/" ;;
		*) install -m 0644 "$f" "$IKECTX_DIR/" ;;
		esac
	done
fi
echo "$ST" >"$IKECTX_DIR/station"
set -- "$BIN"/*
say "ready ($(uname -r); ipsec and sctp loaded; $# binaries)"
