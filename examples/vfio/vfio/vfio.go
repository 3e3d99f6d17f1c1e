// Package vfio hands a domain's PCI host devices (a GPU and its audio function, a NIC...) to the vfio-pci
// driver before the VM starts and gives them back to their host driver after it stops: the job of the
// GPU-passthrough hooks, done through sysfs only (no shell, no modprobe, no virsh nodedev-detach, which
// would call back into libvirt and deadlock).
//
// On prepare, for each <hostdev mode='subsystem' type='pci' managed='no'> of the domain, it checks the
// device's IOMMU group can be handed to vfio (every other member passed through too, driverless, on
// vfio-pci or pci-stub, or a PCI bridge), records the device's current driver in hookkit/state, then
// writes
//
//	vfio-pci  > /sys/bus/pci/devices/<addr>/driver_override
//	<addr>    > /sys/bus/pci/drivers/<current driver>/unbind
//	<addr>    > /sys/bus/pci/drivers_probe
//
// and checks the device is now bound to vfio-pci. On release it undoes exactly what it did: clears
// driver_override, unbinds from vfio-pci and reprobes, so the kernel binds the device's own driver again.
// Devices already on vfio-pci (bound at boot with vfio-pci.ids=...) are left alone both ways.
//
// For single-GPU passthrough, Options.Console hands the host console over when the boot GPU is taken:
// it stops the configured systemd units (the display manager), unbinds the framebuffer consoles from the
// virtual terminals and the boot framebuffer from its driver, records that, and gives it all back after
// release.
//
// Every path goes through a SysFS rooted at Options.SysRoot, so tests point it at a temporary tree.
package vfio

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/lock"
	"github.com/hookkit-dev/hookkit/hookkit/state"
)

// VFIODriver is the name of the kernel driver the devices are handed to.
const VFIODriver = "vfio-pci"

// StateKey is the hookkit/state key of the devices a domain took over.
const StateKey = "vfio"

// LockName is the hookkit/lock name that serializes driver changes: drivers_probe is host-wide.
const LockName = "vfio"

// Options configures a Binder. The zero value works on /sys with the default state and lock directories.
type Options struct {
	// SysRoot is the sysfs mount point (default "/sys"); ignored when FS is set.
	SysRoot string
	// FS overrides the sysfs access, e.g. to simulate the kernel in tests.
	FS SysFS
	// State records which devices were taken over (default state.Open(state.Options{})).
	State *state.Store
	// LockDir holds the lock file (default lock.DefaultDir).
	LockDir string
	// LockTimeout bounds the wait for the lock (default 10s).
	LockTimeout time.Duration
	// IncludeManaged also handles managed='yes' devices, which libvirt normally detaches itself.
	IncludeManaged bool
	// Console hands the host console over when the boot GPU is passed through (single-GPU passthrough).
	Console ConsoleOptions
}

// Binder moves a domain's PCI devices to vfio-pci and back.
type Binder struct {
	fs   SysFS
	opts Options
}

// Device is one device a domain took over: its address and the driver it was bound to before ("" for
// none).
type Device struct {
	Addr   Addr   `json:"addr"`
	Driver string `json:"driver"`
}

// New returns a Binder with the defaults filled in.
func New(opts Options) *Binder {
	if opts.SysRoot == "" {
		opts.SysRoot = "/sys"
	}
	if opts.State == nil {
		opts.State = state.Open(state.Options{})
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 10 * time.Second
	}
	b := &Binder{fs: opts.FS, opts: opts}
	if b.fs == nil {
		b.fs = Dir(opts.SysRoot)
	}
	return b
}

// Register adds the binder to r: Detach on qemu prepare, Reattach on qemu release.
func (b *Binder) Register(r *hookkit.Router) {
	r.OnQEMUPrepare(func(dom *hookkit.Domain) error { return b.Detach(dom.Context(), dom) })
	r.OnQEMURelease(func(dom *hookkit.Domain) error { return b.Reattach(dom.Context(), dom) })
}

// Detach binds the domain's PCI host devices to vfio-pci. When one fails, the devices already moved are
// given back and the error (which aborts the start) names the device and the step.
func (b *Binder) Detach(ctx context.Context, dom *hookkit.Domain) error {
	cfg, err := dom.Config()
	if err != nil {
		return fmt.Errorf("vfio: %w", err)
	}
	addrs, err := Hostdevs(cfg, b.opts.IncludeManaged)
	if err != nil {
		return fmt.Errorf("vfio: %w", err)
	}
	if len(addrs) == 0 {
		return nil
	}
	uuid, err := state.NormalizeUUID(dom.UUID())
	if err != nil {
		return fmt.Errorf("vfio: %w", err)
	}
	if b.opts.Console.HandOver {
		if err := checkUnits(b.opts.Console.StopUnits); err != nil {
			return fmt.Errorf("vfio: %w", err)
		}
	}
	return b.locked(ctx, func() error {
		if _, err := b.fs.Stat(path.Join("bus/pci/drivers", VFIODriver)); err != nil {
			return fmt.Errorf("vfio: the %s driver is not loaded (load it at boot: echo vfio-pci > /etc/modules-load.d/vfio-pci.conf): %w", VFIODriver, err)
		}
		if err := b.checkGroups(addrs); err != nil {
			return fmt.Errorf("vfio: %w", err)
		}
		var todo []Device
		for _, a := range addrs {
			drv, err := b.driver(a)
			if err != nil {
				return fmt.Errorf("vfio: %w", err)
			}
			if drv == VFIODriver {
				dom.Logger().Info("vfio: device already bound to vfio-pci, left alone", "device", a.String())
				continue
			}
			todo = append(todo, Device{Addr: a, Driver: drv})
		}
		if len(todo) == 0 {
			return nil
		}
		var console ConsoleRecord
		if b.opts.Console.HandOver && b.takesBootGPU(todo) {
			if console, err = b.consolePlan(ctx); err != nil {
				return fmt.Errorf("vfio: %w", err)
			}
		}
		// Record first: if the hook dies half way, release still gives the devices and the console back.
		if err := b.opts.State.Save(uuid, StateKey, todo); err != nil {
			return fmt.Errorf("vfio: %w", err)
		}
		// rollback gives back the devices up to todo[moved] (it may be half moved) and the console, and
		// forgets them.
		rollback := func(cause error, moved int) error {
			for j := moved; j >= 0; j-- {
				if rerr := b.giveBack(todo[j]); rerr != nil {
					dom.Logger().Error("vfio: rollback failed", "device", todo[j].Addr.String(), "error", rerr.Error())
				}
			}
			if !console.empty() {
				if rerr := b.restoreConsole(ctx, console); rerr != nil {
					dom.Logger().Error("vfio: console rollback failed", "error", rerr.Error())
				}
			}
			for _, key := range []string{StateKey, ConsoleStateKey} {
				if derr := b.opts.State.Delete(uuid, key); derr != nil {
					dom.Logger().Error("vfio: forget what was rolled back", "key", key, "error", derr.Error())
				}
			}
			return fmt.Errorf("vfio: %w", cause)
		}
		if !console.empty() {
			if err := b.opts.State.Save(uuid, ConsoleStateKey, console); err != nil {
				return rollback(err, -1)
			}
			if err := b.releaseConsole(ctx, console); err != nil {
				return rollback(err, -1)
			}
			dom.Logger().Info("vfio: host console handed over", "units", strings.Join(console.Units, ","),
				"vtconsoles", strings.Join(console.VTConsoles, ","), "framebuffers", len(console.Framebuffers))
		}
		for i, d := range todo {
			if err := b.bind(d); err != nil {
				return rollback(err, i)
			}
			dom.Logger().Info("vfio: device bound to vfio-pci", "device", d.Addr.String(), "was", d.Driver)
		}
		return nil
	})
}

// Reattach gives back the devices Detach took over for the domain, as recorded, whatever the domain's
// XML says now, then the host console if Detach handed it over. It tries every step and reports every
// failure; the records are dropped either way, since release is the last call of the domain's life.
func (b *Binder) Reattach(ctx context.Context, dom *hookkit.Domain) error {
	uuid, err := state.NormalizeUUID(dom.UUID())
	if err != nil {
		return fmt.Errorf("vfio: %w", err)
	}
	return b.locked(ctx, func() error {
		var devs []Device
		if _, err := b.opts.State.Load(uuid, StateKey, &devs); err != nil {
			return fmt.Errorf("vfio: %w", err)
		}
		var console ConsoleRecord
		consoleFound, err := b.opts.State.Load(uuid, ConsoleStateKey, &console)
		if err != nil {
			return fmt.Errorf("vfio: %w", err)
		}
		if len(devs) == 0 && !consoleFound {
			return nil
		}
		var errs []error
		for i := len(devs) - 1; i >= 0; i-- {
			if err := b.giveBack(devs[i]); err != nil {
				errs = append(errs, err)
				continue
			}
			dom.Logger().Info("vfio: device given back", "device", devs[i].Addr.String(), "driver", devs[i].Driver)
		}
		if err := b.opts.State.Delete(uuid, StateKey); err != nil {
			errs = append(errs, err)
		}
		if consoleFound {
			// After the devices: the boot GPU must be back with its driver before the console binds to it.
			if err := b.restoreConsole(ctx, console); err != nil {
				errs = append(errs, err)
			} else {
				dom.Logger().Info("vfio: host console given back")
			}
			if err := b.opts.State.Delete(uuid, ConsoleStateKey); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("vfio: %w", errors.Join(errs...))
		}
		return nil
	})
}

// harmlessDrivers may drive a device that shares an IOMMU group with a passed-through one: vfio can
// still take the group.
var harmlessDrivers = map[string]bool{"": true, VFIODriver: true, "pci-stub": true, "pcieport": true}

// checkGroups fails when a device to pass through has no IOMMU group (the IOMMU is off), or shares its
// group with a device the domain does not pass through and that a host driver still holds: vfio needs
// every device of a group, and the start would fail later with a less helpful QEMU error. PCI bridges
// (class 0x0604) are fine.
func (b *Binder) checkGroups(addrs []Addr) error {
	mine := map[string]bool{}
	for _, a := range addrs {
		mine[a.String()] = true
	}
	for _, a := range addrs {
		dev := path.Join("bus/pci/devices", a.String())
		if _, err := b.fs.Stat(dev); err != nil {
			return fmt.Errorf("PCI device %s: not found in sysfs: %w", a, err)
		}
		group, err := b.fs.Readlink(path.Join(dev, "iommu_group"))
		if err != nil {
			return fmt.Errorf("PCI device %s has no IOMMU group: enable the IOMMU (intel_iommu=on or amd_iommu=on on the kernel command line): %w", a, err)
		}
		members, err := b.fs.ReadDir(path.Join(dev, "iommu_group", "devices"))
		if err != nil {
			return fmt.Errorf("PCI device %s: IOMMU group %s: %w", a, path.Base(group), err)
		}
		for _, m := range members {
			if mine[m] {
				continue
			}
			other, err := ParseAddr(m)
			if err != nil {
				continue // not a PCI function
			}
			if class, err := b.fs.ReadFile(path.Join("bus/pci/devices", m, "class")); err == nil && strings.HasPrefix(strings.TrimSpace(string(class)), "0x0604") {
				continue
			}
			drv, err := b.driver(other)
			if err != nil {
				return err
			}
			if !harmlessDrivers[drv] {
				return fmt.Errorf("PCI device %s shares IOMMU group %s with %s (bound to %s), which the domain does not pass through: add it as a <hostdev> too, or bind it to vfio-pci", a, path.Base(group), m, drv)
			}
		}
	}
	return nil
}

// driverRE is what a kernel driver name may look like; a link target outside it is not trusted in a path.
var driverRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)

// driver returns the name of the driver a device is bound to, or "" when it has none.
func (b *Binder) driver(a Addr) (string, error) {
	dev := path.Join("bus/pci/devices", a.String())
	if _, err := b.fs.Stat(dev); err != nil {
		return "", fmt.Errorf("PCI device %s: not found in sysfs: %w", a, err)
	}
	return b.linkedDriver(dev, "PCI device "+a.String())
}

// linkedDriver returns the name of the driver the sysfs device dev is bound to (its "driver" link), or ""
// when it has none; what names the device in errors.
func (b *Binder) linkedDriver(dev, what string) (string, error) {
	target, err := b.fs.Readlink(path.Join(dev, "driver"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	name := path.Base(target)
	if !driverRE.MatchString(name) {
		return "", fmt.Errorf("%s: unexpected driver link %q", what, target)
	}
	return name, nil
}

func (b *Binder) write(a Addr, step, name, data string) error {
	if err := b.fs.WriteFile(name, []byte(data)); err != nil {
		return fmt.Errorf("PCI device %s: %s: %w", a, step, err)
	}
	return nil
}

// bind moves one device from d.Driver to vfio-pci.
func (b *Binder) bind(d Device) error {
	a, dev := d.Addr, path.Join("bus/pci/devices", d.Addr.String())
	if err := b.write(a, "set driver_override", path.Join(dev, "driver_override"), VFIODriver); err != nil {
		return err
	}
	if d.Driver != "" {
		if err := b.write(a, "unbind from "+d.Driver, path.Join("bus/pci/drivers", d.Driver, "unbind"), a.String()); err != nil {
			return err
		}
	}
	if err := b.write(a, "probe", "bus/pci/drivers_probe", a.String()); err != nil {
		return err
	}
	now, err := b.driver(a)
	if err != nil {
		return err
	}
	if now != VFIODriver {
		if now == "" {
			now = "no driver"
		}
		return fmt.Errorf("PCI device %s: still bound to %s after the probe, not %s (is its IOMMU group viable?)", a, now, VFIODriver)
	}
	return nil
}

// giveBack undoes bind: clears driver_override, unbinds from vfio-pci, and reprobes when the device had
// a driver before.
func (b *Binder) giveBack(d Device) error {
	a, dev := d.Addr, path.Join("bus/pci/devices", d.Addr.String())
	// A lone newline clears driver_override (an empty write is refused by some kernels).
	if err := b.write(a, "clear driver_override", path.Join(dev, "driver_override"), "\n"); err != nil {
		return err
	}
	now, err := b.driver(a)
	if err != nil {
		return err
	}
	if now == VFIODriver {
		if err := b.write(a, "unbind from "+VFIODriver, path.Join("bus/pci/drivers", VFIODriver, "unbind"), a.String()); err != nil {
			return err
		}
	}
	if d.Driver == "" || now == d.Driver {
		return nil
	}
	return b.write(a, "probe", "bus/pci/drivers_probe", a.String())
}

func (b *Binder) locked(ctx context.Context, fn func() error) error {
	return lock.With(ctx, LockName, lock.Options{Dir: b.opts.LockDir, Timeout: b.opts.LockTimeout}, fn)
}
