// Command recorder is the hook program of the end-to-end tests. One binary is installed as
// /etc/libvirt/hooks/{daemon,qemu,lxc,network} (symlinks) and, in one scenario, as qemu.d/10-recorder.
// Every call appends one e2e.Record (argv, environment, and what hookkit parsed) to the record file, then
// acts out the scenario the domain's name selects:
//
//	e2e-fail     prepare fails with a one-line error
//	e2e-panic    prepare panics
//	e2e-restore  the restore filter rewrites <description> (package xmldoc), printing on stdout first
//	e2e-detach   started schedules a virsh call that runs after the hook returned (package detach)
//
// The record and log files are fixed at build time, since libvirt clears the environment:
//
//	go build -ldflags "-X main.recordFile=/tmp/x/records.jsonl -X main.logFile=/tmp/x/hooks.log"
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hookkit-dev/hookkit/e2e"
	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/detach"
	"github.com/hookkit-dev/hookkit/hookkit/xmldoc"
)

// Set at build time with -ldflags -X.
var (
	recordFile string
	logFile    string
)

func main() {
	if recordFile == "" || logFile == "" {
		fmt.Fprintln(os.Stderr, "recorder: built without -ldflags \"-X main.recordFile=... -X main.logFile=...\"")
		os.Exit(hookkit.ExitFailure)
	}
	newRouter(recordFile, openLog(logFile)).Main()
}

func openLog(path string) *slog.Logger {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newRouter(records string, logger *slog.Logger) *hookkit.Router {
	rec := recorder{file: records}
	r := hookkit.New(hookkit.WithLogger(logger), hookkit.WithTimeout(20*time.Second))

	// Recording first: handlers for one event run in registration order.
	r.OnDomainPrepare(rec.domain("OnDomainPrepare"))
	r.OnDomainStart(rec.domain("OnDomainStart"))
	r.OnDomainStarted(rec.domain("OnDomainStarted"))
	r.OnDomainStopped(rec.domain("OnDomainStopped"))
	r.OnDomainRelease(rec.domain("OnDomainRelease"))
	r.OnDomainRestore(rec.domain("OnDomainRestore"))
	r.OnDomainMigrate(rec.domain("OnDomainMigrate"))
	r.OnDomainReconnect(rec.domain("OnDomainReconnect"))
	r.OnDomainAttach(rec.domain("OnDomainAttach"))
	r.OnNetworkStart(rec.network("OnNetworkStart"))
	r.OnNetworkStarted(rec.network("OnNetworkStarted"))
	r.OnNetworkStopped(rec.network("OnNetworkStopped"))
	r.OnNetworkUpdated(rec.network("OnNetworkUpdated"))
	r.OnNetworkPortCreated(rec.port("OnNetworkPortCreated"))
	r.OnNetworkPortDeleted(rec.port("OnNetworkPortDeleted"))
	r.OnDaemonStart(rec.daemon("OnDaemonStart"))
	r.OnDaemonShutdown(rec.daemon("OnDaemonShutdown"))
	r.OnDaemonReload(rec.daemon("OnDaemonReload"))
	r.CatchAll(hookkit.HandlerFunc(func(c *hookkit.Call) error {
		return rec.write(c, "CatchAll", nil)
	}))

	// The scenarios.
	r.Match(hookkit.Name("e2e-fail")).OnDomainPrepare(func(dom *hookkit.Domain) error {
		return fmt.Errorf("e2e refuses to prepare %s: quota exceeded", dom.Name())
	})
	r.Match(hookkit.Name("e2e-panic")).OnDomainPrepare(func(dom *hookkit.Domain) error {
		panic("deliberate panic while preparing " + dom.Name())
	})
	r.Match(hookkit.Name("e2e-reconnect-fail")).OnDomainReconnect(func(dom *hookkit.Domain) error {
		return fmt.Errorf("e2e refuses to reconnect %s: state lost", dom.Name())
	})
	r.Match(hookkit.Name("e2e-restore")).OnDomainRestore(xmldoc.Filter(func(dom *hookkit.Domain, doc *xmldoc.Document) error {
		// Stray output, as debugging code or a chatty tool leaves it: libvirt parses a filter's whole
		// stdout as the new XML, so the restore succeeds only if none of this reaches it.
		fmt.Println("restoring", dom.Name())
		if err := exec.Command("/bin/echo", "a child's stdout").Run(); err != nil {
			return err
		}
		cmd := exec.Command("/bin/echo", "a child's stdout, inherited")
		cmd.Stdout = os.Stdout
		if err := cmd.Run(); err != nil {
			return err
		}
		return doc.SetDescription(e2e.RestoredDescription)
	}))
	r.Match(hookkit.Name("e2e-detach")).OnDomainStarted(func(dom *hookkit.Domain) error {
		// Inline, this virsh call would wait for the start job libvirt holds while the hook runs: deadlock.
		_, err := setTitle.Start(detach.Options{LogFile: filepath.Join(filepath.Dir(logFile), "detached.log"), Timeout: time.Minute}, dom.Name())
		return err
	})
	return r
}

// setTitle runs in the background, once the started hook exited: it sets the running domain's title
// with virsh and records what it saw.
var setTitle = detach.Register("e2e-set-title", func(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("e2e-set-title: want a domain name, got %q", args)
	}
	name := args[0]
	out, err := exec.CommandContext(ctx, "virsh", "-q", "-c", "qemu:///system",
		"desc", name, "--live", "--title", "--new-desc", e2e.DetachedTitle).CombinedOutput()
	sid := session()
	r := e2e.Record{
		Hook: "detached", PID: os.Getpid(), Session: sid, Argv: os.Args, Object: name, Op: "set-title",
		Output: strings.TrimSpace(string(out)),
	}
	for fd := range 3 {
		target, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		r.Stdio = append(r.Stdio, target)
	}
	if err != nil {
		r.Error = err.Error()
	}
	if aerr := e2e.Append(recordFile, r); aerr != nil {
		return aerr
	}
	return err
})

// recorder writes one e2e.Record per call.
type recorder struct {
	file string
}

// write records the call, with fill adding what the payload view parsed.
func (rec recorder) write(c *hookkit.Call, route string, fill func(*e2e.Record)) error {
	r := e2e.NewRecord("recorder", route, c)
	if fill != nil {
		fill(&r)
	}
	return e2e.Append(rec.file, r)
}

func (rec recorder) domain(route string) func(*hookkit.Domain) error {
	return func(dom *hookkit.Domain) error {
		return rec.write(dom.Call, route, func(r *e2e.Record) { e2e.FillDomain(r, dom) })
	}
}

func (rec recorder) network(route string) func(*hookkit.Network) error {
	return func(n *hookkit.Network) error {
		return rec.write(n.Call, route, func(r *e2e.Record) { e2e.FillNetwork(r, n) })
	}
}

func (rec recorder) port(route string) func(*hookkit.NetworkPort) error {
	return func(p *hookkit.NetworkPort) error {
		return rec.write(p.Call, route, func(r *e2e.Record) { e2e.FillPort(r, p) })
	}
}

func (rec recorder) daemon(route string) func(*hookkit.Daemon) error {
	return func(d *hookkit.Daemon) error { return rec.write(d.Call, route, nil) }
}

// session returns the session id of this process, from /proc/self/stat ("pid (comm) state ppid pgrp
// session ...").
func session() int {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 4 {
		return 0
	}
	sid, _ := strconv.Atoi(f[3])
	return sid
}
