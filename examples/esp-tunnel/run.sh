#!/bin/sh
# An IPv6 ESP tunnel between two network namespaces, configured only with
# `setkey -f` (left.setkey, right.setkey). Runs as root inside the kernel lab
# VM (`make demo`), or on any Linux host whose kernel has PF_KEY and ESP.
#
#   ns left                                              ns right
#   2001:db8:a::1 (lo)                                   2001:db8:b::1 (lo)
#        vl 2001:db8:ff::1 ====== veth / ESP ====== 2001:db8:ff::2 vr
#
# It pings, sends UDP (traceroute6 probes) and TCP (busybox nc) from 2001:db8:a::1 to 2001:db8:b::1, shows
# `setkey -D` / `setkey -DP` and `ip -s xfrm state` in each namespace, and
# checks that every SA's byte counter rose. The last line is
# "ESP tunnel: OK" or "ESP tunnel: FAILED"; the exit status matches.
set -u

IP=/sbin/ip                      # iproute2 (busybox sh would run its own ip applet)
SETKEY=${SETKEY:-setkey}
HERE=$(cd "$(dirname "$0")" && pwd)
L=ikectx-left
R=ikectx-right

cleanup() {
	$IP netns del $L 2>/dev/null
	$IP netns del $R 2>/dev/null
}

fail() {
	echo "run.sh: $*"
	cleanup
	echo "ESP tunnel: FAILED"
	exit 1
}

in_l() { $IP netns exec $L "$@"; }
in_r() { $IP netns exec $R "$@"; }

step() { echo; echo "== $*"; }

cleanup
step "namespaces and veth"
$IP netns add $L || fail "ip netns add $L"
$IP netns add $R || fail "ip netns add $R"
$IP link add vl netns $L type veth peer name vr netns $R || fail "ip link add veth"
in_l $IP link set lo up || fail "lo up (left)"
in_r $IP link set lo up || fail "lo up (right)"
in_l $IP link set vl up || fail "vl up"
in_r $IP link set vr up || fail "vr up"
in_l $IP -6 addr add 2001:db8:ff::1/64 dev vl nodad || fail "address vl"
in_r $IP -6 addr add 2001:db8:ff::2/64 dev vr nodad || fail "address vr"
in_l $IP -6 addr add 2001:db8:a::1/64 dev lo nodad || fail "address left inner"
in_r $IP -6 addr add 2001:db8:b::1/64 dev lo nodad || fail "address right inner"
# The inner prefixes are reached across the veth, from the inner addresses.
in_l $IP -6 route add 2001:db8:b::/64 via 2001:db8:ff::2 dev vl src 2001:db8:a::1 || fail "route left"
in_r $IP -6 route add 2001:db8:a::/64 via 2001:db8:ff::1 dev vr src 2001:db8:b::1 || fail "route right"
in_l $IP -6 addr show dev vl
in_r $IP -6 addr show dev vr

step "setkey -f left.setkey (left), setkey -f right.setkey (right)"
in_l $SETKEY -f "$HERE/left.setkey" || fail "setkey -f left.setkey"
in_r $SETKEY -f "$HERE/right.setkey" || fail "setkey -f right.setkey"

# bytes NS: the byte counters of the namespace's SAs, one per line (setkey -D).
bytes() {
	$IP netns exec "$1" $SETKEY -D | grep -o 'current: [0-9]*(bytes)' | sed 's/[^0-9]//g'
}

before_l=$(bytes $L | tr '\n' ' ')
before_r=$(bytes $R | tr '\n' ' ')
echo "SA byte counters before: left [ $before_l] right [ $before_r]"

step "ping 2001:db8:b::1 from 2001:db8:a::1 through the tunnel"
ok=0
for i in 1 2 3 4 5; do
	if in_l ping -6 -c 3 -W 2 2001:db8:b::1 2>/dev/null || in_l ping6 -c 3 -W 2 2001:db8:b::1; then
		ok=1
		break
	fi
	sleep 1
done
[ $ok = 1 ] || fail "ping through the tunnel failed"

step "UDP 2001:db8:a::1 -> 2001:db8:b::1 through the tunnel (traceroute6: UDP probes, answered by port unreachable)"
# busybox has no UDP netcat; traceroute6 sends UDP datagrams to closed
# ports, and the ICMPv6 port-unreachable that comes back through the tunnel
# proves each datagram reached 2001:db8:b::1.
udp=failed
for i in 1 2 3; do
	out=$(in_l traceroute6 -n -q 1 -w 2 -m 2 2001:db8:b::1 2>&1)
	echo "$out"
	if echo "$out" | grep -q '^ *1 *2001:db8:b::1 '; then
		udp=ok
		break
	fi
	sleep 1
done

step "TCP 2001:db8:a::1 -> [2001:db8:b::1]:5091 through the tunnel (busybox nc)"
tcp=failed
rm -f /tmp/ikectx-tcp.out
in_r nc -l -p 5091 > /tmp/ikectx-tcp.out 2>/dev/null &
ncpid=$!
sleep 1
echo "hello through ESP" | in_l nc -w 2 2001:db8:b::1 5091 2>/dev/null
sleep 1
kill $ncpid 2>/dev/null
wait $ncpid 2>/dev/null
if grep -q "hello through ESP" /tmp/ikectx-tcp.out 2>/dev/null; then
	echo "received on the right: $(cat /tmp/ikectx-tcp.out)"
	tcp=ok
else
	echo "nothing received on the right"
fi
rm -f /tmp/ikectx-tcp.out

for ns in $L $R; do
	step "setkey -D ($ns)"
	$IP netns exec $ns $SETKEY -D || fail "setkey -D in $ns"
	step "setkey -DP ($ns)"
	$IP netns exec $ns $SETKEY -DP || fail "setkey -DP in $ns"
	step "ip -s xfrm state ($ns)"
	$IP netns exec $ns $IP -s xfrm state
done

after_l=$(bytes $L | tr '\n' ' ')
after_r=$(bytes $R | tr '\n' ' ')
echo
echo "SA byte counters after: left [ $after_l] right [ $after_r]"

# Every SA (two per namespace) must have carried traffic.
n=0
for v in $after_l $after_r; do
	[ "$v" -gt 0 ] 2>/dev/null || fail "an SA counter did not rise (left [ $after_l] right [ $after_r])"
	n=$((n + 1))
done
[ $n = 4 ] || fail "expected 4 SAs, found $n"
[ $udp = ok ] || fail "UDP did not cross the tunnel"
[ $tcp = ok ] || fail "TCP did not cross the tunnel"

cleanup
echo "ESP tunnel: OK"
exit 0
