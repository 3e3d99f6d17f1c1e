package vfio

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/hookkit-dev/hookkit/hookkit/state"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"libvirt.org/go/libvirtxml"
)

const uuid = "c1f222e6-4bae-4717-be4a-f8eaa33cd9ff"

func gpuXML(t *testing.T) []byte {
	b, err := os.ReadFile("../testdata/gpu.xml")
	require.NoError(t, err)
	return b
}

func TestParseAddr(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{"0000:01:00.0", "0000:01:00.0", ""},
		{"ABCD:ff:1f.7", "abcd:ff:1f.7", ""},
		{"0000:01:20.0", "", "slot 0x20 is above 0x1f"},
		{"0000:01:00.8", "", "want dddd:bb:ss.f"},
		{"01:00.0", "", "want dddd:bb:ss.f"},
		{"0000:01:00.0/../../x", "", "want dddd:bb:ss.f"},
		{"0000:01:00.0\n", "", "want dddd:bb:ss.f"},
		{"", "", "want dddd:bb:ss.f"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := ParseAddr(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, a.String())
		})
	}
}

func TestHostdevs(t *testing.T) {
	var cfg libvirtxml.Domain
	require.NoError(t, cfg.Unmarshal(string(gpuXML(t))))
	addrs, err := Hostdevs(&cfg, false)
	require.NoError(t, err)
	assert.Equal(t, "[0000:01:00.0 0000:01:00.1]", fmt.Sprint(addrs))
	addrs, err = Hostdevs(&cfg, true)
	require.NoError(t, err)
	assert.Equal(t, "[0000:01:00.0 0000:01:00.1 0000:02:00.0]", fmt.Sprint(addrs))

	bad := strings.Replace(string(gpuXML(t)), "slot='0x00' function='0x1'", "slot='0x20' function='0x1'", 1)
	var badCfg libvirtxml.Domain
	require.NoError(t, badCfg.Unmarshal(bad))
	_, err = Hostdevs(&badCfg, false)
	require.ErrorContains(t, err, "hostdev 2: PCI address out of range")
}

// kernel is a fake sysfs tree that reacts to writes as the PCI core does: unbind removes the driver link,
// drivers_probe binds the driver named in driver_override, or the device's default driver.
type kernel struct {
	Dir
	defaults map[string]string // device -> the driver the kernel would pick without an override
	refuse   map[string]bool   // devices vfio-pci refuses (a non-viable IOMMU group)
	writes   []string
}

// newKernel builds the tree: each device bound to its driver ("" for none), with the drivers listed.
func newKernel(t *testing.T, devices map[string]string, drivers ...string) *kernel {
	root := t.TempDir()
	k := &kernel{Dir: Dir(root), defaults: map[string]string{}, refuse: map[string]bool{}}
	touch := func(p string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, p), nil, 0o644))
	}
	touch("bus/pci/drivers_probe")
	for _, d := range drivers {
		touch("bus/pci/drivers/" + d + "/bind")
		touch("bus/pci/drivers/" + d + "/unbind")
	}
	for dev, drv := range devices {
		touch("bus/pci/devices/" + dev + "/driver_override")
		// IOMMU groups as on a typical host: the functions of one slot share a group, named by the bus.
		group := filepath.Join(root, "kernel/iommu_groups", dev[5:7])
		require.NoError(t, os.MkdirAll(filepath.Join(group, "devices"), 0o755))
		require.NoError(t, os.Symlink(filepath.Join(root, "bus/pci/devices", dev), filepath.Join(group, "devices", dev)))
		require.NoError(t, os.Symlink(group, filepath.Join(root, "bus/pci/devices", dev, "iommu_group")))
		if drv != "" {
			k.link(t, dev, drv)
			if drv != VFIODriver {
				k.defaults[dev] = drv
			}
		}
	}
	return k
}

// link binds the PCI device dev to drv.
func (k *kernel) link(t testing.TB, dev, drv string) { k.linkOn(t, "pci", dev, drv) }

// bound returns the driver of the PCI device dev, or "".
func (k *kernel) bound(dev string) string { return k.boundOn("pci", dev) }

// linkOn binds dev on bus (pci, platform) to drv.
func (k *kernel) linkOn(t testing.TB, bus, dev, drv string) {
	err := os.Symlink(filepath.Join(string(k.Dir), "bus", bus, "drivers", drv), filepath.Join(string(k.Dir), "bus", bus, "devices", dev, "driver"))
	require.NoError(t, err)
}

// boundOn returns the driver of dev on bus, or "".
func (k *kernel) boundOn(bus, dev string) string {
	target, err := os.Readlink(filepath.Join(string(k.Dir), "bus", bus, "devices", dev, "driver"))
	if err != nil {
		return ""
	}
	return filepath.Base(target)
}

func (k *kernel) override(dev string) string {
	b, _ := os.ReadFile(filepath.Join(string(k.Dir), "bus/pci/devices", dev, "driver_override"))
	return string(b)
}

func (k *kernel) WriteFile(name string, data []byte) error {
	k.writes = append(k.writes, fmt.Sprintf("%s <- %q", name, data))
	if err := k.Dir.WriteFile(name, data); err != nil {
		return err
	}
	dev := string(data)
	switch {
	case strings.HasPrefix(name, "bus/platform/drivers/"):
		return k.platformWrite(name, dev)
	case strings.HasSuffix(name, "/unbind"):
		if k.fbconHolds(dev) {
			return syscall.EBUSY
		}
		drv := path.Base(path.Dir(name))
		if k.bound(dev) != drv {
			return syscall.ENODEV
		}
		return os.Remove(filepath.Join(string(k.Dir), "bus/pci/devices", dev, "driver"))
	case name == "bus/pci/drivers_probe":
		if k.bound(dev) != "" {
			return nil
		}
		drv := strings.TrimSpace(k.override(dev))
		if drv == "" {
			drv = k.defaults[dev]
		}
		if drv == "" || (drv == VFIODriver && k.refuse[dev]) {
			return nil // no driver claims it
		}
		if _, err := os.Stat(filepath.Join(string(k.Dir), "bus/pci/drivers", drv)); err != nil {
			return nil
		}
		return os.Symlink(filepath.Join(string(k.Dir), "bus/pci/drivers", drv), filepath.Join(string(k.Dir), "bus/pci/devices", dev, "driver"))
	}
	return nil
}

type env struct {
	k      *kernel
	store  *state.Store
	router *hookkit.Router
}

func newEnv(t *testing.T, k *kernel) *env {
	dir := t.TempDir()
	e := &env{k: k, store: state.Open(state.Options{Dir: filepath.Join(dir, "state")})}
	e.router = hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	New(Options{FS: k, State: e.store, LockDir: filepath.Join(dir, "lock")}).Register(e.router)
	return e
}

func (e *env) run(t *testing.T, op string, stdin []byte) hookkittest.Result {
	c := hookkittest.Event(event.QEMU, op).WithStdin(stdin).WithObject("gaming")
	return hookkittest.Run(e.router, c)
}

func (e *env) recorded(t *testing.T) []Device {
	var devs []Device
	_, err := e.store.Load(uuid, StateKey, &devs)
	require.NoError(t, err)
	return devs
}

func TestDetachAndReattach(t *testing.T) {
	k := newKernel(t, map[string]string{"0000:01:00.0": "nouveau", "0000:01:00.1": "snd_hda_intel", "0000:02:00.0": "e1000e"},
		"nouveau", "snd_hda_intel", "e1000e", VFIODriver)
	e := newEnv(t, k)

	res := e.run(t, "prepare", gpuXML(t))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, []string{
		`bus/pci/devices/0000:01:00.0/driver_override <- "vfio-pci"`,
		`bus/pci/drivers/nouveau/unbind <- "0000:01:00.0"`,
		`bus/pci/drivers_probe <- "0000:01:00.0"`,
		`bus/pci/devices/0000:01:00.1/driver_override <- "vfio-pci"`,
		`bus/pci/drivers/snd_hda_intel/unbind <- "0000:01:00.1"`,
		`bus/pci/drivers_probe <- "0000:01:00.1"`,
	}, k.writes)
	assert.Equal(t, VFIODriver, k.bound("0000:01:00.0"))
	assert.Equal(t, VFIODriver, k.bound("0000:01:00.1"))
	assert.Equal(t, "e1000e", k.bound("0000:02:00.0"), "managed='yes' devices are libvirt's job")
	assert.Equal(t, "[{0000:01:00.0 nouveau} {0000:01:00.1 snd_hda_intel}]", fmt.Sprint(e.recorded(t)))

	// The XML at release no longer lists the devices (edited while running): the record decides.
	k.writes = nil
	noDevs := hookkittest.Fixture(event.QEMU, "release")
	res = e.run(t, "release", noDevs)
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, []string{
		`bus/pci/devices/0000:01:00.1/driver_override <- "\n"`,
		`bus/pci/drivers/vfio-pci/unbind <- "0000:01:00.1"`,
		`bus/pci/drivers_probe <- "0000:01:00.1"`,
		`bus/pci/devices/0000:01:00.0/driver_override <- "\n"`,
		`bus/pci/drivers/vfio-pci/unbind <- "0000:01:00.0"`,
		`bus/pci/drivers_probe <- "0000:01:00.0"`,
	}, k.writes)
	assert.Equal(t, "nouveau", k.bound("0000:01:00.0"))
	assert.Equal(t, "snd_hda_intel", k.bound("0000:01:00.1"))
	assert.Empty(t, e.recorded(t))
}

func TestAlreadyOnVFIOAndUnboundDevices(t *testing.T) {
	k := newKernel(t, map[string]string{"0000:01:00.0": VFIODriver, "0000:01:00.1": ""}, VFIODriver)
	e := newEnv(t, k)
	res := e.run(t, "prepare", gpuXML(t))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, []string{
		`bus/pci/devices/0000:01:00.1/driver_override <- "vfio-pci"`,
		`bus/pci/drivers_probe <- "0000:01:00.1"`,
	}, k.writes, "a device on vfio-pci is left alone, an unbound one needs no unbind")
	k.writes = nil
	res = e.run(t, "release", gpuXML(t))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, []string{
		`bus/pci/devices/0000:01:00.1/driver_override <- "\n"`,
		`bus/pci/drivers/vfio-pci/unbind <- "0000:01:00.1"`,
	}, k.writes, "a device that had no driver is not reprobed")
	assert.Equal(t, VFIODriver, k.bound("0000:01:00.0"))
	assert.Equal(t, "", k.bound("0000:01:00.1"))
}

func TestDetachFailures(t *testing.T) {
	tests := []struct {
		name    string
		devices map[string]string
		drivers []string
		refuse  string
		wantErr string
	}{
		{"vfio-pci not loaded", map[string]string{"0000:01:00.0": "nouveau", "0000:01:00.1": "snd_hda_intel"},
			[]string{"nouveau", "snd_hda_intel"}, "", "vfio: the vfio-pci driver is not loaded"},
		{"device missing", map[string]string{"0000:01:00.0": "nouveau"},
			[]string{"nouveau", VFIODriver}, "", "vfio: PCI device 0000:01:00.1: not found in sysfs"},
		{"probe does not bind", map[string]string{"0000:01:00.0": "nouveau", "0000:01:00.1": "snd_hda_intel"},
			[]string{"nouveau", "snd_hda_intel", VFIODriver}, "0000:01:00.1",
			"vfio: PCI device 0000:01:00.1: still bound to no driver after the probe, not vfio-pci"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKernel(t, tt.devices, tt.drivers...)
			if tt.refuse != "" {
				k.refuse[tt.refuse] = true
			}
			e := newEnv(t, k)
			res := e.run(t, "prepare", gpuXML(t))
			require.Equal(t, 1, res.Code)
			assert.Contains(t, res.Stderr, tt.wantErr)
			assert.Equal(t, 1, strings.Count(res.Stderr, "\n"))
			assert.Empty(t, e.recorded(t), "nothing stays recorded after a failed prepare")
			for dev, drv := range tt.devices {
				assert.Equal(t, drv, k.bound(dev), "%s is given back", dev)
				assert.NotEqual(t, VFIODriver, k.override(dev), "%s has no override left", dev)
			}
		})
	}
}

func TestIOMMUGroups(t *testing.T) {
	tests := []struct {
		name    string
		sibling string // the driver of 0000:01:00.2, in the GPU's group but not in the domain
		bridge  bool
		wantErr string
	}{
		{"sibling held by a host driver", "xhci_hcd", false,
			"vfio: PCI device 0000:01:00.0 shares IOMMU group 01 with 0000:01:00.2 (bound to xhci_hcd), which the domain does not pass through: add it as a <hostdev> too, or bind it to vfio-pci"},
		{"sibling already on vfio-pci", VFIODriver, false, ""},
		{"sibling without a driver", "", false, ""},
		{"sibling is a PCI bridge", "pcieport-like", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKernel(t, map[string]string{"0000:01:00.0": "nouveau", "0000:01:00.1": "snd_hda_intel", "0000:01:00.2": tt.sibling},
				"nouveau", "snd_hda_intel", "xhci_hcd", "pcieport-like", VFIODriver)
			if tt.bridge {
				require.NoError(t, os.WriteFile(filepath.Join(string(k.Dir), "bus/pci/devices/0000:01:00.2/class"), []byte("0x060400\n"), 0o644))
			}
			e := newEnv(t, k)
			res := e.run(t, "prepare", gpuXML(t))
			if tt.wantErr == "" {
				require.Equal(t, 0, res.Code, res.Stderr)
				return
			}
			require.Equal(t, 1, res.Code)
			assert.Contains(t, res.Stderr, tt.wantErr)
			assert.Empty(t, k.writes, "refused before any write")
		})
	}

	k := newKernel(t, map[string]string{"0000:01:00.0": "nouveau", "0000:01:00.1": "snd_hda_intel"}, "nouveau", "snd_hda_intel", VFIODriver)
	require.NoError(t, os.Remove(filepath.Join(string(k.Dir), "bus/pci/devices/0000:01:00.0/iommu_group")))
	res := newEnv(t, k).run(t, "prepare", gpuXML(t))
	require.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, "vfio: PCI device 0000:01:00.0 has no IOMMU group: enable the IOMMU (intel_iommu=on or amd_iommu=on")
}

func TestReattachReportsEveryFailure(t *testing.T) {
	k := newKernel(t, map[string]string{"0000:01:00.0": "nouveau", "0000:01:00.1": "snd_hda_intel"}, "nouveau", "snd_hda_intel", VFIODriver)
	e := newEnv(t, k)
	require.Equal(t, 0, e.run(t, "prepare", gpuXML(t)).Code)
	// The device vanished (hot-unplugged) while the VM ran.
	require.NoError(t, os.RemoveAll(filepath.Join(string(k.Dir), "bus/pci/devices/0000:01:00.1")))
	res := e.run(t, "release", gpuXML(t))
	require.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, "PCI device 0000:01:00.1: clear driver_override")
	assert.Equal(t, "nouveau", k.bound("0000:01:00.0"), "the other device is still given back")
	assert.Empty(t, e.recorded(t))
}

func TestNoHostdevsNoWrites(t *testing.T) {
	k := newKernel(t, nil)
	e := newEnv(t, k)
	for _, op := range []string{"prepare", "start", "started", "stopped", "release"} {
		res := e.run(t, op, hookkittest.Fixture(event.QEMU, op))
		require.Equal(t, 0, res.Code, res.Stderr)
	}
	assert.Empty(t, k.writes)
}

func TestDirWriteRefusesMissingFile(t *testing.T) {
	err := Dir(t.TempDir()).WriteFile("bus/pci/drivers_probe", []byte("0000:01:00.0"))
	require.True(t, errors.Is(err, os.ErrNotExist), "%v", err)
}
