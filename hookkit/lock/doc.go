// Package lock provides named cross-process file locks with a timeout.
//
// libvirt runs the hooks of different domains concurrently, and nothing stops two
// invocations of the same hook from overlapping (a start of one VM while another
// one is released). Use a lock whenever a hook touches something shared between
// invocations: a firewall chain, a counter file, a host-wide config file, or state
// kept across calls. Without it two hooks interleave their read-modify-write and one
// update is lost (a classic defect of hooks that keep state in /tmp).
//
//	l, err := lock.Acquire(ctx, "portforward", lock.Options{Timeout: 10 * time.Second})
//	if err != nil {
//		return err // "lock portforward: timed out after 10s: held by another process (pid 4242)"
//	}
//	defer l.Release()
//
// A lock is an flock(2) on the file <Dir>/<name>.lock (Dir defaults to
// /run/lock/hookkit, created 0700). Acquire refuses a Dir that another user owns
// or may write to: /run/lock is writable by every user, and whoever creates
// /run/lock/hookkit first could otherwise hold any lock or remove a held one's
// file. The pid in a timeout error is the holder's as the kernel reports it
// (/proc/locks), whatever program took the lock. The kernel drops the lock when the holder
// exits or crashes, so a killed hook never leaves a stale lock behind. Locks are
// per open file: two Acquire calls in the same process exclude each other too, so
// a lock also serialises goroutines. The lock file is opened close-on-exec, so
// children (including detached ones) never inherit it.
//
// Acquire polls with a non-blocking flock and a growing backoff (1 ms up to
// 50 ms) until it gets the lock, the timeout expires or the context is done.
// Lock files are left in place after Release; they are empty (or hold the pid of
// the last holder) and /run is cleared at boot. Remove deletes the file safely
// while holding the lock: Acquire checks that the file it locked is still the one
// at the path, and retries otherwise.
package lock
