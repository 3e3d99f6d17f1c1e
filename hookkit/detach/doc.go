// Package detach runs work after libvirt got its answer, in a process that does
// not hold libvirt.
//
// Never call virsh (or the libvirt API) inline from a hook, and never leave a
// plain background child behind. libvirt runs a hook synchronously while it holds
// the domain's job, and it reads the hook's stdout and stderr until every write
// end of those pipes is closed: a virsh call on the same domain waits for that
// job and deadlocks, and a child started with "cmd &" inherits the pipes and
// keeps libvirt (and virt-manager) frozen for as long as it runs. Use this
// package instead, for example to attach a device or change a setting from a
// started handler, to notify a service, or for slow cleanup after release:
//
//	pid, err := detach.Start(exec.Command("virsh", "attach-device", name, "/etc/hookkit/usb.xml"),
//		detach.Options{LogFile: "/var/log/hookkit/usb.log"})
//
// or, for Go code, register a job at package level and start it from a handler:
//
//	var resync = detach.Register("resync", func(ctx context.Context, args []string) error { ... })
//	pid, err := resync.Start(detach.Options{LogFile: "/var/log/hookkit/resync.log"}, dom.Name())
//
// # How it works
//
// Start re-executes the running binary (/proc/self/exe) as a small supervisor in
// a new session (setsid), with the working directory "/", stdin on /dev/null,
// stdout and stderr on Options.LogFile (opened for append, mode 0600) or on
// /dev/null, and no other file descriptor than a private pipe: every descriptor
// of the hook above stderr is marked close-on-exec first, so nothing the hook
// inherited leaks into the child. The spec of the work travels through that pipe
// (not argv or the environment, so ps shows no arguments of a job). The hook
// keeps the write end open until it exits; the supervisor waits for end of file on
// it, so by default the work starts only once the hook process is gone and libvirt
// has its answer; then it sleeps Options.Delay, runs the command (as its child, in
// the same session and in a process group of its own, so that the timeout and
// forwarded signals reach what the command starts too) or the registered Go
// function, enforces Options.Timeout, and writes a start line and an exit line to
// the log. The command gets exactly what os/exec would give it: its arguments and
// environment byte for byte (an empty cmd.Env stays empty), a relative path
// resolved against cmd.Dir, and default signal dispositions.
//
// Because the supervisor is the same binary, the program must call
// MaybeRunChild first thing in main; hookkit's Router.Main does. Start refuses to
// run in a program that never called it, instead of starting a hook by mistake.
//
// Go cannot double-fork, and it does not need to: the child has its own session,
// so no terminal hangup or process-group signal aimed at the hook reaches it; the
// hook never waits for it, and when the hook exits (at once, in a hook) the child
// is re-parented to init (or the nearest subreaper, such as systemd), which reaps
// it. No zombie is left behind: by default the supervisor cannot exit before the
// hook does, and with Immediate, Start reaps it in a goroutine. The returned pid is the supervisor's, which is
// also its session id: kill -TERM <pid> stops the work; the supervisor forwards
// SIGTERM and SIGINT to a command's process group.
//
// In a test that runs a handler in-process, pass Options.Immediate, or the work
// waits for the test binary to exit; a test binary that starts work must call
// MaybeRunChild from TestMain.
package detach
