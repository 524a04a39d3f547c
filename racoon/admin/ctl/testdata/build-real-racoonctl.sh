#!/bin/sh
# Builds ipsec-tools 0.8.2's own racoonctl from its sources, as the oracle of
# TestAgainstRealRacoonctl (Debian no longer packages ipsec-tools):
#
#   sh build-real-racoonctl.sh /path/to/ipsec-tools-source /tmp/rctl
#   IKECTX_REAL_RACOONCTL=/tmp/rctl/racoonctl go test -run Real ./racoon/admin/ctl/
#
# Only racoonctl and the parts of libracoon/libipsec it links are compiled,
# with a hand-written config.h (no autotools, flex or bison needed); the
# policy parser (bison) is replaced by a stub, as racoonctl never parses
# policies. Needs gcc and the Linux headers.
set -eu
src=${1:?usage: $0 IPSEC_TOOLS_SOURCE OUTDIR}
out=${2:?usage: $0 IPSEC_TOOLS_SOURCE OUTDIR}
mkdir -p "$out"
cd "$out"
cat > config.h <<'H'
#define STDC_HEADERS 1
#define HAVE_STDARG_H 1
#define HAVE_UNISTD_H 1
#define HAVE_LIMITS_H 1
#define HAVE_STRING_H 1
#define HAVE_STDLIB_H 1
#define PATH_IPSEC_H <linux/ipsec.h>
#define ENABLE_ADMINPORT 1
#define INET6 1
#define HAVE_FUNC_MACRO 1
#define HAVE_PFKEY_POLICY_PRIORITY 1
#define TIME_WITH_SYS_TIME 1
#define HAVE_SYS_TIME_H 1
#define SYSCONFDIR "/etc/racoon"
#define ADMINPORTDIR "/var/racoon"
#define HAVE_CLOCK_MONOTONIC 1
#define WITH_SHA2 1
#define HAVE_POLICY_FWD 1
#define ENABLE_NATT 1
#define ENABLE_DPD 1
H
cat > stub.c <<'C'
#include <stddef.h>
#include <linux/pfkeyv2.h>
int PFKEY_UNUNIT64(int a) { return a << 3; }
int PFKEY_EXTLEN(void *m) { return ((struct sadb_ext *)m)->sadb_ext_len << 3; }
char *ipsec_set_policy(const char *s, int l) { return NULL; }
C
flags="-Ulinux -include config.h -DHAVE_CONFIG_H -DNOUSE_PRIVSEP -I. -I$src/src/include-glibc -I$src/src/racoon -I$src/src/libipsec -w -O0"
objs=
for f in racoon/racoonctl racoon/str2val racoon/kmpstat racoon/vmbuf racoon/sockmisc racoon/misc \
	libipsec/pfkey_dump libipsec/ipsec_strerror libipsec/key_debug libipsec/pfkey \
	libipsec/ipsec_dump_policy libipsec/ipsec_get_policylen; do
	o=$(basename "$f").o
	gcc $flags -c "$src/src/$f.c" -o "$o"
	objs="$objs $o"
done
gcc -c stub.c -o stub.o
gcc -o racoonctl $objs stub.o
echo "$out/racoonctl"
