package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hookkit-dev/hookkit/examples/internal/hookbuild"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBinary runs the built hook as libvirt does against a static fake sysfs tree (no kernel behind it):
// a device already on vfio-pci is left alone; a device on another driver is switched, and since the
// static tree cannot bind it the hook fails the start with one line and rolls the override back.
func TestBinary(t *testing.T) {
	dir := t.TempDir()
	sys := filepath.Join(dir, "sys")
	mk := func(p string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(sys, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(sys, p), nil, 0o644))
	}
	link := func(dev, drv string) {
		require.NoError(t, os.Symlink(filepath.Join(sys, "bus/pci/drivers", drv), filepath.Join(sys, "bus/pci/devices", dev, "driver")))
	}
	mk("bus/pci/drivers_probe")
	for _, d := range []string{"vfio-pci", "nouveau"} {
		mk("bus/pci/drivers/" + d + "/unbind")
	}
	group := filepath.Join(sys, "kernel/iommu_groups/13")
	require.NoError(t, os.MkdirAll(filepath.Join(group, "devices"), 0o755))
	for _, d := range []string{"0000:01:00.0", "0000:01:00.1"} {
		mk("bus/pci/devices/" + d + "/driver_override")
		link(d, "vfio-pci")
		require.NoError(t, os.Symlink(filepath.Join(sys, "bus/pci/devices", d), filepath.Join(group, "devices", d)))
		require.NoError(t, os.Symlink(group, filepath.Join(sys, "bus/pci/devices", d, "iommu_group")))
	}
	cfg := filepath.Join(dir, "vfio.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"sysRoot": "`+sys+`", "stateDir": "`+filepath.Join(dir, "state")+`", "lockDir": "`+filepath.Join(dir, "lock")+`"}`), 0o600))
	bin := hookbuild.Build(t, ".", map[string]string{"configFile": cfg})
	gpu, err := os.ReadFile("testdata/gpu.xml")
	require.NoError(t, err)
	prepare := hookkittest.Event(event.QEMU, "prepare").WithStdin(gpu).WithObject("gaming")
	prepare.HooksDir = t.TempDir()

	res := hookkittest.Exec(t, bin, prepare)
	require.Equal(t, 0, res.Code, res.Stderr)
	override, err := os.ReadFile(filepath.Join(sys, "bus/pci/devices/0000:01:00.0/driver_override"))
	require.NoError(t, err)
	assert.Empty(t, override, "devices already on vfio-pci are not touched")

	require.NoError(t, os.Remove(filepath.Join(sys, "bus/pci/devices/0000:01:00.1/driver")))
	link("0000:01:00.1", "nouveau")
	res = hookkittest.Exec(t, bin, prepare)
	require.Equal(t, 1, res.Code)
	assert.Equal(t, "vfio: qemu gaming prepare begin: vfio: PCI device 0000:01:00.1: still bound to nouveau after the probe, not vfio-pci (is its IOMMU group viable?)\n", res.Stderr)
	override, err = os.ReadFile(filepath.Join(sys, "bus/pci/devices/0000:01:00.1/driver_override"))
	require.NoError(t, err)
	assert.Equal(t, "\n", string(override), "the override is cleared by the rollback")
	assert.NoDirExists(t, filepath.Join(dir, "state", "c1f222e6-4bae-4717-be4a-f8eaa33cd9ff"))

	// The console settings reach the binder: a unit name systemctl would take for an option is refused.
	require.NoError(t, os.WriteFile(cfg, []byte(`{"sysRoot": "`+sys+`", "stateDir": "`+filepath.Join(dir, "state")+`", "lockDir": "`+filepath.Join(dir, "lock")+`", "handOverConsole": true, "stopUnits": ["--now"]}`), 0o600))
	res = hookkittest.Exec(t, bin, prepare)
	require.Equal(t, 1, res.Code)
	assert.Equal(t, "vfio: qemu gaming prepare begin: vfio: stopUnits: \"--now\" is not a systemd unit name\n", res.Stderr)
}
