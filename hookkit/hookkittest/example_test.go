package hookkittest_test

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

// Test a router in-process with the stdin libvirt really sends, as httptest tests an http.Handler.
func ExampleRun() {
	r := hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	r.OnDomainPrepare(func(dom *hookkit.Domain) error { return errors.New("maintenance window") })

	res := hookkittest.Run(r, hookkittest.Event(event.QEMU, "prepare"))
	fmt.Println(res.Code)
	fmt.Print(res.Stderr)
	// Output:
	// 1
	// qemu: qemu hooktest prepare begin: maintenance window
}

// Event fills argv and stdin from the event table and real captures.
func ExampleEvent() {
	c := hookkittest.Event(event.QEMU, "release").WithExtra("destroyed")
	fmt.Println(c.Args())
	fmt.Println(hookkittest.Event(event.Network, "port-created").InDir("10-bandwidth").Path())
	// Output:
	// [/etc/libvirt/hooks/qemu hooktest release end destroyed]
	// /etc/libvirt/hooks/network.d/10-bandwidth
}
