#!/bin/sh
# build.sh [OUTDIR]: cross-compiles the project's binaries for the FreeBSD
# VMs (amd64, static) into bin/freebsd/ (what `make freebsd-bin` does).
set -eu
cd "$(dirname "$0")/.."
out=${1:-bin/freebsd}
mkdir -p "$out"
GO=${GO:-go}
CGO_ENABLED=0 GOOS=freebsd GOARCH=${GOARCH:-amd64} "$GO" build -trimpath -o "$out/" \
	./cmd/setkey ./cmd/racoon ./cmd/racoonctl ./cmd/cxtpd ./cmd/ipsec-cxtpd ./cmd/iked \
	./cmd/udpgen ./vagrant/ikectx-vagrant
echo "build.sh: FreeBSD binaries in $out: $(cd "$out" && echo *)"
