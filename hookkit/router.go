package hookkit

import (
	"log/slog"
	"path"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/event"
)

// Handler handles one hook invocation, as http.Handler handles one request. A non-nil error fails the
// hook: libvirt aborts the operation where the event allows it (see the event table).
type Handler interface {
	ServeHook(c *Call) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(c *Call) error

// ServeHook calls f(c).
func (f HandlerFunc) ServeHook(c *Call) error { return f(c) }

// Middleware wraps a Handler, as func(http.Handler) http.Handler does.
type Middleware func(Handler) Handler

// Matcher decides whether a route applies to a call; see Name, UUID, HasMetadata and Drivers.
type Matcher func(c *Call) bool

// Router routes hook invocations to handlers, as http.ServeMux routes requests. Register handlers with the
// generated On... methods (OnDomainPrepare, OnQEMURelease, OnNetworkPortCreated, OnDaemonReload...), with
// Handle for any driver and op, or with CatchAll; then call Main (or Run in tests).
//
// Several handlers may be registered for one event: they run in registration order and the first error
// stops the chain. Routers returned by Match share the routes of the router they came from.
type Router struct {
	mux      *mux
	parent   *Router
	matchers []Matcher
	mws      []Middleware
}

type route struct {
	keys  []event.Key
	scope *Router
	h     Handler
}

type mux struct {
	cfg      config
	routes   []*route
	catchAll []*route // no keys: they run when no route ran
}

type config struct {
	name     string
	driver   Driver
	timeout  time.Duration
	strict   bool
	logger   *slog.Logger
	logFile  string
	logLevel slog.Level
	maxInput int64
}

// DefaultTimeout is how long a hook may run before Run gives up: libvirt itself waits forever.
const DefaultTimeout = 30 * time.Second

// DefaultMaxInput bounds how much stdin a hook reads: libvirt's largest domain documents are a few
// hundred kilobytes.
const DefaultMaxInput = 16 << 20

// Option configures a Router.
type Option func(*config)

// WithName sets the program name that starts every error line (default: the basename of argv[0]).
func WithName(name string) Option { return func(c *config) { c.name = name } }

// WithDriver fixes the driver instead of deriving it from argv[0]; meant for tests and for hooks started
// by wrappers.
func WithDriver(d Driver) Option { return func(c *config) { c.driver = d } }

// WithTimeout sets the deadline of a call (default DefaultTimeout; 0 or less disables it).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// Strict makes unknown drivers, ops and subops fail (exit 1) instead of being logged and ignored. By
// default they succeed, so that a libvirt upgrade that adds an op cannot block VMs.
func Strict() Option { return func(c *config) { c.strict = true } }

// WithLogger sends the hook's logs to l instead of syslog or the log file.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithLogFile sets the file logs go to when syslog is unavailable (default /var/log/hookkit/<name>.log).
func WithLogFile(path string) Option { return func(c *config) { c.logFile = path } }

// WithLogLevel sets the minimum level of the default logger (default slog.LevelInfo).
func WithLogLevel(l slog.Level) Option { return func(c *config) { c.logLevel = l } }

// WithMaxInput bounds how many bytes of stdin are read (default DefaultMaxInput); more fails the call.
func WithMaxInput(n int64) Option { return func(c *config) { c.maxInput = n } }

// New returns a Router with no routes.
func New(opts ...Option) *Router {
	cfg := config{timeout: DefaultTimeout, maxInput: DefaultMaxInput, logLevel: slog.LevelInfo}
	for _, o := range opts {
		o(&cfg)
	}
	return &Router{mux: &mux{cfg: cfg}}
}

// Use adds middleware. On the router returned by New it wraps every dispatched call, the catch-all
// included, once per call; on a router returned by Match it wraps each handler registered through it.
func (r *Router) Use(mw ...Middleware) { r.mws = append(r.mws, mw...) }

// Match returns a router whose routes apply only to calls for which every matcher returns true, e.g.
// r.Match(hookkit.Name("web-*")).OnDomainStart(fn). It shares the routes of r.
func (r *Router) Match(ms ...Matcher) *Router {
	return &Router{mux: r.mux, parent: r, matchers: ms}
}

// Handle registers h for the op of driver, including ops the event table does not know yet.
func (r *Router) Handle(driver Driver, op string, h Handler) {
	r.handle(h, event.Key{Driver: driver, Op: op})
}

// HandleFunc registers fn for the op of driver.
func (r *Router) HandleFunc(driver Driver, op string, fn func(*Call) error) {
	r.Handle(driver, op, HandlerFunc(fn))
}

// CatchAll registers h for every call no route matched, known events or not, that r's matchers accept:
// r.Match(hookkit.Drivers(event.QEMU)).CatchAll(h) takes only qemu calls. When several catch-alls accept
// a call they run in registration order, and the first error stops them, as handlers of one event do.
func (r *Router) CatchAll(h Handler) { r.mux.catchAll = append(r.mux.catchAll, &route{scope: r, h: h}) }

func (r *Router) handle(h Handler, keys ...event.Key) {
	r.mux.routes = append(r.mux.routes, &route{keys: keys, scope: r, h: h})
}

// matches reports whether every matcher of the route's scope and its parents accepts c.
func (r *Router) matches(c *Call) bool {
	for s := r; s != nil; s = s.parent {
		for _, m := range s.matchers {
			if !m(c) {
				return false
			}
		}
	}
	return true
}

// wrap applies the middleware of the scopes between r and the root (the root's own wraps the whole call).
func (r *Router) wrap(h Handler) Handler {
	for s := r; s != nil && s.parent != nil; s = s.parent {
		for i := len(s.mws) - 1; i >= 0; i-- {
			h = s.mws[i](h)
		}
	}
	return h
}

// Name matches calls whose object (domain or network name) matches one of the glob patterns (path.Match).
func Name(patterns ...string) Matcher {
	return func(c *Call) bool {
		for _, p := range patterns {
			if ok, _ := path.Match(p, c.Object); ok {
				return true
			}
		}
		return false
	}
}

// UUID matches domain calls for one of the given domain UUIDs, and network calls for one of the given
// network UUIDs.
func UUID(uuids ...string) Matcher {
	return func(c *Call) bool {
		var id string
		if d, err := c.Domain(); err == nil {
			id = d.UUID()
		} else if n, err := c.Network(); err == nil {
			id = n.UUID()
		}
		for _, u := range uuids {
			if id != "" && id == u {
				return true
			}
		}
		return false
	}
}

// HasMetadata matches domain calls whose <metadata> holds an element in namespace ns.
func HasMetadata(ns string) Matcher {
	return func(c *Call) bool {
		d, err := c.Domain()
		if err != nil {
			return false
		}
		_, ok := d.MetadataXML(ns)
		return ok
	}
}

// Drivers matches calls for one of the drivers.
func Drivers(ds ...Driver) Matcher {
	return func(c *Call) bool {
		for _, d := range ds {
			if c.Driver == d {
				return true
			}
		}
		return false
	}
}

// adapters from the typed handler functions of the generated On... methods.

func domainHandler(fn func(*Domain) error) Handler {
	return HandlerFunc(func(c *Call) error {
		d, err := c.Domain()
		if err != nil {
			return err
		}
		return fn(d)
	})
}

func networkHandler(fn func(*Network) error) Handler {
	return HandlerFunc(func(c *Call) error {
		n, err := c.Network()
		if err != nil {
			return err
		}
		return fn(n)
	})
}

func portHandler(fn func(*NetworkPort) error) Handler {
	return HandlerFunc(func(c *Call) error {
		p, err := c.Port()
		if err != nil {
			return err
		}
		return fn(p)
	})
}

func daemonHandler(fn func(*Daemon) error) Handler {
	return HandlerFunc(func(c *Call) error {
		d, _ := c.Daemon()
		return fn(d)
	})
}
