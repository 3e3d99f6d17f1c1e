// Command contracthook is the hook the process-level tests build: what it does depends on argv[1] (the
// domain name), so one binary exercises every exit path as libvirt would see it.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit"
)

func main() {
	r := hookkit.New(hookkit.WithTimeout(2*time.Second), hookkit.WithLogFile(os.Getenv("CONTRACT_LOG")))
	behave := func(d *hookkit.Domain) error {
		switch d.Object {
		case "fail":
			return errors.New("refused by policy")
		case "panic":
			var m map[string]int
			m["boom"]++
		case "goexit":
			runtime.Goexit() // what t.FailNow does: the handler never returns
		case "gopanic": // a panic in a function started by Call.Go
			d.Go(func(ctx context.Context) error {
				var m map[string]int
				m["boom"]++
				return nil
			})
		case "rawgo": // the same panic on a goroutine of the hook's own: nothing can catch it
			go func() {
				var m map[string]int
				m["boom"]++
			}()
			select {} // the panic ends the process first
		case "logprintf": // the log package's default output is the process's stderr
			log.SetFlags(0)
			log.Printf("debug: checking %s", d.Name())
			return errors.New("refused by policy")
		case "sigpipe": // is SIGPIPE ignored in a program the handler runs?
			out, err := exec.Command("/bin/grep", "SigIgn", "/proc/self/status").Output()
			if err != nil {
				return err
			}
			mask, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(string(out), "SigIgn:")), 16, 64)
			if err != nil {
				return err
			}
			return fmt.Errorf("SIGPIPE ignored in a child: %v", mask&(1<<(13-1)) != 0)
		case "typednil": // a nil *policyError returned as an error: its Error method panics
			var pe *policyError
			return pe
		case "honours": // returns as soon as its context ends
			<-d.Context().Done()
			return d.Context().Err()
		case "hang":
			select {} // ignores its context: the deadline must still answer libvirt
		case "wait":
			<-d.Context().Done()
			time.Sleep(10 * time.Second) // ignores cancellation too
		case "env":
			wd, _ := os.Getwd()
			return fmt.Errorf("driver=%s cwd=%s env=%s", d.Driver, wd, strings.Join(os.Environ(), ","))
		case "noisy", "noisy-keep": // a filter whose handler, and a program it starts, print on stdout
			fmt.Println("debug: restoring", d.Name())
			cmd := exec.Command("/bin/sh", "-c", "echo child noise; sleep 0.2 &")
			cmd.Stdout = os.Stdout
			if err := cmd.Run(); err != nil {
				return err
			}
			if d.Object == "noisy" {
				return d.ReplaceXML([]byte(strings.Replace(string(d.XML()), "<name>noisy</name>", "<name>quiet</name>", 1)))
			}
		case "filter":
			return d.ReplaceXML([]byte(strings.Replace(string(d.XML()), "<name>filter</name>", "<name>filtered</name>", 1)))
		}
		return nil
	}
	r.OnDomainPrepare(behave)
	r.OnDomainRestore(behave)
	r.Main()
}

// policyError is an error type whose Error method dereferences its receiver.
type policyError struct{ reason string }

func (e *policyError) Error() string { return "refused: " + e.reason }
