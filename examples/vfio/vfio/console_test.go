package vfio

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/state"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withConsole gives the fake kernel a host console on the GPU 0000:01:00.0, as on a single-GPU desktop:
// the GPU is the boot VGA device, vtcon0 is the dummy console, vtcon1 the framebuffer console (bound),
// and efi-framebuffer.0 is bound to its driver.
func withConsole(t *testing.T, k *kernel) {
	root := string(k.Dir)
	write := func(p, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, p), []byte(content), 0o644))
	}
	write("bus/pci/devices/0000:01:00.0/boot_vga", "1\n")
	write("bus/pci/devices/0000:01:00.1/boot_vga", "0\n")
	write("class/vtconsole/vtcon0/name", "(S) dummy device\n")
	write("class/vtconsole/vtcon0/bind", "1\n")
	write("class/vtconsole/vtcon1/name", "(M) frame buffer device\n")
	write("class/vtconsole/vtcon1/bind", "1\n")
	write("bus/platform/drivers/efi-framebuffer/bind", "")
	write("bus/platform/drivers/efi-framebuffer/unbind", "")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bus/platform/devices/efi-framebuffer.0"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bus/platform/devices/serial8250"), 0o755))
	k.linkOn(t, "platform", "efi-framebuffer.0", "efi-framebuffer")
}

func (k *kernel) platformBound(dev string) string { return k.boundOn("platform", dev) }

// platformWrite reacts to bind and unbind of a platform driver as the driver core does.
func (k *kernel) platformWrite(name, dev string) error {
	drv := path.Base(path.Dir(name))
	link := filepath.Join(string(k.Dir), "bus/platform/devices", dev, "driver")
	switch path.Base(name) {
	case "unbind":
		if k.platformBound(dev) != drv {
			return syscall.ENODEV
		}
		return os.Remove(link)
	case "bind":
		if _, err := os.Stat(filepath.Dir(link)); err != nil {
			return syscall.ENODEV
		}
		if k.platformBound(dev) != "" {
			return syscall.EBUSY
		}
		return os.Symlink(filepath.Join(string(k.Dir), "bus/platform/drivers", drv), link)
	}
	return nil
}

// fbconHolds models why the hand-over exists: the kernel will not let the boot GPU's own driver go while
// a framebuffer console is bound to it (vfio-pci provides no framebuffer, so nothing holds it there).
func (k *kernel) fbconHolds(dev string) bool {
	bootVGA, err := os.ReadFile(filepath.Join(string(k.Dir), "bus/pci/devices", dev, "boot_vga"))
	if err != nil || strings.TrimSpace(string(bootVGA)) != "1" || k.bound(dev) == VFIODriver {
		return false
	}
	return k.vtconBound("vtcon1")
}

func (k *kernel) vtconBound(vc string) bool {
	b, err := os.ReadFile(filepath.Join(string(k.Dir), "class/vtconsole", vc, "bind"))
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// recorder is a command.Runner that records the commands and fails those listed in fail.
type recorder struct {
	cmds []string
	fail map[string]error
}

func (r *recorder) Run(_ context.Context, name string, args ...string) error {
	c := strings.Join(append([]string{name}, args...), " ")
	r.cmds = append(r.cmds, c)
	return r.fail[c]
}

// newConsoleEnv is newEnv with the console hand-over on, stopping display-manager.service.
func newConsoleEnv(t *testing.T, k *kernel, console ConsoleOptions) (*env, *recorder) {
	dir := t.TempDir()
	rec := &recorder{fail: map[string]error{}}
	if console.Runner == nil {
		console.Runner = rec
	}
	e := &env{k: k, store: state.Open(state.Options{Dir: filepath.Join(dir, "state")})}
	e.router = hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	New(Options{FS: k, State: e.store, LockDir: filepath.Join(dir, "lock"), Console: console}).Register(e.router)
	return e, rec
}

func (e *env) consoleRecord(t *testing.T) (ConsoleRecord, bool) {
	var rec ConsoleRecord
	found, err := e.store.Load(uuid, ConsoleStateKey, &rec)
	require.NoError(t, err)
	return rec, found
}

func singleGPUKernel(t *testing.T) *kernel {
	k := newKernel(t, map[string]string{"0000:01:00.0": "amdgpu", "0000:01:00.1": "snd_hda_intel"},
		"amdgpu", "snd_hda_intel", VFIODriver)
	withConsole(t, k)
	return k
}

func TestConsoleHandOver(t *testing.T) {
	k := singleGPUKernel(t)
	e, rec := newConsoleEnv(t, k, ConsoleOptions{HandOver: true, StopUnits: []string{"display-manager.service"}})

	res := e.run(t, "prepare", gpuXML(t))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, []string{"systemctl is-active --quiet display-manager.service", "systemctl stop display-manager.service"}, rec.cmds)
	assert.Equal(t, []string{
		`class/vtconsole/vtcon1/bind <- "0"`,
		`bus/platform/drivers/efi-framebuffer/unbind <- "efi-framebuffer.0"`,
		`bus/pci/devices/0000:01:00.0/driver_override <- "vfio-pci"`,
		`bus/pci/drivers/amdgpu/unbind <- "0000:01:00.0"`,
		`bus/pci/drivers_probe <- "0000:01:00.0"`,
		`bus/pci/devices/0000:01:00.1/driver_override <- "vfio-pci"`,
		`bus/pci/drivers/snd_hda_intel/unbind <- "0000:01:00.1"`,
		`bus/pci/drivers_probe <- "0000:01:00.1"`,
	}, k.writes, "units, then consoles, then framebuffers, then the devices; the dummy console is left alone")
	assert.Equal(t, VFIODriver, k.bound("0000:01:00.0"))
	assert.True(t, k.vtconBound("vtcon0"))
	assert.False(t, k.vtconBound("vtcon1"))
	assert.Equal(t, "", k.platformBound("efi-framebuffer.0"))
	got, found := e.consoleRecord(t)
	require.True(t, found)
	assert.Equal(t, ConsoleRecord{Units: []string{"display-manager.service"}, VTConsoles: []string{"vtcon1"},
		Framebuffers: []Framebuffer{{Device: "efi-framebuffer.0", Driver: "efi-framebuffer"}}}, got)

	k.writes, rec.cmds = nil, nil
	res = e.run(t, "release", gpuXML(t))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, []string{
		`bus/pci/devices/0000:01:00.1/driver_override <- "\n"`,
		`bus/pci/drivers/vfio-pci/unbind <- "0000:01:00.1"`,
		`bus/pci/drivers_probe <- "0000:01:00.1"`,
		`bus/pci/devices/0000:01:00.0/driver_override <- "\n"`,
		`bus/pci/drivers/vfio-pci/unbind <- "0000:01:00.0"`,
		`bus/pci/drivers_probe <- "0000:01:00.0"`,
		`bus/platform/drivers/efi-framebuffer/bind <- "efi-framebuffer.0"`,
		`class/vtconsole/vtcon1/bind <- "1"`,
	}, k.writes, "the devices first, then the console in reverse order")
	assert.Equal(t, []string{"systemctl start display-manager.service"}, rec.cmds)
	assert.Equal(t, "amdgpu", k.bound("0000:01:00.0"))
	assert.True(t, k.vtconBound("vtcon1"))
	assert.Equal(t, "efi-framebuffer", k.platformBound("efi-framebuffer.0"))
	_, found = e.consoleRecord(t)
	assert.False(t, found)
	assert.Empty(t, e.recorded(t))
}

func TestConsoleNotHandedOver(t *testing.T) {
	t.Run("hand-over off: the kernel keeps the boot GPU", func(t *testing.T) {
		k := singleGPUKernel(t)
		e, rec := newConsoleEnv(t, k, ConsoleOptions{})
		res := e.run(t, "prepare", gpuXML(t))
		require.Equal(t, 1, res.Code)
		assert.Contains(t, res.Stderr, "vfio: PCI device 0000:01:00.0: unbind from amdgpu: device or resource busy")
		assert.Empty(t, rec.cmds)
		assert.True(t, k.vtconBound("vtcon1"))
		assert.Equal(t, "amdgpu", k.bound("0000:01:00.0"), "rolled back")
	})
	t.Run("not the boot GPU: the console stays", func(t *testing.T) {
		k := singleGPUKernel(t)
		require.NoError(t, os.WriteFile(filepath.Join(string(k.Dir), "bus/pci/devices/0000:01:00.0/boot_vga"), []byte("0\n"), 0o644))
		e, rec := newConsoleEnv(t, k, ConsoleOptions{HandOver: true, StopUnits: []string{"display-manager.service"}})
		res := e.run(t, "prepare", gpuXML(t))
		require.Equal(t, 0, res.Code, res.Stderr)
		assert.Empty(t, rec.cmds)
		assert.True(t, k.vtconBound("vtcon1"))
		assert.Equal(t, "efi-framebuffer", k.platformBound("efi-framebuffer.0"))
		_, found := e.consoleRecord(t)
		assert.False(t, found)
	})
}

func TestConsoleFailures(t *testing.T) {
	tests := []struct {
		name     string
		units    []string
		fail     string // a command that fails
		refuse   bool   // vfio-pci does not claim the GPU
		wantErr  string
		wantCmds []string
	}{
		{"unit name that is an option", []string{"--now"}, "", false,
			`vfio: stopUnits: "--now" is not a systemd unit name`, nil},
		{"display manager does not stop", []string{"display-manager.service"}, "systemctl stop display-manager.service", false,
			"vfio: stop display-manager.service before taking the boot GPU: exit status 1",
			[]string{"systemctl is-active --quiet display-manager.service", "systemctl stop display-manager.service", "systemctl start display-manager.service"}},
		{"GPU not claimed by vfio-pci", []string{"display-manager.service"}, "", true,
			"vfio: PCI device 0000:01:00.0: still bound to no driver after the probe",
			[]string{"systemctl is-active --quiet display-manager.service", "systemctl stop display-manager.service", "systemctl start display-manager.service"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := singleGPUKernel(t)
			if tt.refuse {
				k.refuse["0000:01:00.0"] = true
			}
			e, rec := newConsoleEnv(t, k, ConsoleOptions{HandOver: true, StopUnits: tt.units})
			if tt.fail != "" {
				rec.fail[tt.fail] = errors.New("exit status 1")
			}
			res := e.run(t, "prepare", gpuXML(t))
			require.Equal(t, 1, res.Code)
			assert.Contains(t, res.Stderr, tt.wantErr)
			assert.Equal(t, 1, strings.Count(res.Stderr, "\n"))
			assert.Equal(t, tt.wantCmds, rec.cmds, "a unit stopped is started again")
			assert.True(t, k.vtconBound("vtcon1"), "the console is given back")
			assert.Equal(t, "efi-framebuffer", k.platformBound("efi-framebuffer.0"))
			assert.Equal(t, "amdgpu", k.bound("0000:01:00.0"))
			_, found := e.consoleRecord(t)
			assert.False(t, found, "nothing stays recorded after a failed prepare")
			assert.Empty(t, e.recorded(t))
		})
	}
}

// TestConsoleRestoreSkipsWhatIsBack: the GPU driver may take the console over by itself (and remove the
// boot framebuffer for good), and a console may be bound again by hand: release does not fail on those.
func TestConsoleRestoreSkipsWhatIsBack(t *testing.T) {
	k := singleGPUKernel(t)
	e, rec := newConsoleEnv(t, k, ConsoleOptions{HandOver: true})
	require.Equal(t, 0, e.run(t, "prepare", gpuXML(t)).Code)
	assert.Empty(t, rec.cmds, "no units configured, none stopped")
	require.NoError(t, os.RemoveAll(filepath.Join(string(k.Dir), "bus/platform/devices/efi-framebuffer.0")))
	require.NoError(t, os.WriteFile(filepath.Join(string(k.Dir), "class/vtconsole/vtcon1/bind"), []byte("1\n"), 0o644))
	k.writes = nil
	res := e.run(t, "release", gpuXML(t))
	require.Equal(t, 0, res.Code, res.Stderr)
	for _, w := range k.writes {
		assert.NotContains(t, w, "platform")
		assert.NotContains(t, w, "vtconsole")
	}
	_, found := e.consoleRecord(t)
	assert.False(t, found)
}

// TestConsolePlanIgnoresOtherEntries: only active units, fbcon consoles and boot framebuffers by their
// kernel names are in the plan.
func TestConsolePlanIgnoresOtherEntries(t *testing.T) {
	k := singleGPUKernel(t)
	require.NoError(t, os.MkdirAll(filepath.Join(string(k.Dir), "bus/platform/devices/efi-framebuffer.0-evil/driver"), 0o755))
	rec := &recorder{fail: map[string]error{"systemctl is-active --quiet gdm.service": errors.New("exit status 3")}}
	b := New(Options{FS: k, Console: ConsoleOptions{HandOver: true, StopUnits: []string{"gdm.service", "sddm.service"}, Runner: rec}})
	plan, err := b.consolePlan(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"sddm.service"}, plan.Units, "an inactive unit is left alone")
	assert.Equal(t, []string{"vtcon1"}, plan.VTConsoles)
	assert.Equal(t, []Framebuffer{{Device: "efi-framebuffer.0", Driver: "efi-framebuffer"}}, plan.Framebuffers)
}

// TestConsoleRecordChecked: names read back from hookkit/state are joined to sysfs paths and passed to
// systemctl, so a record holding anything the hand-over never writes is refused, with nothing done.
func TestConsoleRecordChecked(t *testing.T) {
	tests := []struct {
		name    string
		rec     ConsoleRecord
		wantErr string
	}{
		{"unit", ConsoleRecord{Units: []string{"-x"}}, `"-x" is not a systemd unit name`},
		{"console", ConsoleRecord{VTConsoles: []string{"../../power/state"}}, "is not a virtual terminal console"},
		{"framebuffer", ConsoleRecord{Framebuffers: []Framebuffer{{Device: "efi-framebuffer.0", Driver: "../x"}}}, "is not a boot framebuffer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := singleGPUKernel(t)
			rec := &recorder{}
			b := New(Options{FS: k, Console: ConsoleOptions{HandOver: true, Runner: rec}})
			err := b.restoreConsole(context.Background(), tt.rec)
			require.ErrorContains(t, err, tt.wantErr)
			assert.Empty(t, k.writes)
			assert.Empty(t, rec.cmds)
		})
	}
}
