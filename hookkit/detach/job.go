package detach

import (
	"context"
	"fmt"
	"sync"
)

// Func is the body of a job: Go code run in the background by a re-executed copy
// of the program. ctx is cancelled on SIGTERM or SIGINT and when
// Options.Timeout expires; args are those given to Job.Start. Its output (the
// process's stdout and stderr) goes to Options.LogFile. A returned error is
// written to the log and makes the process exit with status 1.
type Func func(ctx context.Context, args []string) error

// Job is a registered Func.
type Job struct {
	name string
}

var (
	jobsMu sync.RWMutex
	jobs   = map[string]Func{}
)

// Register makes fn runnable in the background under name and returns the Job
// that starts it. Register at package level (var x = detach.Register(...)) or in
// init, so that the re-executed program knows the job before MaybeRunChild looks
// it up. Like http.Handle, it panics when name is empty or already registered:
// that is a programming error, seen on the first run.
func Register(name string, fn Func) *Job {
	if name == "" || fn == nil {
		panic("detach: Register needs a name and a function")
	}
	jobsMu.Lock()
	defer jobsMu.Unlock()
	if _, dup := jobs[name]; dup {
		panic(fmt.Sprintf("detach: job %q registered twice", name))
	}
	jobs[name] = fn
	return &Job{name: name}
}

// Name returns the name the job was registered under.
func (j *Job) Name() string { return j.name }

// Start runs the job detached with args, as Start does for a command, and
// returns the supervisor's pid; the job runs in that process.
func (j *Job) Start(opts Options, args ...string) (pid int, err error) {
	if args == nil {
		args = []string{}
	}
	return start(&spec{Job: j.name, Args: args, Delay: opts.Delay, Timeout: opts.Timeout}, opts)
}

func lookupJob(name string) (Func, bool) {
	jobsMu.RLock()
	defer jobsMu.RUnlock()
	fn, ok := jobs[name]
	return fn, ok
}
