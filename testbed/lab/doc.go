// Package lab is the kernel lab: it boots Debian's own Linux kernel under
// qemu (software emulation, KVM only where the CPU offers it) with a small
// initramfs, runs a payload inside and returns its console output and exit
// status. The lab gives tests a real PF_KEY, ESP and SCTP on machines whose
// own kernel lacks them.
//
// The pieces, one per file:
//   - fetch.go: downloads and caches the kernel package (apt-get download,
//     dpkg-deb -x, vmlinux extraction, depmod), outside git.
//   - aptver.go: finds the kernel package behind linux-image-amd64.
//   - modules.go: modules.dep/alias/builtin parsing and dependency closure.
//   - cpio.go: a newc cpio writer; initramfs.go: the image built with it
//     (plain by default, gzip optional: see Spec.Gzip).
//   - initscript.go: the guest's /init.
//   - lock.go: the cache lock shared by concurrent runs.
//   - ldd.go: dynamically linked host tools (iproute2) with their libraries.
//   - qemu.go: the qemu command line and acceleration choice.
//   - console.go: the console marker parser (@@BEGIN, @@RESULT rc=N).
//   - run.go: Run, the entry point.
//   - project.go: the project's static binaries and examples for the guest.
//   - gotest.go: compiled Go test binaries run in the guest and their tally.
//
// A typical use:
//
//	k, err := lab.Fetch(ctx, lab.FetchOptions{})
//	res, err := lab.Run(ctx, lab.Spec{Kernel: k, Script: "echo hello; exit 3"})
//	// res.ExitCode == 3, res.Output == "hello\n"
package lab
