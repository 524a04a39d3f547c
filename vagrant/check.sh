#!/bin/sh
# check.sh: what can be checked of the FreeBSD testbed without FreeBSD
# (make test): the Vagrantfile validates offline, every shell script parses
# and passes shellcheck as POSIX sh, the generated configs are in step with
# testbed/topo and pass the project's checkers, the report tool works.
set -eu
cd "$(dirname "$0")"
scripts="build.sh check.sh table1.sh provision/provision.sh guest/tb.sh config/all/net.sh"
for s in $scripts; do
	sh -n "$s"
done
# shellcheck disable=SC2086 # a list of paths
shellcheck -x -s sh $scripts
VAGRANT_CHECKPOINT_DISABLE=1 vagrant validate --ignore-provider >/dev/null
cd ..
${GO:-go} test -count=1 ./vagrant/...
echo "vagrant: check.sh clean (validate, sh -n, shellcheck, configs, report)"
