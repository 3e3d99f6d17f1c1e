package hookkit

import (
	"context"
	"sync"
)

// group is the set of functions a call started with Go: an errgroup.Group that also turns a panic or a
// runtime.Goexit into the group's error.
type group struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	once   sync.Once
	err    error // the first error; written once, read after wg.Wait
}

// Go runs fn on a goroutine of its own, for a handler that does several slow things at once (set up two
// bridges, wait for three devices). fn gets a context that ends with the call's (deadline, SIGTERM) or
// as soon as one of the functions started by Go fails.
//
// Use Go rather than the go statement: a panic in a goroutine started with go ends the hook with exit
// status 2 and a Go stack trace on stderr, which libvirt shows to the user as its error message. A
// panic in fn is recovered instead, like a handler's: it becomes the error "panic: <value>", its stack
// goes to the log only.
//
// The call answers libvirt only once every function started by Go has returned. The first error among
// them fails the call, unless a handler failed first (then their context is cancelled with the
// handler's error) or a handler got that error from Wait: then the handler decides, by what it returns.
// Go must be called before the handlers return, from a handler or from a function that Go started.
func (c *Call) Go(fn func(ctx context.Context) error) {
	g := c.ensureGroup()
	g.wg.Add(1)
	go guard(c.Logger, "function started by Go", func() error { return fn(g.ctx) }, func(err error) {
		if err != nil {
			g.fail(err)
		}
		g.wg.Done()
	})
}

// Wait waits until every function started by Go has returned and gives the first error among them, or
// nil. It returns at once when Go was never called. The error it returns is the handler's to return or
// to handle: the Router does not fail the call for it again. Functions started by Go after Wait form a
// new group, with a fresh context, whose first error counts again.
func (c *Call) Wait() error {
	g := c.currentGroup()
	if g == nil {
		return nil
	}
	g.wg.Wait()
	c.mu.Lock()
	if c.group == g {
		c.group = nil
	}
	c.mu.Unlock()
	g.cancel(nil) // every function has returned: release the context
	if fe, ok := g.err.(*formattedError); ok {
		return fe.err // the function's own error value, as it returned it
	}
	return g.err
}

// finish ends the call's group after the handlers ran: it cancels the functions' context with the
// handlers' error, if any, and waits for them. It returns the handlers' error, else the group's.
func (c *Call) finish(err error) error {
	g := c.currentGroup()
	if g == nil {
		return err
	}
	if err != nil {
		g.cancel(err)
	}
	g.wg.Wait()
	g.cancel(nil) // every function has returned: release the context
	if err == nil {
		err = g.err
	}
	return err
}

// currentGroup returns the call's group, or nil when Go was never called.
func (c *Call) currentGroup() *group {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.group
}

func (c *Call) ensureGroup() *group {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.group == nil {
		ctx, cancel := context.WithCancelCause(c.Context())
		c.group = &group{ctx: ctx, cancel: cancel}
	}
	return c.group
}

// fail records the group's first error and cancels the context of the others.
func (g *group) fail(err error) {
	g.once.Do(func() {
		g.err = err
		g.cancel(err)
	})
}
