// Package e2e holds the end-to-end tests of hookkit: a real libvirtd, started by the tests in a private
// mount and network namespace, runs hook programs built from this repository (e2e/hooks/...) for
// real domains, networks and containers. Each hook call appends one Record to a record file; the tests
// compare those records with what virsh reports.
//
// The tests live behind the build tag e2e and need root:
//
//	go test -tags e2e -count=1 -v ./e2e/...
//
// Without the tag, only the Record format is built and tested. See docs/e2e.md.
package e2e
