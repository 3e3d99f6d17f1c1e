// Package scaffold writes hook projects and the files of `hookkit new` and `hookkit gen`: it turns event
// names into the typed Router methods of package hookkit, renders package templates, marks what it
// writes with a content hash, and never overwrites a file the user changed unless forced.
package scaffold

import (
	"fmt"
	"strings"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/templates"
)

// DomainDriver is the pseudo driver of events that cover every domain driver that has the op:
// domain:start registers with Router.OnDomainStart for qemu, lxc, libxl and bhyve.
const DomainDriver = "domain"

// Event is a hook event as the CLI names it: "driver:op" (qemu:prepare, network:port-created,
// daemon:reload), or "domain:op" for every domain driver that has the op.
type Event struct {
	// Driver is DomainDriver or a driver of package event.
	Driver string
	// Op is the libvirt op.
	Op string
	// Specs are the rows of the event table the event covers, in table order.
	Specs []event.Spec
}

// String returns the event as "driver:op".
func (e Event) String() string { return e.Driver + ":" + e.Op }

// ParseEvent validates "driver:op" against the event table of package event.
func ParseEvent(s string) (Event, error) {
	d, op, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || d == "" || op == "" {
		return Event{}, fmt.Errorf("event %q: want driver:op, e.g. qemu:prepare, network:port-created or domain:start", s)
	}
	if d == DomainDriver {
		ds := event.DriversFor(op, event.Driver.IsDomain)
		if len(ds) == 0 {
			return Event{}, fmt.Errorf("unknown event %q: the domain ops are %s", s, strings.Join(event.Ops(event.Driver.IsDomain), ", "))
		}
		e := Event{Driver: d, Op: op}
		for _, x := range ds {
			e.Specs = append(e.Specs, *event.Lookup(x, op))
		}
		return e, nil
	}
	drv := event.Driver(d)
	if !drv.Valid() {
		return Event{}, fmt.Errorf("unknown event %q: %q is not a hook driver (%s, or domain for all domain drivers)", s, d, event.Join(event.Drivers, ", "))
	}
	spec := event.Lookup(drv, op)
	if spec == nil {
		return Event{}, fmt.Errorf("unknown event %q: the %s ops are %s", s, d, strings.Join(event.Ops(func(x event.Driver) bool { return x == drv }), ", "))
	}
	return Event{Driver: d, Op: op, Specs: []event.Spec{*spec}}, nil
}

// ParseEvents parses a comma-separated list of events, dropping repeats and keeping the first-seen order.
func ParseEvents(list string) ([]Event, error) {
	var evs []Event
	seen := map[string]bool{}
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		e, err := ParseEvent(s)
		if err != nil {
			return nil, err
		}
		if !seen[e.String()] {
			seen[e.String()] = true
			evs = append(evs, e)
		}
	}
	return evs, nil
}

// AllEvents returns every event a handler can be generated for: domain:<op> for every domain op, then
// every row of the event table, in the order of hookkit's generated methods.
func AllEvents() []Event {
	var evs []Event
	for _, op := range event.Ops(event.Driver.IsDomain) {
		e, _ := ParseEvent(DomainDriver + ":" + op)
		evs = append(evs, e)
	}
	for _, s := range event.Table {
		evs = append(evs, Event{Driver: string(s.Driver), Op: s.Op, Specs: []event.Spec{s}})
	}
	return evs
}

// Method returns the Router method that registers a handler for the event: OnQEMUPrepare,
// OnNetworkPortCreated, OnDomainStart.
func (e Event) Method() string { return "On" + e.goName() }

// Func returns the name of the generated handler function: the method name starting in lower case
// (onQEMUPrepare).
func (e Event) Func() string { return "on" + e.goName() }

// goName is the event's part of the method names, spelled by package event's rule ("domain" stands for
// every domain driver): QEMUPrepare, NetworkPortCreated, DomainStart.
func (e Event) goName() string { return event.Driver(e.Driver).GoName() + event.OpGoName(e.Op) }

// FileBase returns the base name of the handler's file, without .go: on_qemu_prepare,
// on_network_port_created.
func (e Event) FileBase() string {
	return "on_" + e.Driver + "_" + strings.ReplaceAll(e.Op, "-", "_")
}

// Kind returns the kind of handler the event takes: filter (migrate, restore), domain, network, port or
// daemon.
func (e Event) Kind() string {
	s := e.Specs[0]
	switch {
	case s.Filter:
		return "filter"
	case s.Payload == event.PayloadDomain:
		return "domain"
	case s.Payload == event.PayloadNetworkPort:
		return "port"
	case s.Payload == event.PayloadNone:
		return "daemon"
	}
	return "network" // PayloadNetwork and the legacy PayloadNetworkDomain
}

// Drivers returns the drivers whose calls the event's handler receives, in table order.
func (e Event) Drivers() []event.Driver {
	var ds []event.Driver
	for _, s := range e.Specs {
		ds = append(ds, s.Driver)
	}
	return ds
}

// Handler returns the data of the handler templates for package pkg.
func (e Event) Handler(pkg string) templates.Handler {
	s := e.Specs[0]
	h := templates.Handler{
		Package: pkg, Hookkit: HookkitModule, Event: e.String(), Driver: e.Driver, Op: e.Op,
		Method: e.Method(), Func: e.Func(), Kind: e.Kind(), Doc: e.Kind() == "filter",
		Argv:   fmt.Sprintf("%s %s %s %s", s.Object, s.Op, s.SubOp, s.Extra),
		Legacy: s.Legacy,
	}
	for _, d := range e.Drivers() {
		h.Drivers = append(h.Drivers, templates.Driver{Name: string(d), Const: d.GoName()})
	}
	if len(e.Specs) == 1 {
		h.When, h.Failure = s.When, s.FailureText
	}
	return h
}

// installDrivers returns the distinct drivers of evs, in the order of event.Drivers.
func installDrivers(evs []Event) []string {
	set := map[event.Driver]bool{}
	for _, e := range evs {
		for _, d := range e.Drivers() {
			set[d] = true
		}
	}
	var ds []string
	for _, d := range event.Drivers {
		if set[d] {
			ds = append(ds, string(d))
		}
	}
	return ds
}
