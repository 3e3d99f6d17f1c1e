// Package childhook lets optional hookkit packages take over a process before Router.Main does anything:
// package detach registers its MaybeRunChild here from init, so that a hook binary that imports detach
// can re-execute itself as a detached supervisor, and a hook that does not import it links none of it.
package childhook

var hooks []func()

// Register adds f to the functions Run calls; call it from init.
func Register(f func()) { hooks = append(hooks, f) }

// Run calls the registered functions in order. A function that takes the process over never returns.
func Run() {
	for _, f := range hooks {
		f()
	}
}
