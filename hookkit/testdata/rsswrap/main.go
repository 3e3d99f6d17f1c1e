// Command rsswrap runs a command with its stdio and reports the command's peak RSS in bytes to the file
// named by $RSSWRAP_OUT, which it removes from the command's environment. The tests need it because a
// child forked straight from the (large) test binary inherits the test's RSS in its rusage: Go starts
// children with vfork, and the kernel folds the pre-exec memory into ru_maxrss.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	out := os.Getenv("RSSWRAP_OUT")
	os.Unsetenv("RSSWRAP_OUT")
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "rsswrap:", err)
		os.Exit(125)
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	_ = os.WriteFile(out, fmt.Appendf(nil, "%d", rss), 0o600)
	os.Exit(cmd.ProcessState.ExitCode())
}
