package simulate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hookkit-dev/hookkit/hookkit/event"
)

// Sequence is a lifecycle action whose hook calls can be replayed. Its fields are the single source of the
// CLI's --sequence help and of the table in docs/cli.md (go generate ./internal/simulate).
type Sequence struct {
	Name string
	// Drivers are the drivers for which libvirt makes this sequence; the first is the default.
	Drivers []event.Driver
	// Calls says which calls libvirt makes, in order, and when.
	Calls string
	// OnFailure says what a failing call does to the action.
	OnFailure string
	play      func(p *player) string
}

// Summary is Calls and OnFailure in one line, for the run report.
func (s *Sequence) Summary() string { return s.Calls + "; " + s.OnFailure }

// Sequences lists the replayable actions (libvirt-hooks.md, "Which lifecycle paths produce which hooks").
var Sequences = []Sequence{
	{Name: "start", Drivers: []event.Driver{event.QEMU, event.LXC, event.Libxl, event.Bhyve},
		Calls:     "prepare, start, started",
		OnFailure: "a failure aborts the start; qemu and lxc then run stopped and release(failed), libxl does so except after prepare, bhyve never",
		play:      func(p *player) string { return p.start() }},
	{Name: "destroy", Drivers: []event.Driver{event.QEMU, event.LXC, event.Libxl, event.Bhyve},
		Calls:     "stopped, release(destroyed)",
		OnFailure: "failures are ignored",
		play:      func(p *player) string { return p.stopAll("destroyed") }},
	{Name: "shutdown", Drivers: []event.Driver{event.QEMU, event.LXC, event.Libxl, event.Bhyve},
		Calls:     "stopped, release(shutdown): the guest shut down",
		OnFailure: "failures are ignored",
		play:      func(p *player) string { return p.stopAll("shutdown") }},
	{Name: "save", Drivers: []event.Driver{event.QEMU},
		Calls:     "stopped, release(saved): virsh save or managedsave",
		OnFailure: "failures are ignored",
		play:      func(p *player) string { return p.stopAll("saved") }},
	{Name: "migrate-out", Drivers: []event.Driver{event.QEMU},
		Calls:     "stopped, release(migrated) on the source of a migration",
		OnFailure: "failures are ignored",
		play:      func(p *player) string { return p.stopAll("migrated") }},
	{Name: "reconnect", Drivers: []event.Driver{event.QEMU, event.LXC, event.Libxl},
		Calls:     "reconnect, when libvirtd restarts with the VM running",
		OnFailure: "a failure KILLS the VM: stopped, then release(daemon) for qemu, release(failed) for lxc, release(-) for libxl",
		play:      func(p *player) string { return p.reconnect() }},
	{Name: "restore", Drivers: []event.Driver{event.QEMU},
		Calls:     "restore (filter), then prepare, start, started with the filtered XML",
		OnFailure: "a restore failure aborts the restore; then as start",
		play:      func(p *player) string { return p.filterThenStart("restore") }},
	{Name: "migrate", Drivers: []event.Driver{event.QEMU, event.Libxl},
		Calls:     "on the destination: migrate (filter), then prepare, start, started with the filtered XML",
		OnFailure: "a migrate failure aborts the migration; then as start",
		play:      func(p *player) string { return p.filterThenStart("migrate") }},
	{Name: "net-start", Drivers: []event.Driver{event.Network},
		Calls:     "network start, started",
		OnFailure: "a start failure aborts; a started failure shuts the network down with no stopped hook",
		play:      func(p *player) string { return p.netStart() }},
	{Name: "port", Drivers: []event.Driver{event.Network},
		Calls:     "port-created when an interface is plugged, port-deleted when it goes away",
		OnFailure: "a port-created failure fails the port allocation; port-deleted failures are ignored",
		play:      func(p *player) string { return p.port() }},
}

// LookupSequence returns the sequence called name, or nil.
func LookupSequence(name string) *Sequence {
	for i := range Sequences {
		if Sequences[i].Name == name {
			return &Sequences[i]
		}
	}
	return nil
}

// SequenceNames returns the names of Sequences joined by "|".
func SequenceNames() string {
	var names []string
	for _, s := range Sequences {
		names = append(names, s.Name)
	}
	return strings.Join(names, "|")
}

// SequenceResult is a replayed sequence.
type SequenceResult struct {
	Sequence *Sequence
	Driver   event.Driver
	Steps    []*Result
	// Outcome says how the action ended for libvirt, e.g. "started" or "start aborted at prepare".
	Outcome string
}

// Failed reports whether any step failed.
func (s *SequenceResult) Failed() bool {
	return slices.ContainsFunc(s.Steps, func(r *Result) bool { return r.Failed() })
}

// SequenceOptions tunes PlaySequence.
type SequenceOptions struct {
	// Driver is the driver whose hooks run; the sequence's default when "".
	Driver event.Driver
	// Doc, when not nil, replaces the built-in sample stdin of every step; DocName says where it is from.
	Doc     []byte
	DocName string
	// Object, when not "", replaces the name taken from the XML as argv[1].
	Object string
	// NetPorts adds the network driver's port-created and port-deleted calls that libvirt makes for each
	// <interface type='network'> of the domain, as when the same program is installed for network too.
	NetPorts bool
}

// PlaySequence replays the sequence.
func (r *Runner) PlaySequence(ctx context.Context, seq *Sequence, o SequenceOptions) (*SequenceResult, error) {
	d := o.Driver
	if d == "" {
		d = seq.Drivers[0]
	}
	if !slices.Contains(seq.Drivers, d) {
		return nil, fmt.Errorf("libvirt has no %s sequence for driver %s (only %s)", seq.Name, d, event.Join(seq.Drivers, ", "))
	}
	p := &player{ctx: ctx, r: r, driver: d, doc: o.Doc, docName: o.DocName, object: o.Object,
		res: &SequenceResult{Sequence: seq, Driver: d}}
	if o.NetPorts {
		if !d.IsDomain() {
			return nil, fmt.Errorf("--net-ports goes with the domain sequences, not %s", seq.Name)
		}
		doc := o.Doc
		if doc == nil {
			_, doc = Sample(d, "prepare")
		}
		if p.ports = domainPorts(doc); len(p.ports) == 0 {
			return nil, fmt.Errorf("the domain XML has no <interface type='network'>: no port calls to make; give a domain with one (--xml)")
		}
	}
	p.res.Outcome = seq.play(p)
	if p.err != nil {
		return nil, p.err
	}
	return p.res, nil
}

type player struct {
	ctx     context.Context
	r       *Runner
	driver  event.Driver
	doc     []byte // user document or filter output, for every step
	docName string
	object  string
	res     *SequenceResult
	err     error
	ports   []port // network ports of the domain (NetPorts)
	created int    // how many of ports got port-created
}

// call runs one step with the sequence's stdin and reports whether it succeeded; after an error of the runner
// itself every later step is skipped.
func (p *player) call(d event.Driver, op, extra string) bool {
	c := Call{Driver: d, Op: op, Extra: extra, Object: p.object}
	if spec := event.Lookup(d, op); spec != nil && spec.Payload != event.PayloadNone {
		if p.doc != nil {
			c.Input, c.InputName = p.doc, p.docName
		} else {
			c.InputName, c.Input = Sample(d, op)
			c.InputName = "built-in sample " + c.InputName
		}
	}
	return p.run(c)
}

// run fills in the subop, extra and object of c from the event table and the XML, and runs it.
func (p *player) run(c Call) bool {
	if p.err != nil {
		return false
	}
	spec := event.Lookup(c.Driver, c.Op)
	if spec == nil {
		p.err = fmt.Errorf("internal error: no %s %s in the event table", c.Driver, c.Op)
		return false
	}
	c.SubOp = spec.SubOp
	if c.Extra == "" {
		c.Extra = spec.Extra
	}
	if c.Object == "" {
		c.Object = ObjectName(c.Input)
	}
	if c.Object == "" {
		c.Object = "-"
	}
	res, err := p.r.Run(p.ctx, c)
	if err != nil {
		p.err = err
		return false
	}
	p.res.Steps = append(p.res.Steps, res)
	return !res.Failed()
}

// portCall runs the network driver's op for one of the domain's ports.
func (p *player) portCall(op string, pt port) bool {
	return p.run(Call{Driver: event.Network, Op: op, Object: pt.network, Input: pt.payload(),
		InputName: fmt.Sprintf("port of %s on network %s (mac %s)", pt.ownerName, pt.network, pt.mac)})
}

// releaseExtra is argv[4] of release: the shutoff reason for qemu and lxc (libvirt >= 10.5), "-" otherwise.
func (p *player) releaseExtra(reason string) string {
	if spec := event.Lookup(p.driver, "release"); spec != nil && spec.Extra == "<reason>" {
		return reason
	}
	return "-"
}

// stop runs what libvirt runs when the domain stops: stopped, port-deleted for each allocated port, release.
func (p *player) stop(reason string) {
	p.call(p.driver, "stopped", "")
	for _, pt := range p.ports[:p.created] {
		p.portCall("port-deleted", pt)
	}
	p.call(p.driver, "release", p.releaseExtra(reason))
}

// stopsAfterFailure reports whether libvirt runs stopped and release after op failed during a start
// (libvirt-hooks.md §1: qemu and lxc always; libxl not after prepare; bhyve never).
func (p *player) stopsAfterFailure(op string) bool {
	switch p.driver {
	case event.QEMU, event.LXC:
		return true
	case event.Libxl:
		return op != "prepare"
	}
	return false
}

func (p *player) start() string {
	for _, op := range []string{"prepare", "ports", "start", "started"} {
		ok := true
		if op == "ports" {
			for _, pt := range p.ports {
				if ok = p.portCall("port-created", pt); !ok {
					op = "port-created (network " + pt.network + ")"
					break
				}
				p.created++
			}
		} else {
			ok = p.call(p.driver, op, "")
		}
		if ok {
			continue
		}
		if p.err == nil && p.stopsAfterFailure(op) {
			p.stop("failed")
		}
		if op == "started" {
			return "start failed at started: the VM was killed again"
		}
		return "start aborted at " + op
	}
	return "started"
}

// stopAll stops a running domain whose ports were all allocated, for the given shutoff reason.
func (p *player) stopAll(reason string) string {
	p.created = len(p.ports)
	p.stop(reason)
	return reason
}

// reconnect is libvirtd's restart with the domain running. A failed reconnect hook makes libvirt stop the
// domain (libvirt-hooks.md §1): qemu with reason daemon (its monitor is connected by then), lxc with reason
// failed, libxl through libxlDomainCleanup (its release gets "-").
func (p *player) reconnect() string {
	p.created = len(p.ports)
	if p.call(p.driver, "reconnect", "") {
		return "reconnected"
	}
	reason := "failed"
	if p.driver == event.QEMU {
		reason = "daemon"
	}
	p.stop(reason)
	return "reconnect failed: libvirt killed the running VM"
}

func (p *player) filterThenStart(op string) string {
	if !p.call(p.driver, op, "") {
		return op + " aborted"
	}
	last := p.res.Steps[len(p.res.Steps)-1]
	if out := last.Output(); p.doc != nil || string(out) != string(last.Call.Input) {
		p.doc, p.docName = out, "the XML after the "+op+" filter"
	}
	outcome := p.start()
	if outcome == "started" {
		return op + "d and started"
	}
	return outcome
}

func (p *player) netStart() string {
	if !p.call(event.Network, "start", "") {
		return "network start aborted"
	}
	if !p.call(event.Network, "started", "") {
		return "network shut down again (libvirt runs no stopped hook here)"
	}
	return "network started"
}

func (p *player) port() string {
	if !p.call(event.Network, "port-created", "") {
		return "port allocation failed: the interface attach or the VM start fails"
	}
	p.call(event.Network, "port-deleted", "")
	return "port created and deleted"
}
