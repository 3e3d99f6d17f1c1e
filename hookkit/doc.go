// Package hookkit is a framework for libvirt hook programs, shaped like net/http: a hook invocation is a
// Call (like http.Request), a Router routes it to handlers (like http.ServeMux), middleware wraps
// handlers, and Main is a thin shell over Run, whose argv and streams are injected so that every exit path
// can be tested (see package hookkittest).
//
//	r := hookkit.New()
//	r.OnDomainPrepare(func(dom *hookkit.Domain) error {
//		if dom.Name() == "" {
//			return errors.New("domain without a name")
//		}
//		return nil
//	})
//	r.Main()
//
// libvirt runs hooks from /etc/libvirt/hooks/<driver> and /etc/libvirt/hooks/<driver>.d/<name> with argv
// "<object> <op> <subop> <extra>" and the domain XML (or <hookData> for networks) on stdin. A non-zero exit
// with a message on stderr aborts the operation where the event allows it; for migrate and restore,
// stdout replaces the XML. Package event holds the table of every invocation; the On... methods of Router
// are generated from it.
//
// Exit contract of Run: 0 on success; 1 with one line "<program>: <driver> <object> <op> <subop>: <error>"
// on stderr when a handler fails, panics, times out, or stdin is not the XML libvirt sends; 2 with a usage
// message when argv is too short. Unknown drivers, ops and subops succeed with a log line unless Strict is
// set. Logs never go to stdout or stderr.
//
// Handlers that do several things at once start them with Call.Go rather than the go statement: a panic
// on a goroutine of the hook's own making ends the process with a Go stack trace on stderr, which libvirt
// would show the user; Call.Go turns it into the call's one-line error.
package hookkit

//go:generate go run ./internal/cmd/eventgen -root ..
