# ikectx — the two commands the README shows are `make demo` and `make test`.
GO ?= go
LAB = $(GO) run ./cmd/testbed lab
# FreeBSD cannot boot on this machine: its code paths are cross-compiled, vetted and their
# tests compiled here; the FreeBSD encodings themselves are unit-tested on Linux (golden bytes).
FREEBSD_PKGS ?= ./...

.PHONY: test demo lab-demo bench deps lab-fetch host-test freebsd vagrant-check freebsd-bin lab-test fuzz clean

## test: everything: installs what it needs, host suite, FreeBSD cross-build and Vagrant checks, kernel-lab suite.
test: deps lab-fetch host-test freebsd vagrant-check lab-test

## demo: the main job: the paper's experiment on defaults (5 runs per scenario), Table 1 and Figure 4 in out/table1/.
demo: deps lab-fetch
	$(GO) run ./cmd/testbed table1

## lab-demo: the kernel lab's PF_KEY demonstration: an ESP tunnel configured only by setkey files.
lab-demo: deps lab-fetch
	$(LAB) demo

deps:
	sh scripts/deps.sh

lab-fetch:
	$(LAB) fetch

host-test:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags lab ./...
	$(GO) test -count=1 ./...

freebsd:
	GOOS=freebsd GOARCH=amd64 $(GO) build ./...
	GOOS=freebsd GOARCH=amd64 $(GO) vet $(FREEBSD_PKGS)
	@d=$$(mktemp -d) && trap 'rm -rf $$d' EXIT && for p in $$(GOOS=freebsd $(GO) list $(FREEBSD_PKGS)); do \
		GOOS=freebsd GOARCH=amd64 $(GO) test -c -o $$d/$$(echo $$p | tr / _).test $$p || exit 1; done
	@echo "freebsd: build, vet and test-compile clean"

## vagrant-check: the FreeBSD testbed as far as it can be checked here (validate, sh -n, shellcheck, configs).
vagrant-check:
	sh vagrant/check.sh

## freebsd-bin: static FreeBSD amd64 binaries for the Vagrant stations (bin/freebsd/).
freebsd-bin:
	sh vagrant/build.sh

lab-test:
	$(LAB) test

## bench: Go benchmarks of the codecs and engines, then 1,000 SAs + 1,000 policies in the lab (pfkey vs ip -batch).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./pfkey/... ./cxtp/... ./shm/... ./racoon/...
	$(LAB) bench

## fuzz: a short run of every fuzz target (FUZZTIME each).
FUZZTIME ?= 10s
fuzz:
	@set -e; for p in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz' || true); do \
			echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p; done; done

clean:
	rm -rf bin out
