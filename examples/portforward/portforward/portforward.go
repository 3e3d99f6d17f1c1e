// Package portforward opens host port forwards to a guest when it starts and removes them when it stops,
// driven by per-VM configuration in the domain's <metadata> (see Config), with nft (default) or iptables.
//
// It is the classic libvirt port-forward hook done the way a hook running as root must be:
//   - every value from the XML is validated (ports, protocol, addresses, interface names) before it
//     reaches a command, and commands are run with an argv, never through a shell;
//   - what was applied is recorded in hookkit/state, so teardown removes exactly that, even when the
//     domain's configuration was edited while it ran;
//   - firewall changes are serialized across concurrent hook processes with hookkit/lock;
//   - a failed apply is rolled back, and the error aborts the start with a one-line message;
//   - the firewall tool is looked up when a command runs, with a clear error when it is absent;
//   - the command runner is injectable: command.DryRun prints the commands, command.Recorder records them.
//
// Use it from a hook's main:
//
//	r := hookkit.New()
//	portforward.New(portforward.Options{}).Register(r)
//	r.Main()
package portforward

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookkit-dev/hookkit/examples/command"
	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/lock"
	"github.com/hookkit-dev/hookkit/hookkit/state"
)

// StateKey is the hookkit/state key under which the applied forwards of a domain are recorded.
const StateKey = "portforward"

// LockName is the hookkit/lock name that serializes firewall changes of every domain.
const LockName = "portforward"

// Options configures a Forwarder. The zero value uses nft, runs commands, keeps state in
// state.DefaultDir and locks in lock.DefaultDir.
type Options struct {
	// Backend is the firewall tool (default NFT).
	Backend Backend
	// Runner runs the commands (default command.Exec{}); command.DryRun prints them instead.
	Runner command.Runner
	// State records what was applied (default state.Open(state.Options{})).
	State *state.Store
	// LockDir holds the lock file (default lock.DefaultDir).
	LockDir string
	// LockTimeout bounds the wait for the lock (default 10s).
	LockTimeout time.Duration
	// ApplyOn is the op that opens the forwards: "start" (default) or "prepare".
	ApplyOn string
}

// Forwarder applies and removes the port forwards of domains.
type Forwarder struct {
	opts Options
}

// Record is what the state store holds for a domain: the backend and the rules that were applied.
type Record struct {
	Backend Backend `json:"backend"`
	Domain  string  `json:"domain"`
	Rules   []Rule  `json:"rules"`
}

// New returns a Forwarder with the defaults filled in.
func New(opts Options) *Forwarder {
	if opts.Backend == "" {
		opts.Backend = NFT
	}
	if opts.Runner == nil {
		opts.Runner = command.Exec{}
	}
	if opts.State == nil {
		opts.State = state.Open(state.Options{})
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 10 * time.Second
	}
	if opts.ApplyOn == "" {
		opts.ApplyOn = "start"
	}
	return &Forwarder{opts: opts}
}

// Register adds the forwarder's handlers to r: apply on ApplyOn (start or prepare), remove on stopped
// and release, for every domain driver (qemu, lxc, libxl, bhyve). A bad Options value makes every
// call fail with the reason, so a misconfigured hook cannot silently do nothing.
func (f *Forwarder) Register(r *hookkit.Router) {
	apply := func(dom *hookkit.Domain) error { return f.Apply(dom.Context(), dom) }
	switch f.opts.ApplyOn {
	case "prepare":
		r.OnDomainPrepare(apply)
	case "start":
		r.OnDomainStart(apply)
	default:
		bad := func(*hookkit.Domain) error {
			return fmt.Errorf("portforward: ApplyOn %q: want start or prepare", f.opts.ApplyOn)
		}
		r.OnDomainPrepare(bad)
	}
	r.OnDomainStopped(func(dom *hookkit.Domain) error { return f.Remove(dom.Context(), dom, false) })
	r.OnDomainRelease(func(dom *hookkit.Domain) error { return f.Remove(dom.Context(), dom, true) })
}

// Apply opens the forwards the domain's metadata asks for. Forwards recorded by an earlier Apply that
// was never torn down are removed first. When a command fails, what was applied is rolled back and the
// error names the failed command.
func (f *Forwarder) Apply(ctx context.Context, dom *hookkit.Domain) error {
	if err := f.opts.Backend.Validate(); err != nil {
		return err
	}
	var cfg Config
	found, err := dom.Metadata(Namespace, &cfg)
	if err != nil {
		return fmt.Errorf("portforward: %w", err)
	}
	var rules []Rule
	if found {
		if rules, err = cfg.Rules(); err != nil {
			return fmt.Errorf("portforward: metadata %s: %w", Namespace, err)
		}
	}
	uuid, err := state.NormalizeUUID(dom.UUID())
	if err != nil {
		return fmt.Errorf("portforward: %w", err)
	}
	return f.locked(ctx, func() error {
		// A record left by a start that was never torn down (a hook killed half way): remove it
		// before installing the forwards again, or the rules would be duplicated.
		if err := f.removeRecorded(ctx, dom, uuid, true); err != nil {
			dom.Logger().Warn("portforward: stale forwards not fully removed", "error", err.Error())
		}
		if len(rules) == 0 {
			return nil
		}
		if err := f.checkConflicts(uuid, rules); err != nil {
			return fmt.Errorf("portforward: %w", err)
		}
		// Record first: if the hook is killed half way, teardown still knows what may be in place.
		rec := Record{Backend: f.opts.Backend, Domain: dom.Name(), Rules: rules}
		if err := f.opts.State.Save(uuid, StateKey, rec); err != nil {
			return fmt.Errorf("portforward: %w", err)
		}
		steps := f.opts.Backend.plan(uuid, rules)
		for i, s := range steps {
			if err := f.opts.Runner.Run(ctx, s.do[0], s.do[1:]...); err != nil {
				if rerr := f.rollback(ctx, dom, steps[:i]); rerr != nil {
					// Keep the record: stopped and release remove what it lists.
					return fmt.Errorf("portforward: apply: %w; rollback incomplete (%w): stopped and release will remove the rest", err, rerr)
				}
				if derr := f.opts.State.Delete(uuid, StateKey); derr != nil {
					dom.Logger().Error("portforward: forget the rolled back forwards", "error", derr.Error())
				}
				return fmt.Errorf("portforward: apply (rolled back): %w", err)
			}
		}
		for _, r := range rules {
			dom.Logger().Info("port forward opened", "rule", r.String(), "backend", string(f.opts.Backend))
		}
		return nil
	})
}

// Remove removes the forwards recorded for the domain, whatever its metadata says now. final is true
// for release, the last teardown call: the record is then dropped even when a command failed (the
// error is still returned, and logged by libvirt), so a rule deleted by hand cannot wedge the record.
// On stopped a failure keeps the record for release to retry.
func (f *Forwarder) Remove(ctx context.Context, dom *hookkit.Domain, final bool) error {
	uuid, err := state.NormalizeUUID(dom.UUID())
	if err != nil {
		return fmt.Errorf("portforward: %w", err)
	}
	return f.locked(ctx, func() error { return f.removeRecorded(ctx, dom, uuid, final) })
}

// removeRecorded removes the recorded forwards; the caller holds the lock.
func (f *Forwarder) removeRecorded(ctx context.Context, dom *hookkit.Domain, uuid string, final bool) error {
	var rec Record
	found, err := f.opts.State.Load(uuid, StateKey, &rec)
	if err != nil {
		return fmt.Errorf("portforward: %w", err)
	}
	if !found {
		return nil
	}
	if err := rec.Backend.Validate(); err != nil {
		return fmt.Errorf("portforward: recorded state: %w", err)
	}
	var errs []error
	for _, argv := range rec.Backend.removal(uuid, rec.Rules) {
		if err := f.opts.Runner.Run(ctx, argv[0], argv[1:]...); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 && !final {
		return fmt.Errorf("portforward: remove: %w", errors.Join(errs...))
	}
	if err := f.opts.State.Delete(uuid, StateKey); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("portforward: remove: %w", errors.Join(errs...))
	}
	for _, r := range rec.Rules {
		dom.Logger().Info("port forward closed", "rule", r.String(), "backend", string(rec.Backend))
	}
	return nil
}

// checkConflicts refuses rules whose host port another domain already forwards (recorded in the state
// store): the first DNAT rule would win and the second domain would silently get nothing. The caller
// holds the lock, so two starts cannot both pass the check.
func (f *Forwarder) checkConflicts(uuid string, rules []Rule) error {
	others, err := f.opts.State.Domains()
	if err != nil {
		return err
	}
	for _, other := range others {
		if other == uuid {
			continue
		}
		var rec Record
		found, err := f.opts.State.Load(other, StateKey, &rec)
		if err != nil || !found {
			continue // another concern's state, or unreadable: not ours to judge
		}
		for _, r := range rules {
			for _, o := range rec.Rules {
				if r.Overlaps(o) {
					return fmt.Errorf("%s: host port %s/%d is already forwarded to domain %s (%s)", r, r.Proto, r.HostPort, rec.Domain, other)
				}
			}
		}
	}
	return nil
}

// rollbackTimeout bounds a rollback, which runs on a context of its own.
const rollbackTimeout = 10 * time.Second

// rollback undoes the steps that succeeded, newest first, and returns the failures. It does not use
// the call's context: that may be what just ended (the deadline, SIGTERM), and a command is not even
// started on a cancelled context, so every undo would fail and the rules would stay with no record.
func (f *Forwarder) rollback(ctx context.Context, dom *hookkit.Domain, done []step) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	var errs []error
	for i := len(done) - 1; i >= 0; i-- {
		if u := done[i].undo; u != nil {
			if err := f.opts.Runner.Run(ctx, u[0], u[1:]...); err != nil {
				dom.Logger().Error("portforward: rollback failed", "error", err.Error())
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (f *Forwarder) locked(ctx context.Context, fn func() error) error {
	return lock.With(ctx, LockName, lock.Options{Dir: f.opts.LockDir, Timeout: f.opts.LockTimeout}, fn)
}
