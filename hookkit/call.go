package hookkit

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"libvirt.org/go/libvirtxml"
)

// Call is one hook invocation, as http.Request is one HTTP request: what libvirt passed in argv and on stdin,
// the context the handler runs under, and the typed views of the payload.
//
// A Call is handed to handlers by the Router; tests build one through package hookkittest. A Call and
// its payloads are safe for use by the functions a handler starts with Go.
type Call struct {
	Invocation

	ctx    context.Context
	logger func() *slog.Logger // the call's logger, built on first use
	input  []byte

	once    sync.Once
	index   *docIndex
	scanErr error

	mu      sync.Mutex // guards what follows
	output  []byte     // set by ReplaceXML on filter calls
	domain  *Domain
	network *Network
	port    *NetworkPort
	daemon  *Daemon
	group   *group // the functions started by Go
}

// Context returns the call's context: cancelled when the deadline passes or the hook gets SIGTERM.
func (c *Call) Context() context.Context {
	if c.ctx == nil {
		return context.Background()
	}
	return c.ctx
}

// Logger returns the hook's logger, with the invocation as attributes. It never writes to stdout or stderr.
func (c *Call) Logger() *slog.Logger {
	if c.logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.logger()
}

// Input returns stdin exactly as libvirt wrote it. For migrate it carries secrets: never log it.
func (c *Call) Input() []byte { return c.input }

// XML returns the current document: what the last ReplaceXML set, or the input.
func (c *Call) XML() []byte {
	if out := c.replaced(); out != nil {
		return out
	}
	return c.input
}

// replaced returns what ReplaceXML set, or nil.
func (c *Call) replaced() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.output
}

// ErrNotFilter is returned by ReplaceXML for an invocation whose stdout libvirt does not read.
var ErrNotFilter = errors.New("libvirt ignores the output of this hook: only migrate and restore are filters")

// ReplaceXML sets the document libvirt will use instead of its own (migrate and restore filters only).
// The Router writes it to stdout once, after every handler has returned without error; nothing is written
// when any handler fails. Handlers that run later see it through XML.
func (c *Call) ReplaceXML(doc []byte) error {
	if !c.Filter() {
		return ErrNotFilter
	}
	doc = bytes.Clone(doc)
	c.mu.Lock()
	c.output = doc
	c.mu.Unlock()
	return nil
}

// scan indexes the input once; its error is the error of every payload accessor.
func (c *Call) scan() (*docIndex, error) {
	c.once.Do(func() {
		root := "domain"
		if c.Spec != nil {
			root = c.Spec.Payload.Root()
		} else if c.Driver == event.Network {
			root = "hookData"
		}
		c.index, c.scanErr = scanDocument(c.input, root)
	})
	return c.index, c.scanErr
}

// Domain returns the <domain> payload of a domain hook (qemu, lxc, libxl, bhyve) or of the legacy network
// plugged/unplugged hooks. It fails when stdin is not a well-formed document holding a <domain>.
func (c *Call) Domain() (*Domain, error) {
	ix, err := c.scan()
	if err != nil {
		return nil, err
	}
	if !ix.hasDomain {
		return nil, &XMLError{Offset: -1, Msg: fmt.Sprintf("no <domain> in the <%s> document", ix.root)}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.domain == nil {
		c.domain = &Domain{Call: c, ident: &ix.dom, span: ix.domSpan}
	}
	return c.domain, nil
}

// Network returns the <network> of a network hook's <hookData>.
func (c *Call) Network() (*Network, error) {
	ix, err := c.scan()
	if err != nil {
		return nil, err
	}
	if !ix.hasNet {
		return nil, &XMLError{Offset: -1, Msg: fmt.Sprintf("no <network> in the <%s> document", ix.root)}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.network == nil {
		c.network = &Network{Call: c, ident: &ix.net, span: ix.netSpan}
	}
	return c.network, nil
}

// Port returns the <networkport> of a port-created or port-deleted hook's <hookData>.
func (c *Call) Port() (*NetworkPort, error) {
	ix, err := c.scan()
	if err != nil {
		return nil, err
	}
	if !ix.hasPort {
		return nil, &XMLError{Offset: -1, Msg: fmt.Sprintf("no <networkport> in the <%s> document", ix.root)}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.port == nil {
		c.port = &NetworkPort{Call: c, ident: &ix.port, span: ix.portSpan}
	}
	return c.port, nil
}

// Daemon returns the view of a daemon hook (start, shutdown, reload), which has no payload.
func (c *Call) Daemon() (*Daemon, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.daemon == nil {
		c.daemon = &Daemon{Call: c}
	}
	return c.daemon, nil
}

// lazyModel is a payload's libvirtxml model, parsed on first use, once, also when several goroutines ask
// for it at the same time. It holds the model as an any, not in a field of the model's type: a payload
// whose type named a libvirtxml type would reach, through its type descriptor, the whole libvirtxml model,
// and the linker would keep every UnmarshalXML method of it in every hook, Config called or not. Kept out,
// a hook that never calls Config links none of them (docs/benchmarks.md, "Sixth pass").
type lazyModel struct {
	once sync.Once
	v    any
	err  error
}

// model returns the model l holds, building it on first use. When build panics, the panic goes on to
// the caller (the Router's recover answers it), and every later call returns errModelPanicked: the Once
// is spent, and no model is ever handed out half built.
func model[T any](l *lazyModel, build func() (*T, error)) (*T, error) {
	l.once.Do(func() {
		l.err = errModelPanicked
		l.v, l.err = build()
	})
	if l.err != nil {
		return nil, l.err
	}
	v, _ := l.v.(*T)
	return v, nil
}

// errModelPanicked is what Config returns after its parse panicked in an earlier call.
var errModelPanicked = errors.New("the configuration could not be parsed: its parse panicked earlier in this call")

// Domain is the payload of a domain hook: the <domain> libvirt wrote on stdin. It embeds the Call, so
// dom.Context(), dom.Op and dom.Reason work as on the Call.
type Domain struct {
	*Call
	ident  *domainIdent
	span   span
	config lazyModel
}

// Name returns the domain's <name>.
func (d *Domain) Name() string { return d.ident.name }

// UUID returns the domain's <uuid>.
func (d *Domain) UUID() string { return d.ident.uuid }

// Type returns the domain's type attribute: kvm, qemu, lxc, xen, bhyve...
func (d *Domain) Type() string { return d.ident.typ }

// ID returns the domain's id attribute, present only while it runs (not in stopped and release).
func (d *Domain) ID() (id int, ok bool) {
	id, err := strconv.Atoi(d.ident.id)
	return id, err == nil
}

// Config returns the whole <domain> as libvirt's own Go model, parsed on first use.
func (d *Domain) Config() (*libvirtxml.Domain, error) {
	return model(&d.config, func() (*libvirtxml.Domain, error) {
		var cfg libvirtxml.Domain
		if err := cfg.Unmarshal(string(d.input[d.span.start:d.span.end])); err != nil {
			return nil, fmt.Errorf("parse <domain>: %w", err)
		}
		return &cfg, nil
	})
}

// MetadataXML returns the bytes of the element in namespace ns under <metadata>, as libvirt wrote them.
func (d *Domain) MetadataXML(ns string) ([]byte, bool) {
	for _, m := range d.ident.metadata {
		if m.ns == ns {
			return d.input[m.span.start:m.span.end], true
		}
	}
	return nil, false
}

// Metadata decodes the element in namespace ns under the domain's <metadata> into v with encoding/xml,
// so per-VM configuration lives in the domain itself (virsh metadata --uri ns --key app --set '<cfg .../>').
// It returns found=false and no error when the domain has no such element, and an error naming the
// namespace when the element does not decode.
func (d *Domain) Metadata(ns string, v any) (found bool, err error) {
	for _, m := range d.ident.metadata {
		if m.ns != ns {
			continue
		}
		if err := decodeElement(d.input[m.span.start:m.span.end], m.inherited, v); err != nil {
			return true, fmt.Errorf("metadata %s: %w", ns, err)
		}
		return true, nil
	}
	return false, nil
}

// decodeElement decodes one element, adding the namespace declarations it inherited from its ancestors.
func decodeElement(elem []byte, inherited []xml.Attr, v any) error {
	if len(inherited) == 0 {
		return xml.Unmarshal(elem, v)
	}
	var b bytes.Buffer
	b.WriteString("<hookkit-wrap")
	for _, a := range inherited {
		if a.Name.Space == "" {
			b.WriteString(" xmlns=\"")
		} else {
			b.WriteString(" xmlns:" + a.Name.Local + "=\"")
		}
		_ = xml.EscapeText(&b, []byte(a.Value))
		b.WriteString("\"")
	}
	b.WriteString(">")
	b.Write(elem)
	b.WriteString("</hookkit-wrap>")
	dec := xml.NewDecoder(&b)
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local != "hookkit-wrap" {
			return dec.DecodeElement(v, &se)
		}
	}
}

// Network is the payload of a network hook: the <network> inside the <hookData> libvirt wrote on stdin.
type Network struct {
	*Call
	ident  *networkIdent
	span   span
	config lazyModel
}

// Name returns the network's <name>.
func (n *Network) Name() string { return n.ident.name }

// UUID returns the network's <uuid>.
func (n *Network) UUID() string { return n.ident.uuid }

// Bridge returns the name of the network's host bridge, or "" when it has none.
func (n *Network) Bridge() string { return n.ident.bridge }

// Config returns the whole <network> as libvirt's own Go model, parsed on first use.
func (n *Network) Config() (*libvirtxml.Network, error) {
	return model(&n.config, func() (*libvirtxml.Network, error) {
		var cfg libvirtxml.Network
		if err := cfg.Unmarshal(string(n.input[n.span.start:n.span.end])); err != nil {
			return nil, fmt.Errorf("parse <network>: %w", err)
		}
		return &cfg, nil
	})
}

// NetworkPort is the payload of a port-created or port-deleted hook: the <networkport> inside <hookData>.
type NetworkPort struct {
	*Call
	ident  *portIdent
	span   span
	config lazyModel
}

// UUID returns the port's own <uuid>.
func (p *NetworkPort) UUID() string { return p.ident.uuid }

// OwnerName returns the name of the domain that owns the port.
func (p *NetworkPort) OwnerName() string { return p.ident.ownerName }

// OwnerUUID returns the UUID of the domain that owns the port.
func (p *NetworkPort) OwnerUUID() string { return p.ident.ownerUUID }

// Group returns the port's portgroup, or "".
func (p *NetworkPort) Group() string { return p.ident.group }

// MAC returns the port's MAC address.
func (p *NetworkPort) MAC() string { return p.ident.mac }

// Plug returns how the port is plugged into the host.
func (p *NetworkPort) Plug() PortPlug { return p.ident.plug }

// Network returns the network the port belongs to.
func (p *NetworkPort) Network() (*Network, error) { return p.Call.Network() }

// Config returns the whole <networkport> as libvirt's own Go model, parsed on first use.
func (p *NetworkPort) Config() (*libvirtxml.NetworkPort, error) {
	return model(&p.config, func() (*libvirtxml.NetworkPort, error) {
		var cfg libvirtxml.NetworkPort
		if err := cfg.Unmarshal(string(p.input[p.span.start:p.span.end])); err != nil {
			return nil, fmt.Errorf("parse <networkport>: %w", err)
		}
		return &cfg, nil
	})
}

// Daemon is the view of a daemon hook (start, shutdown, reload): it has no payload; Extra holds "start",
// "shutdown" or "SIGHUP".
type Daemon struct {
	*Call
}
