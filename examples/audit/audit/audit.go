// Package audit appends one JSON line per libvirt hook call to a file: when, which driver, object, op,
// subop and extra, the UUID of the domain or network (and of the port and its owner for port events), and
// how the call ended. Known and unknown events alike are recorded, so a libvirt upgrade that adds an op
// shows up in the audit trail the day it happens.
//
// Lines are appended under a hookkit/lock lock, one write per line, so concurrent hooks (libvirt runs the
// hooks of different domains at the same time) never interleave or lose a line. The XML is never
// recorded: migrate's carries secrets.
//
//	r := hookkit.New()
//	audit.New(audit.Options{File: "/var/log/hookkit/audit.jsonl"}).Register(r)
//	r.Main()
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/lock"
)

// DefaultFile is where entries go when Options.File is empty.
const DefaultFile = "/var/log/hookkit/audit.jsonl"

// LockName is the hookkit/lock name held while a line is appended.
const LockName = "audit"

// Entry is one line of the audit file.
type Entry struct {
	// Time is when the call ended, in UTC.
	Time time.Time `json:"time"`
	// Driver, Object, Op, SubOp and Extra are the invocation: the driver from argv[0], then argv[1..4]
	// with libvirt's "-" as "".
	Driver string `json:"driver"`
	Object string `json:"object"`
	Op     string `json:"op"`
	SubOp  string `json:"subop"`
	Extra  string `json:"extra"`
	// UUID is the domain's UUID for domain events, the network's for network events.
	UUID string `json:"uuid,omitempty"`
	// Port and Owner are the port's UUID and its owning domain's UUID for port events.
	Port  string `json:"port,omitempty"`
	Owner string `json:"owner,omitempty"`
	// Known is false for an event libvirt's hook table does not list (a newer libvirt).
	Known bool `json:"known"`
	// Result is "ok", or the error the other handlers returned ("panic: ..." for a panic).
	Result string `json:"result"`
}

// Options configures an Auditor.
type Options struct {
	// File is the audit file (default DefaultFile); its directory is created 0750 when missing.
	File string
	// LockDir holds the lock file (default lock.DefaultDir).
	LockDir string
	// LockTimeout bounds the wait for the lock (default 5s).
	LockTimeout time.Duration
	// Required makes a call fail when its entry cannot be written. By default the failure is only
	// logged, so a full disk does not stop every VM.
	Required bool
	// Now returns the time of an entry (default time.Now); for tests.
	Now func() time.Time
}

// Auditor records hook calls.
type Auditor struct {
	opts Options
}

// New returns an Auditor with the defaults filled in.
func New(opts Options) *Auditor {
	if opts.File == "" {
		opts.File = DefaultFile
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Auditor{opts: opts}
}

// Register makes every call r dispatches pass through the auditor: it adds the auditor's middleware and a
// catch-all that does nothing, so events no other handler takes (unknown future ops included) reach it
// too. Other catch-alls still run.
func (a *Auditor) Register(r *hookkit.Router) {
	r.Use(a.Middleware())
	r.CatchAll(hookkit.HandlerFunc(func(*hookkit.Call) error { return nil }))
}

// Middleware records each call after the handlers it wraps have run, with their result. A panic is
// recorded and then goes on to the Router, which reports it; so does a runtime.Goexit (t.FailNow in a
// handler under test), which is recorded as such and not turned into a panic.
func (a *Auditor) Middleware() hookkit.Middleware {
	return func(next hookkit.Handler) hookkit.Handler {
		return hookkit.HandlerFunc(func(c *hookkit.Call) (err error) {
			returned := false
			defer func() {
				if returned {
					return
				}
				if v := recover(); v != nil {
					_ = a.Record(c, fmt.Errorf("panic: %v", v))
					panic(v)
				}
				// recover gives nil during runtime.Goexit: record it and let it go on unwinding.
				_ = a.Record(c, errors.New("handler called runtime.Goexit"))
			}()
			err = next.ServeHook(c)
			returned = true
			if rerr := a.Record(c, err); rerr != nil {
				c.Logger().Error("audit: entry not written", "error", rerr.Error())
				if err == nil && a.opts.Required {
					return rerr
				}
			}
			return err
		})
	}
}

// EntryFor builds the entry of a call whose handlers returned result.
func (a *Auditor) EntryFor(c *hookkit.Call, result error) Entry {
	e := Entry{
		Time:   a.opts.Now().UTC(),
		Driver: string(c.Driver),
		Object: c.Object,
		Op:     c.Op,
		SubOp:  c.SubOp,
		Extra:  c.Extra,
		Known:  c.Spec != nil,
		Result: "ok",
	}
	if result != nil {
		e.Result = result.Error()
	}
	if p, err := c.Port(); err == nil {
		e.Port, e.Owner = p.UUID(), p.OwnerUUID()
	}
	if d, err := c.Domain(); err == nil {
		e.UUID = d.UUID()
	} else if n, err := c.Network(); err == nil {
		e.UUID = n.UUID()
	}
	return e
}

// Record appends the entry of c to the audit file.
func (a *Auditor) Record(c *hookkit.Call, result error) error {
	return a.Append(c.Context(), a.EntryFor(c, result))
}

// Append writes e as one JSON line, holding the lock, in a single write to a file opened with O_APPEND.
func (a *Auditor) Append(ctx context.Context, e Entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	line = append(line, '\n')
	err = lock.With(ctx, LockName, lock.Options{Dir: a.opts.LockDir, Timeout: a.opts.LockTimeout}, func() error {
		if err := os.MkdirAll(filepath.Dir(a.opts.File), 0o750); err != nil {
			return err
		}
		f, err := os.OpenFile(a.opts.File, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return err
		}
		if _, err := f.Write(line); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
