package detach_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/detach"
)

// A started handler that needs virsh: calling it inline would deadlock, so it
// runs once the hook has exited and libvirt has released the domain's job.
func Example() {
	cmd := exec.Command("virsh", "attach-device", "vm1", "/etc/hookkit/usb.xml", "--live")
	pid, err := detach.Start(cmd, detach.Options{
		LogFile: "/var/log/hookkit/usb.log",
		Delay:   2 * time.Second, // let the guest boot a little
		Timeout: time.Minute,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println("attaching in the background, pid", pid)
}

// Go code runs in the background by registering it at package level; the
// re-executed hook binary finds it by name.
var notify = detach.Register("notify", func(ctx context.Context, args []string) error {
	return exec.CommandContext(ctx, "logger", "-t", "hookkit", "domain "+args[0]+" started").Run()
})

func ExampleRegister() {
	// in a started handler:
	if _, err := notify.Start(detach.Options{LogFile: "/var/log/hookkit/notify.log"}, "vm1"); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

// main of a program that does not use hookkit's Router.Main.
func ExampleMaybeRunChild() {
	detach.MaybeRunChild() // returns at once unless this process is a detached child
	// ... the rest of main
}
