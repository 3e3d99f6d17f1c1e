// Package daemonproc finds the running libvirt daemons (through /proc) and says which of them runs the hooks
// of a driver, so that `hookkit install` and `hookkit doctor` can tell the user exactly what to reload.
//
// libvirt decides which drivers have hooks only at daemon start and on SIGHUP (libvirt-hooks.md §2): a hook
// added for a driver that had none stays silent until the daemon serving that driver reloads. On a monolithic
// host that is libvirtd; on modular daemons it is virtqemud, virtnetworkd, virtlxcd, virtxend or virtbhyved,
// and every daemon built from remote_daemon.c runs the daemon hook.
package daemonproc

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/event"
)

// Monolithic is the name of the daemon that serves every driver.
const Monolithic = "libvirtd"

// driverDaemons names the modular daemon that runs each driver's hooks.
var driverDaemons = map[event.Driver]string{
	event.QEMU:    "virtqemud",
	event.LXC:     "virtlxcd",
	event.Network: "virtnetworkd",
	event.Libxl:   "virtxend",
	event.Bhyve:   "virtbhyved",
}

// otherDaemons are the modular daemons that run only the daemon hook.
var otherDaemons = []string{"virtproxyd", "virtinterfaced", "virtnodedevd", "virtnwfilterd", "virtsecretd",
	"virtstoraged", "virtvboxd", "virtvzd", "virtchd"}

// Names returns the daemons that run the hooks of driver d: libvirtd and the driver's modular daemon, or,
// for the daemon driver, every daemon built from remote_daemon.c.
func Names(d event.Driver) []string {
	if d == event.Daemon {
		names := []string{Monolithic}
		for _, drv := range event.Drivers {
			if n, ok := driverDaemons[drv]; ok {
				names = append(names, n)
			}
		}
		return append(names, otherDaemons...)
	}
	if n, ok := driverDaemons[d]; ok {
		return []string{Monolithic, n}
	}
	return nil
}

func isLibvirtDaemon(name string) bool { return slices.Contains(Names(event.Daemon), name) }

// Process is a running libvirt daemon.
type Process struct {
	PID  int
	Name string
	// Started is when the process started, to the clock tick.
	Started time.Time
	// OtherMountNS is true when the process runs in another mount namespace than the caller (a container,
	// a test harness): it may see another hooks directory, and its reload is not the caller's business.
	OtherMountNS bool
}

// ReloadHint says how to make p re-check the hooks directory.
func (p Process) ReloadHint() string {
	return fmt.Sprintf("kill -HUP %d (or: systemctl reload %s)", p.PID, p.Name)
}

// String returns "name (pid N)".
func (p Process) String() string { return fmt.Sprintf("%s (pid %d)", p.Name, p.PID) }

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's starttime; it is 100 on every Linux architecture Go
// supports.
const clockTicks = 100

// Find lists the libvirt daemons running on the host whose proc filesystem is mounted at procRoot (normally
// "/proc"), sorted by PID. Processes that vanish while they are read are skipped.
func Find(procRoot string) ([]Process, error) {
	boot, err := bootTime(procRoot)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, err
	}
	selfNS, _ := os.Readlink(filepath.Join(procRoot, "self", "ns", "mnt"))
	var ps []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "stat"))
		if err != nil {
			continue
		}
		name, ticks, err := parseStat(raw)
		if err != nil || !isLibvirtDaemon(name) {
			continue
		}
		started := boot.Add(time.Duration(ticks) * time.Second / clockTicks)
		ns, _ := os.Readlink(filepath.Join(procRoot, e.Name(), "ns", "mnt"))
		ps = append(ps, Process{PID: pid, Name: name, Started: started, OtherMountNS: ns != selfNS})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].PID < ps[j].PID })
	return ps, nil
}

// parseStat returns the command name and the start time in clock ticks after boot from /proc/<pid>/stat.
// The name is in parentheses and may itself contain spaces and parentheses, so fields are counted after the
// last ')'.
func parseStat(raw []byte) (string, uint64, error) {
	open := bytes.IndexByte(raw, '(')
	closing := bytes.LastIndexByte(raw, ')')
	if open < 0 || closing < open {
		return "", 0, fmt.Errorf("malformed stat line")
	}
	name := string(raw[open+1 : closing])
	fields := strings.Fields(string(raw[closing+1:]))
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return "", 0, fmt.Errorf("short stat line")
	}
	ticks, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("bad starttime: %w", err)
	}
	return name, ticks, nil
}

func bootTime(procRoot string) (time.Time, error) {
	f, err := os.Open(filepath.Join(procRoot, "stat"))
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "btime "); ok {
			secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("%s/stat: bad btime: %w", procRoot, err)
			}
			return time.Unix(secs, 0), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s/stat: no btime line", procRoot)
}

// Serving returns the processes of ps that run the hooks of driver d, leaving out those in another mount
// namespace.
func Serving(d event.Driver, ps []Process) []Process {
	names := Names(d)
	var out []Process
	for _, p := range ps {
		if slices.Contains(names, p.Name) && !p.OtherMountNS {
			out = append(out, p)
		}
	}
	return out
}

// ReloadAdvice returns one line per driver in newlyHooked (drivers that had no hook before a change) saying
// which running daemon must reload before libvirt runs the new hook, given the running daemons ps.
func ReloadAdvice(newlyHooked []event.Driver, ps []Process) []string {
	var lines []string
	for _, d := range newlyHooked {
		serving := Serving(d, ps)
		if len(serving) == 0 {
			lines = append(lines, fmt.Sprintf("%s had no hook before: no running daemon serves it (%s); "+
				"the hook takes effect when one starts", d, strings.Join(Names(d)[:min(2, len(Names(d)))], " or ")))
			continue
		}
		for _, p := range serving {
			lines = append(lines, fmt.Sprintf("%s had no hook before: reload %s so libvirt sees it: %s",
				d, p, p.ReloadHint()))
		}
	}
	return lines
}
