// Package netport applies per-port host settings for libvirt virtual network ports: bandwidth limits with
// tc and bridge VLANs with "bridge vlan", taken from the <networkport>'s <bandwidth> and <vlan>, and
// removes exactly what it applied when the port is deleted.
//
// A network hook's port-created runs when libvirt allocates the port, which for a starting or hot-plugged
// domain is before the tap device exists. So:
//   - port-created validates the settings (a bad value fails the port allocation, hence the start), records
//     them in hookkit/state under the port's UUID, and applies them at once when the port's device already
//     exists (libvirtd re-announces every port at daemon start);
//   - qemu started and reconnect (install the same binary as qemu.d/ hook too) apply recorded settings
//     to the tap named in the domain's <interface><target dev=.../> for each <source portid=.../>;
//   - port-deleted removes what was applied, when the device still exists, and forgets the port.
//
// The device of a port that exists already is found by MAC: libvirt gives a tap the guest's MAC with the
// first byte set to 0xfe (bridges, which may take the MAC of their port, are skipped). All commands go through an injectable command.Runner and are logged.
package netport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookkit-dev/hookkit/examples/command"
	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/lock"
	"github.com/hookkit-dev/hookkit/hookkit/state"
)

// StateKey is the hookkit/state key of a port's record (stored under the port's UUID).
const StateKey = "netport"

// LockName is the hookkit/lock name that serializes port changes.
const LockName = "netport"

// Options configures Ports. The zero value runs commands, uses /sys and the default state and lock
// directories.
type Options struct {
	// Runner runs tc and bridge (default command.Exec{}).
	Runner command.Runner
	// State records the ports' settings and devices (default state.Open(state.Options{})).
	State *state.Store
	// SysRoot is the sysfs mount point where class/net lists the host's devices (default "/sys").
	SysRoot string
	// LockDir holds the lock file (default lock.DefaultDir).
	LockDir string
	// LockTimeout bounds the wait for the lock (default 10s).
	LockTimeout time.Duration
}

// Record is what the state store holds for a port.
type Record struct {
	Network  string   `json:"network"`
	Owner    string   `json:"owner"`
	MAC      string   `json:"mac"`
	Settings Settings `json:"settings"`
	// Device is the host device the settings were applied to; "" while they wait for the tap.
	Device string `json:"device,omitempty"`
}

// Ports applies and removes per-port settings.
type Ports struct {
	opts Options
}

// New returns Ports with the defaults filled in.
func New(opts Options) *Ports {
	if opts.Runner == nil {
		opts.Runner = command.Exec{}
	}
	if opts.State == nil {
		opts.State = state.Open(state.Options{})
	}
	if opts.SysRoot == "" {
		opts.SysRoot = "/sys"
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 10 * time.Second
	}
	return &Ports{opts: opts}
}

// Register adds the handlers to r: network port-created and port-deleted, and qemu started and reconnect.
func (ps *Ports) Register(r *hookkit.Router) {
	r.OnNetworkPortCreated(ps.Created)
	r.OnNetworkPortDeleted(ps.Deleted)
	r.OnQEMUStarted(ps.Started)
	r.OnQEMUReconnect(ps.Started)
}

// Created validates and records the port's settings, and applies them when its device exists already.
func (ps *Ports) Created(p *hookkit.NetworkPort) error {
	cfg, err := p.Config()
	if err != nil {
		return fmt.Errorf("netport: %w", err)
	}
	s, err := SettingsFrom(cfg)
	if err != nil {
		return fmt.Errorf("netport: port %s: %w", p.UUID(), err)
	}
	if s.Empty() {
		return nil
	}
	uuid, err := state.NormalizeUUID(p.UUID())
	if err != nil {
		return fmt.Errorf("netport: port: %w", err)
	}
	net, _ := p.Network()
	rec := Record{Owner: p.OwnerName(), MAC: p.MAC(), Settings: s}
	if net != nil {
		rec.Network = net.Name()
	}
	return ps.locked(p.Context(), func() error {
		dev, err := ps.deviceByMAC(rec.MAC)
		if err != nil {
			return err
		}
		if dev != "" {
			if err := ps.apply(p.Call, dev, s); err != nil {
				return err
			}
			rec.Device = dev
		} else {
			p.Logger().Info("netport: settings recorded, to apply when the tap exists (qemu started)", "port", uuid, "mac", rec.MAC)
		}
		if err := ps.opts.State.Save(uuid, StateKey, rec); err != nil {
			return fmt.Errorf("netport: %w", err)
		}
		return nil
	})
}

// Started applies the recorded settings of the domain's network ports to their tap devices.
func (ps *Ports) Started(dom *hookkit.Domain) error {
	cfg, err := dom.Config()
	if err != nil {
		return fmt.Errorf("netport: %w", err)
	}
	if cfg.Devices == nil {
		return nil
	}
	return ps.locked(dom.Context(), func() error {
		for _, iface := range cfg.Devices.Interfaces {
			if iface.Source == nil || iface.Source.Network == nil || iface.Source.Network.PortID == "" || iface.Target == nil {
				continue
			}
			uuid, err := state.NormalizeUUID(iface.Source.Network.PortID)
			if err != nil {
				return fmt.Errorf("netport: interface portid: %w", err)
			}
			var rec Record
			found, err := ps.opts.State.Load(uuid, StateKey, &rec)
			if err != nil {
				return fmt.Errorf("netport: %w", err)
			}
			if !found || rec.Device == iface.Target.Dev {
				continue
			}
			if err := ValidateDevice(iface.Target.Dev); err != nil {
				return fmt.Errorf("netport: port %s: %w", uuid, err)
			}
			if err := ps.apply(dom.Call, iface.Target.Dev, rec.Settings); err != nil {
				return err
			}
			rec.Device = iface.Target.Dev
			if err := ps.opts.State.Save(uuid, StateKey, rec); err != nil {
				return fmt.Errorf("netport: %w", err)
			}
		}
		return nil
	})
}

// Deleted removes what was applied to the port's device, as recorded, and forgets the port. A device
// that is gone took its qdiscs and VLANs with it.
func (ps *Ports) Deleted(p *hookkit.NetworkPort) error {
	uuid, err := state.NormalizeUUID(p.UUID())
	if err != nil {
		return fmt.Errorf("netport: port: %w", err)
	}
	return ps.locked(p.Context(), func() error {
		var rec Record
		found, err := ps.opts.State.Load(uuid, StateKey, &rec)
		if err != nil || !found {
			return err
		}
		var errs []error
		if rec.Device != "" {
			if err := ValidateDevice(rec.Device); err != nil {
				errs = append(errs, fmt.Errorf("recorded state: %w", err))
			} else if ps.deviceExists(rec.Device) {
				steps := rec.Settings.plan(rec.Device)
				for i := len(steps) - 1; i >= 0; i-- {
					if undo := steps[i][1]; undo != nil {
						if err := ps.run(p.Call, undo); err != nil {
							errs = append(errs, err)
						}
					}
				}
			} else {
				p.Logger().Info("netport: device already gone", "port", uuid, "device", rec.Device)
			}
		}
		if err := ps.opts.State.Delete(uuid, StateKey); err != nil {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("netport: port %s: %w", uuid, errors.Join(errs...))
		}
		return nil
	})
}

// apply runs the settings' commands on dev; on a failure it undoes the ones that succeeded.
func (ps *Ports) apply(c *hookkit.Call, dev string, s Settings) error {
	if err := ValidateDevice(dev); err != nil {
		return fmt.Errorf("netport: %w", err)
	}
	steps := s.plan(dev)
	for i, st := range steps {
		if err := ps.run(c, st[0]); err != nil {
			for j := i - 1; j >= 0; j-- {
				if undo := steps[j][1]; undo != nil {
					if uerr := ps.run(c, undo); uerr != nil {
						c.Logger().Error("netport: rollback failed", "error", uerr.Error())
					}
				}
			}
			return fmt.Errorf("netport: %s (rolled back): %w", dev, err)
		}
	}
	return nil
}

func (ps *Ports) run(c *hookkit.Call, argv []string) error {
	c.Logger().Info("netport: run", "command", command.Format(argv[0], argv[1:]...))
	return ps.opts.Runner.Run(c.Context(), argv[0], argv[1:]...)
}

// deviceByMAC returns the host device whose MAC is the tap MAC of the guest MAC mac, or "" when none.
func (ps *Ports) deviceByMAC(mac string) (string, error) {
	if mac == "" {
		return "", nil // found at qemu started by portid instead
	}
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return "", fmt.Errorf("netport: invalid MAC address %q", mac)
	}
	hw[0] = 0xfe
	want := hw.String()
	dir := filepath.Join(ps.opts.SysRoot, "class", "net")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("netport: list devices: %w", err)
	}
	for _, e := range entries {
		if ValidateDevice(e.Name()) != nil {
			continue
		}
		// A bridge takes the lowest MAC of its ports, so it may carry the tap's: skip bridges.
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "bridge")); err == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "address"))
		if err == nil && strings.EqualFold(strings.TrimSpace(string(b)), want) {
			return e.Name(), nil
		}
	}
	return "", nil
}

func (ps *Ports) deviceExists(dev string) bool {
	_, err := os.Stat(filepath.Join(ps.opts.SysRoot, "class", "net", dev))
	return err == nil
}

func (ps *Ports) locked(ctx context.Context, fn func() error) error {
	return lock.With(ctx, LockName, lock.Options{Dir: ps.opts.LockDir, Timeout: ps.opts.LockTimeout}, fn)
}
