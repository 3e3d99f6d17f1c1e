// Package state keeps small per-domain values from a domain's setup to its
// teardown, across hook invocations and libvirtd restarts.
//
// Use it when a teardown handler must undo exactly what a setup handler did. A
// release hook that recomputes its work from the XML it receives undoes the wrong
// thing when the domain's config changed while it ran (stale port-forward rules),
// and the stopped/release XML may no longer carry what start had (the bridge of
// an interface). Save what you did at prepare/start, load it at release, then
// Clear:
//
//	s := state.Open(state.Options{}) // /run/hookkit
//	// prepare:
//	err := s.Save(dom.UUID(), "portforward", rules)
//	// release:
//	var rules []Rule
//	found, err := s.Load(dom.UUID(), "portforward", &rules)
//	... undo rules ...
//	err = s.Clear(dom.UUID())
//
// Values are JSON files, <Dir>/<uuid>/<key>.json (directories 0700, files 0600),
// so they survive a libvirtd restart (the reconnect op finds them) and vanish at
// host reboot, when /run is emptied and no domain is running any more. Writes are
// atomic (temporary file, fsync, rename, fsync of the directory): a reader sees
// the old value or the new one, never a torn file, and a crash leaves at most a
// hidden temporary file that List ignores and Clear removes. Writers of one domain
// are serialised by a per-domain hookkit/lock file under <Dir>/.lock; Update is an
// atomic read-modify-write under that lock. Readers never wait for the lock.
//
// Keys name the state of one concern ("portforward", "bridge", "gpu"); UUIDs
// are the domain's (or network's) UUID in canonical 8-4-4-4-12 form and are
// stored lower case.
package state
