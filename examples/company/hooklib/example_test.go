package hooklib_test

import (
	"fmt"
	"log/slog"

	"github.com/hookkit-dev/hookkit/examples/company/hooklib"
	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

// A team module next to the shared ones: composition is a list.
func ExampleInstall() {
	r := hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	hooklib.Install(r,
		hooklib.RequireOwner(hooklib.OwnerPolicy{Exempt: []string{"ci-*"}}),
		hooklib.Func("greeter", func(r *hookkit.Router) {
			r.OnQEMUStarted(func(dom *hookkit.Domain) error {
				fmt.Println("started", dom.Name())
				return nil
			})
		}),
	)
	res := hookkittest.Run(r, hookkittest.Event(event.QEMU, "prepare"))
	fmt.Println(res.Code)
	hookkittest.Run(r, hookkittest.Event(event.QEMU, "started"))
	// Output:
	// 1
	// started hooktest
}
