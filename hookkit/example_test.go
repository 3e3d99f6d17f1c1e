package hookkit_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

// A complete hook: refuse to start a VM whose metadata names no owner. Build it, install it as
// /etc/libvirt/hooks/qemu and libvirt calls it on every start; main would end with r.Main().
func Example() {
	type owner struct {
		Name string `xml:"name,attr"`
	}
	r := hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	r.OnDomainPrepare(func(dom *hookkit.Domain) error {
		var o owner
		found, err := dom.Metadata("https://example.com/owner/1", &o)
		if err != nil {
			return err
		}
		if !found || o.Name == "" {
			return fmt.Errorf("domain %s has no owner: virsh metadata %s --uri https://example.com/owner/1 --key o --set '<owner name=\"you\"/>'", dom.Name(), dom.Name())
		}
		return nil
	})

	// What libvirt would see, using the captured stdin of a real qemu prepare call:
	res := hookkittest.Run(r, hookkittest.Event(event.QEMU, "prepare"))
	fmt.Print(res.Code, " ", res.Stderr)
	// Output: 1 qemu: qemu hooktest prepare begin: domain hooktest has no owner: virsh metadata hooktest --uri https://example.com/owner/1 --key o --set '<owner name="you"/>'
}

func ExampleRouter_Match() {
	r := hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	// Only for VMs whose name starts with "db-"; other VMs start untouched.
	r.Match(hookkit.Name("db-*")).OnDomainStart(func(dom *hookkit.Domain) error {
		return errors.New("database VMs are frozen today")
	})
	fmt.Println(hookkittest.Run(r, hookkittest.Event(event.QEMU, "start")).Code)
	fmt.Print(hookkittest.Run(r, hookkittest.Event(event.QEMU, "start").WithObject("db-1")).Stderr)
	// Output:
	// 0
	// qemu: qemu db-1 start begin: database VMs are frozen today
}

func ExampleRouter_Use() {
	r := hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	// Middleware wraps every call, like func(http.Handler) http.Handler.
	r.Use(func(next hookkit.Handler) hookkit.Handler {
		return hookkit.HandlerFunc(func(c *hookkit.Call) error {
			start := time.Now()
			err := next.ServeHook(c)
			c.Logger().Info("hook done", "took", time.Since(start), "error", err)
			fmt.Println("middleware saw", c.Driver, c.Op)
			return err
		})
	})
	r.OnNetworkPortCreated(func(p *hookkit.NetworkPort) error {
		fmt.Println("port for", p.OwnerName(), "on bridge", p.Plug().Bridge)
		return nil
	})
	hookkittest.Run(r, hookkittest.Event(event.Network, "port-created"))
	// Output:
	// port for hooktest-net on bridge virbr-hook
	// middleware saw network port-created
}

func ExampleDomain_Metadata() {
	// The <metadata> element a VM carries; libvirt keeps it across restarts and migrations:
	//   virsh metadata vm1 --uri https://example.com/pf/1 --key pf --set '<forward host="8080" guest="80"/>'
	type forward struct {
		XMLName xml.Name `xml:"https://example.com/pf/1 forward"`
		Host    int      `xml:"host,attr"`
		Guest   int      `xml:"guest,attr"`
	}
	doc := `<domain type='kvm'><name>vm1</name><uuid>8f0c1a52-8f5e-4b0a-9d7f-3b1b0c0e0a11</uuid><metadata>` +
		`<pf:forward xmlns:pf="https://example.com/pf/1" host="8080" guest="80"/></metadata></domain>`
	r := hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	r.OnDomainStarted(func(dom *hookkit.Domain) error {
		var f forward
		found, err := dom.Metadata("https://example.com/pf/1", &f)
		fmt.Println(found, err, f.Host, f.Guest)
		return err
	})
	hookkittest.Run(r, hookkittest.Event(event.QEMU, "started").WithStdin([]byte(doc)))
	// Output: true <nil> 8080 80
}

func ExampleRouter_OnDomainRelease() {
	r := hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	r.OnDomainRelease(func(dom *hookkit.Domain) error {
		// libvirt >= 10.5 passes why the VM stopped; "-" (ReasonNone) before.
		if dom.Reason == event.ReasonSaved || dom.Reason == event.ReasonMigrated {
			fmt.Println(dom.Name(), "will come back: keep its state")
			return nil
		}
		fmt.Println(dom.Name(), "is gone:", dom.Reason)
		return nil
	})
	hookkittest.Run(r, hookkittest.Event(event.QEMU, "release").WithExtra("from snapshot"))
	hookkittest.Run(r, hookkittest.Event(event.QEMU, "release").WithExtra("saved"))
	// Output:
	// hooktest is gone: from snapshot
	// hooktest will come back: keep its state
}

func ExampleCall_Go() {
	r := hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	r.OnDomainPrepare(func(dom *hookkit.Domain) error {
		// Two slow set-up steps at once. The call answers libvirt when both have returned; the first
		// error (or panic) fails it and cancels the other's context.
		dom.Go(func(ctx context.Context) error {
			return nil // e.g. create the VM's bridge
		})
		dom.Go(func(ctx context.Context) error {
			var disks []string
			_ = disks[0] // a bug: with the go statement, a Go stack dump would reach libvirt
			return nil
		})
		return nil
	})
	fmt.Print(hookkittest.Run(r, hookkittest.Event(event.QEMU, "prepare")).Stderr)
	// Output: qemu: qemu hooktest prepare begin: panic: runtime error: index out of range [0] with length 0
}
