package vfio

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/hookkit-dev/hookkit/examples/command"
)

// ConsoleStateKey is the hookkit/state key of what Detach changed on the host console.
const ConsoleStateKey = "vfio-console"

// ConsoleOptions configures the hand-over of the host console, for single-GPU passthrough: the host's
// only GPU drives its text console and its desktop, and the kernel will not unbind its driver while a
// framebuffer console or a display server holds it.
type ConsoleOptions struct {
	// HandOver, when a device Detach moves is the boot GPU (its sysfs boot_vga is 1), unbinds the
	// framebuffer consoles from the virtual terminals and the boot framebuffers (efi-framebuffer,
	// simple-framebuffer, vesa-framebuffer) from their drivers first, after stopping StopUnits; Reattach
	// undoes exactly that once the GPU is back with its driver.
	HandOver bool
	// StopUnits are systemd units stopped, in order, before the boot GPU is taken, and started again, in
	// reverse order, after it is given back: typically display-manager.service. A unit that is not
	// active (systemctl is-active) is neither stopped nor started.
	StopUnits []string
	// Runner runs systemctl (default command.Exec{}).
	Runner command.Runner
}

// ConsoleRecord is what Detach changed on the host console, kept in hookkit/state so that Reattach
// restores exactly that.
type ConsoleRecord struct {
	// Units are the systemd units stopped, in order.
	Units []string `json:"units,omitempty"`
	// VTConsoles are the entries of /sys/class/vtconsole unbound, e.g. "vtcon1".
	VTConsoles []string `json:"vtconsoles,omitempty"`
	// Framebuffers are the boot framebuffer platform devices unbound from their drivers.
	Framebuffers []Framebuffer `json:"framebuffers,omitempty"`
}

// Framebuffer is a platform device and the driver it was bound to.
type Framebuffer struct {
	Device string `json:"device"`
	Driver string `json:"driver"`
}

func (r ConsoleRecord) empty() bool {
	return len(r.Units) == 0 && len(r.VTConsoles) == 0 && len(r.Framebuffers) == 0
}

// check refuses a record (read back from hookkit/state) holding a name the hand-over never writes: its
// names are joined to sysfs paths and passed to systemctl.
func (r ConsoleRecord) check() error {
	if err := checkUnits(r.Units); err != nil {
		return fmt.Errorf("console record: %w", err)
	}
	for _, vc := range r.VTConsoles {
		if !vtconRE.MatchString(vc) {
			return fmt.Errorf("console record: %q is not a virtual terminal console", vc)
		}
	}
	for _, fb := range r.Framebuffers {
		if !framebufferRE.MatchString(fb.Device) || !driverRE.MatchString(fb.Driver) {
			return fmt.Errorf("console record: %q (driver %q) is not a boot framebuffer", fb.Device, fb.Driver)
		}
	}
	return nil
}

var (
	// unitRE is what a systemd unit name may look like. A leading '-' is refused: systemctl would take it
	// for an option.
	unitRE = regexp.MustCompile(`^[A-Za-z0-9@_:.\\][A-Za-z0-9@_:.\\-]{0,255}$`)
	// vtconRE and framebufferRE are the sysfs names the console hand-over touches.
	vtconRE       = regexp.MustCompile(`^vtcon[0-9]{1,3}$`)
	framebufferRE = regexp.MustCompile(`^(efi|simple|vesa)-framebuffer\.[0-9]{1,3}$`)
)

// checkUnits refuses a unit name that is not one.
func checkUnits(units []string) error {
	for _, u := range units {
		if !unitRE.MatchString(u) {
			return fmt.Errorf("stopUnits: %q is not a systemd unit name", u)
		}
	}
	return nil
}

// takesBootGPU reports whether one of devs is the GPU the firmware booted with, the one behind the host
// console.
func (b *Binder) takesBootGPU(devs []Device) bool {
	for _, d := range devs {
		v, err := b.fs.ReadFile(path.Join("bus/pci/devices", d.Addr.String(), "boot_vga"))
		if err == nil && strings.TrimSpace(string(v)) == "1" {
			return true
		}
	}
	return false
}

// consolePlan lists what stands between the host and the boot GPU: the configured units that are active,
// the virtual terminal consoles bound to a framebuffer console, and the boot framebuffer devices bound to
// a driver.
func (b *Binder) consolePlan(ctx context.Context) (ConsoleRecord, error) {
	var plan ConsoleRecord
	for _, u := range b.opts.Console.StopUnits {
		// Not active (or no systemctl): nothing to stop, and nothing to start again at release.
		if err := b.runner().Run(ctx, "systemctl", "is-active", "--quiet", u); err == nil {
			plan.Units = append(plan.Units, u)
		}
	}
	vtcons, err := b.fs.ReadDir("class/vtconsole")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return plan, fmt.Errorf("list virtual terminal consoles: %w", err)
	}
	for _, vc := range vtcons {
		if !vtconRE.MatchString(vc) {
			continue
		}
		name, err := b.fs.ReadFile(path.Join("class/vtconsole", vc, "name"))
		if err != nil {
			return plan, fmt.Errorf("console %s: %w", vc, err)
		}
		bound, err := b.vtconBound(vc)
		if err != nil {
			return plan, err
		}
		// "(M) frame buffer device" is fbcon; "(S) dummy device" and "(S) VGA+" are not in the GPU's way.
		if strings.Contains(string(name), "frame buffer") && bound {
			plan.VTConsoles = append(plan.VTConsoles, vc)
		}
	}
	devices, err := b.fs.ReadDir("bus/platform/devices")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return plan, fmt.Errorf("list platform devices: %w", err)
	}
	for _, dev := range devices {
		if !framebufferRE.MatchString(dev) {
			continue
		}
		drv, err := b.platformDriver(dev)
		if err != nil {
			return plan, err
		}
		if drv != "" {
			plan.Framebuffers = append(plan.Framebuffers, Framebuffer{Device: dev, Driver: drv})
		}
	}
	return plan, nil
}

// vtconBound reports whether the virtual terminal console vc is bound to its console driver.
func (b *Binder) vtconBound(vc string) (bool, error) {
	v, err := b.fs.ReadFile(path.Join("class/vtconsole", vc, "bind"))
	if err != nil {
		return false, fmt.Errorf("console %s: %w", vc, err)
	}
	return strings.TrimSpace(string(v)) == "1", nil
}

// platformDriver returns the driver a platform device is bound to, or "" when it has none.
func (b *Binder) platformDriver(dev string) (string, error) {
	return b.linkedDriver(path.Join("bus/platform/devices", dev), "framebuffer "+dev)
}

// releaseConsole stops the units, unbinds the consoles and the framebuffers of plan, in that order.
func (b *Binder) releaseConsole(ctx context.Context, plan ConsoleRecord) error {
	for _, u := range plan.Units {
		if err := b.runner().Run(ctx, "systemctl", "stop", u); err != nil {
			return fmt.Errorf("stop %s before taking the boot GPU: %w", u, err)
		}
	}
	for _, vc := range plan.VTConsoles {
		if err := b.fs.WriteFile(path.Join("class/vtconsole", vc, "bind"), []byte("0")); err != nil {
			return fmt.Errorf("unbind console %s from the boot GPU: %w", vc, err)
		}
	}
	for _, fb := range plan.Framebuffers {
		if err := b.fs.WriteFile(path.Join("bus/platform/drivers", fb.Driver, "unbind"), []byte(fb.Device)); err != nil {
			return fmt.Errorf("unbind framebuffer %s from %s: %w", fb.Device, fb.Driver, err)
		}
	}
	return nil
}

// restoreConsole undoes releaseConsole for rec, in reverse order, tries every step and returns every
// failure. A step that is already undone is skipped: rec may have been recorded by a Detach that stopped
// half way, and a GPU driver that took the console over may have removed a boot framebuffer for good. It
// runs even when ctx is done (a rollback after the deadline): a host left without its desktop is worse
// than a late answer, which Main's watchdog gives anyway.
func (b *Binder) restoreConsole(ctx context.Context, rec ConsoleRecord) error {
	if err := rec.check(); err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for i := len(rec.Framebuffers) - 1; i >= 0; i-- {
		fb := rec.Framebuffers[i]
		if _, err := b.fs.Stat(path.Join("bus/platform/devices", fb.Device)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if drv, err := b.platformDriver(fb.Device); err != nil || drv != "" {
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := b.fs.WriteFile(path.Join("bus/platform/drivers", fb.Driver, "bind"), []byte(fb.Device)); err != nil {
			errs = append(errs, fmt.Errorf("bind framebuffer %s to %s: %w", fb.Device, fb.Driver, err))
		}
	}
	for i := len(rec.VTConsoles) - 1; i >= 0; i-- {
		vc := rec.VTConsoles[i]
		if bound, err := b.vtconBound(vc); err == nil && bound {
			continue
		}
		if err := b.fs.WriteFile(path.Join("class/vtconsole", vc, "bind"), []byte("1")); err != nil {
			errs = append(errs, fmt.Errorf("bind console %s: %w", vc, err))
		}
	}
	for i := len(rec.Units) - 1; i >= 0; i-- {
		if err := b.runner().Run(ctx, "systemctl", "start", rec.Units[i]); err != nil {
			errs = append(errs, fmt.Errorf("start %s: %w", rec.Units[i], err))
		}
	}
	return errors.Join(errs...)
}

func (b *Binder) runner() command.Runner {
	if b.opts.Console.Runner != nil {
		return b.opts.Console.Runner
	}
	return command.Exec{}
}
