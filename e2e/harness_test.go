//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/hookkit-dev/hookkit/hookkit/lock"
	"github.com/stretchr/testify/require"
)

// The libvirt drivers the scenarios connect to, as qemu:///system and lxc:///system through the private
// socket of the harness's libvirtd.
const (
	qemuDriver = "qemu"
	lxcDriver  = "lxc"
)

// prefix starts the name of every domain and network the tests create; cleanup removes what carries it.
const prefix = "e2e-"

// requireEnv turns every skip into a failure, for CI where a skipped e2e run must not pass as green.
const requireEnv = "HOOKKIT_E2E_REQUIRE"

// artifactsEnv names a directory that receives the record file and the logs at the end of the run.
const artifactsEnv = "HOOKKIT_E2E_ARTIFACTS"

// launchEnv carries a launchSpec to the copy of the test binary that becomes libvirtd (see TestMain).
const launchEnv = "HOOKKIT_E2E_LAUNCH"

// packages are the Debian packages a libvirtd needs here. Never libvirt-daemon-system: it pulls in
// systemd and starts services.
var packages = []string{
	"libvirt-daemon", "libvirt-daemon-driver-qemu", "libvirt-daemon-driver-lxc", "libvirt-clients",
	"qemu-system-x86", "iptables",
}

// qemuConf lets the QEMU driver run without virtlogd and with the capabilities of a container.
const qemuConf = `# written by the hookkit e2e tests; libvirtd sees it as /etc/libvirt/qemu.conf in its own mount namespace
stdio_handler = "file"
remember_owner = 0
namespaces = [ ]
user = "root"
group = "root"
`

// cacheDir keeps libvirt's QEMU capability cache from one run to the next; delete it at will.
const cacheDir = "/var/cache/hookkit-e2e/libvirt"

// hookDrivers are the drivers the recorder is installed for, one symlink each.
var hookDrivers = []string{"daemon", "qemu", "lxc", "network"}

// sysPath is the PATH libvirtd runs with and passes on to hooks.
const sysPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// harness is one libvirtd started by the tests, with the hooks it runs and everything to undo.
type harness struct {
	dir       string // private temporary directory
	etcDir    string // mounted as /etc/libvirt for libvirtd
	hooksDir  string // <etcDir>/hooks: /etc/libvirt/hooks for libvirtd
	records   string // the record file every hook appends to
	hookLog   string // the hooks' hookkit log
	daemonLog string // libvirtd's stdout and stderr
	recorder  string // built hook binaries
	tagfilter string
	socket    string // libvirtd's socket, /run/libvirt/libvirt-sock in its namespace
	spec      launchSpec
	created   []string // mount points created on the host, removed at the end

	d          *daemon
	namespaces []string // mount namespaces of every libvirtd started: what still runs in them is ours
}

// daemon is one libvirtd process started by the harness.
type daemon struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// launchSpec says what the launcher (TestMain in the new namespaces) does before it execs libvirtd.
type launchSpec struct {
	Binds          [][2]string // bind mounts: source, target
	UnmountUnified bool        // unmount /sys/fs/cgroup/unified (mixed cgroup v1/v2 hosts break lxc)
	Libvirtd       string
	Env            []string
}

// TestMain doubles as the launcher of libvirtd: started with launchEnv set, in new mount and network
// namespaces, the test binary bind-mounts the private configuration and execs libvirtd.
func TestMain(m *testing.M) {
	if spec := os.Getenv(launchEnv); spec != "" {
		os.Exit(launch(spec))
	}
	os.Exit(m.Run())
}

// launch runs in the new namespaces; it returns only on failure.
func launch(specJSON string) int {
	var spec launchSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintf(os.Stderr, "e2e launcher: %v\n", err)
		return 3
	}
	for _, b := range spec.Binds {
		if err := syscall.Mount(b[0], b[1], "", syscall.MS_BIND, ""); err != nil {
			fmt.Fprintf(os.Stderr, "e2e launcher: bind %s on %s: %v\n", b[0], b[1], err)
			return 3
		}
	}
	if spec.UnmountUnified {
		if err := syscall.Unmount("/sys/fs/cgroup/unified", syscall.MNT_DETACH); err != nil {
			fmt.Fprintf(os.Stderr, "e2e launcher: unmount /sys/fs/cgroup/unified: %v\n", err)
			return 3
		}
	}
	if err := os.Chdir("/"); err != nil {
		fmt.Fprintf(os.Stderr, "e2e launcher: %v\n", err)
		return 3
	}
	runtime.LockOSThread() // the affinity is the calling thread's, and this thread must be the one that execs
	if err := pinToOneCPU(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e launcher: libvirtd not pinned to one CPU (it may re-probe QEMU at start): %v\n", err)
	}
	err := syscall.Exec(spec.Libvirtd, []string{"libvirtd"}, spec.Env)
	fmt.Fprintf(os.Stderr, "e2e launcher: exec %s: %v\n", spec.Libvirtd, err)
	return 3
}

// pinToOneCPU binds the calling thread to the lowest CPU it may run on. libvirt checks its cached QEMU
// capabilities against the CPUID of whichever CPU it runs on; on some virtual machines that differs
// between CPUs ("Outdated capabilities ...: host cpuid changed"), and an unpinned libvirtd then probes QEMU
// again (4-8 s) on about every other start.
func pinToOneCPU() error {
	var mask [16]uint64 // up to 1024 CPUs
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask))); e != 0 {
		return e
	}
	for i, w := range mask {
		if w != 0 {
			var one [16]uint64
			one[i] = w & -w
			if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(one), uintptr(unsafe.Pointer(&one))); e != 0 {
				return e
			}
			return nil
		}
	}
	return errors.New("empty CPU affinity mask")
}

// skip skips the test, or fails it when requireEnv is set.
func skip(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv(requireEnv) != "" {
		t.Fatalf("e2e cannot run ("+requireEnv+" is set): "+format, args...)
	}
	t.Skipf(format, args...)
}

// newHarness prepares everything and starts libvirtd; t.Cleanup stops it and removes what it made.
func newHarness(t *testing.T) *harness {
	t.Helper()
	if os.Geteuid() != 0 {
		skip(t, "the e2e tests run a real libvirtd and need root")
	}
	l, err := lock.Acquire(context.Background(), "hookkit-e2e", lock.Options{Timeout: 5 * time.Minute})
	if err != nil {
		skip(t, "another e2e run holds the machine: %v", err)
	}
	t.Cleanup(func() { _ = l.Release() })
	ensurePackages(t)
	waitForeignDaemons(t)

	dir := t.TempDir()
	h := &harness{
		dir:       dir,
		etcDir:    filepath.Join(dir, "etc-libvirt"),
		records:   filepath.Join(dir, "records.jsonl"),
		hookLog:   filepath.Join(dir, "hooks.log"),
		daemonLog: filepath.Join(dir, "libvirtd.log"),
	}
	h.hooksDir = filepath.Join(h.etcDir, "hooks")
	h.buildHooks(t)
	h.spec = h.privateConfig(t)
	h.installHooks(t)

	t.Cleanup(func() { h.teardown(t) })
	h.start(t)
	return h
}

// ensurePackages installs the missing Debian packages, or skips.
func ensurePackages(t *testing.T) {
	t.Helper()
	var missing []string
	for _, p := range packages {
		out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status}", p).Output()
		if err != nil || strings.TrimSpace(string(out)) != "installed" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		if _, err := exec.LookPath("apt-get"); err != nil {
			skip(t, "libvirt is not installed (%s) and there is no apt-get to install it", strings.Join(missing, " "))
		}
		t.Logf("installing %s", strings.Join(missing, " "))
		start := time.Now()
		env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		for _, args := range [][]string{
			{"update"},
			append([]string{"-o", "DPkg::Lock::Timeout=120", "install", "-y", "--no-install-recommends"}, missing...),
		} {
			cmd := exec.Command("apt-get", args...)
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				skip(t, "cannot install libvirt: apt-get %s: %v\n%s", strings.Join(args, " "), err, tail(out, 20))
			}
		}
		t.Logf("timing: install %.1fs", time.Since(start).Seconds())
	}
	for _, bin := range []string{"libvirtd", "virsh", "qemu-system-x86_64", "iptables"} {
		if _, err := lookPath(bin); err != nil {
			skip(t, "libvirt is not usable: %v", err)
		}
	}
}

// lookPath finds bin in PATH or in the sbin directories a non-login root shell may lack.
func lookPath(bin string) (string, error) {
	if p, err := exec.LookPath(bin); err == nil {
		return p, nil
	}
	for _, d := range filepath.SplitList(sysPath) {
		p := filepath.Join(d, bin)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s", bin, sysPath)
}

// foreignWait is how long newHarness waits for libvirt daemons it did not start to exit before it skips:
// on a shared machine another test's libvirtd is usually gone within seconds.
const foreignWait = time.Minute

// waitForeignDaemons skips the test when a libvirt daemon the harness did not start keeps running. The
// harness's own libvirtd would not touch it (everything it uses is private), but a libvirtd running on
// the host is somebody's, and these tests make no assumption about what it is doing.
func waitForeignDaemons(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(foreignWait)
	for logged := false; ; logged = true {
		pids := foreignDaemons()
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			skip(t, "a libvirt daemon this test did not start is running (%s): refusing to run next to it", strings.Join(pids, ", "))
		}
		if !logged {
			t.Logf("waiting up to %s for %s to exit", foreignWait, strings.Join(pids, ", "))
		}
		time.Sleep(time.Second)
	}
}

// daemonNames are the programs that serve libvirt's system sockets.
var daemonNames = []string{"libvirtd", "virtqemud", "virtlxcd", "virtnetworkd", "virtproxyd"}

// foreignDaemons lists the running libvirt daemons as name[pid]; it runs before the harness starts its own.
func foreignDaemons() []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ...
		open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || end < open || end+2 >= len(stat) {
			continue
		}
		comm, state := string(stat[open+1:end]), stat[end+2]
		if slices.Contains(daemonNames, comm) && state != 'Z' {
			out = append(out, fmt.Sprintf("%s[%d]", comm, pid))
		}
	}
	return out
}

// moduleRoot is the directory of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err, "go env GOMOD")
	gomod := strings.TrimSpace(string(out))
	require.NotEmpty(t, gomod, "not inside the hookkit module")
	return filepath.Dir(gomod)
}

// buildHooks compiles the hook programs with the record and log files baked in: libvirt clears the
// environment, so a hook cannot be told where to write any other way.
func (h *harness) buildHooks(t *testing.T) {
	t.Helper()
	start := time.Now()
	root := moduleRoot(t)
	bin := filepath.Join(h.dir, "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	h.recorder = filepath.Join(bin, "recorder")
	h.tagfilter = filepath.Join(bin, "tagfilter")
	builds := []struct{ out, pkg, ldflags string }{
		{h.recorder, "./e2e/hooks/recorder", "-X main.recordFile=" + h.records + " -X main.logFile=" + h.hookLog},
		{h.tagfilter, "./e2e/hooks/tagfilter", "-X main.recordFile=" + h.records},
	}
	for _, b := range builds {
		cmd := exec.Command("go", "build", "-o", b.out, "-ldflags", b.ldflags, b.pkg)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go build %s:\n%s", b.pkg, out)
	}
	t.Logf("timing: build hooks %.1fs", time.Since(start).Seconds())
}

// privateConfig writes the configuration libvirtd will see in its mount namespace, so that the host's
// /etc is never modified: /etc/libvirt (qemu.conf, hooks/, and where libvirtd keeps the definitions it
// is given), /etc/passwd and /etc/group with the libvirt-qemu user the QEMU driver insists on, and
// /var/log/libvirt.
func (h *harness) privateConfig(t *testing.T) launchSpec {
	t.Helper()
	libvirtd, err := lookPath("libvirtd")
	require.NoError(t, err)
	spec := launchSpec{
		Libvirtd: libvirtd,
		Env:      []string{"PATH=" + sysPath, "HOME=/root"},
	}

	require.NoError(t, os.MkdirAll(h.hooksDir, 0o755))
	if entries, err := os.ReadDir("/etc/libvirt"); err == nil {
		for _, e := range entries { // the host's own settings, e.g. libvirt.conf, except what we replace
			if !e.Type().IsRegular() || e.Name() == "qemu.conf" {
				continue
			}
			b, err := os.ReadFile(filepath.Join("/etc/libvirt", e.Name()))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(h.etcDir, e.Name()), b, 0o644))
		}
	} else {
		skip(t, "/etc/libvirt is missing after installing libvirt: %v", err)
	}
	require.NoError(t, os.WriteFile(filepath.Join(h.etcDir, "qemu.conf"), []byte(qemuConf), 0o644))
	spec.Binds = append(spec.Binds, [2]string{h.etcDir, "/etc/libvirt"})

	passwd, err := os.ReadFile("/etc/passwd")
	require.NoError(t, err)
	if !hasEntry(passwd, "libvirt-qemu") {
		group, err := os.ReadFile("/etc/group")
		require.NoError(t, err)
		id := freeID(passwd, group)
		p, g := filepath.Join(h.dir, "passwd"), filepath.Join(h.dir, "group")
		require.NoError(t, os.WriteFile(p, appendLine(passwd, fmt.Sprintf("libvirt-qemu:x:%d:%d:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin", id, id)), 0o644))
		if !hasEntry(group, "libvirt-qemu") {
			require.NoError(t, os.WriteFile(g, appendLine(group, fmt.Sprintf("libvirt-qemu:x:%d:", id)), 0o644))
			spec.Binds = append(spec.Binds, [2]string{g, "/etc/group"})
		}
		spec.Binds = append(spec.Binds, [2]string{p, "/etc/passwd"})
	}

	// Runtime state, domain and network state, logs and the QEMU capability cache stay private too:
	// nothing of the host's libvirt is read or written. The capability cache lives on in cacheDir, so
	// that warm runs skip the QEMU probe (4-8 s); libvirt revalidates it on every start.
	for _, d := range []struct{ private, target string }{
		{filepath.Join(h.dir, "run-libvirt"), "/run/libvirt"},
		{filepath.Join(h.dir, "lib-libvirt"), "/var/lib/libvirt"},
		{filepath.Join(h.dir, "log-libvirt"), "/var/log/libvirt"},
		{cacheDir, "/var/cache/libvirt"},
	} {
		src := d.private
		require.NoError(t, os.MkdirAll(src, 0o755))
		if _, err := os.Stat(d.target); errors.Is(err, fs.ErrNotExist) {
			require.NoError(t, os.MkdirAll(d.target, 0o755), "mount point")
			h.created = append(h.created, d.target)
		}
		spec.Binds = append(spec.Binds, [2]string{src, d.target})
	}
	for _, sub := range []string{"qemu", "lxc"} {
		require.NoError(t, os.MkdirAll(filepath.Join(h.dir, "log-libvirt", sub), 0o755))
	}
	h.socket = filepath.Join(h.dir, "run-libvirt", "libvirt-sock")
	spec.UnmountUnified = mixedCgroups()
	return spec
}

// hasEntry reports whether an /etc/passwd or /etc/group file has an entry named name.
func hasEntry(file []byte, name string) bool {
	for line := range strings.SplitSeq(string(file), "\n") {
		if strings.HasPrefix(line, name+":") {
			return true
		}
	}
	return false
}

// freeID returns a uid that is also a free gid.
func freeID(passwd, group []byte) int {
	used := map[string]bool{}
	for _, f := range [][]byte{passwd, group} {
		for line := range strings.SplitSeq(string(f), "\n") {
			if fields := strings.Split(line, ":"); len(fields) > 2 {
				used[fields[2]] = true
			}
		}
	}
	id := 64055 // Debian's usual libvirt-qemu uid
	for used[strconv.Itoa(id)] {
		id--
	}
	return id
}

func appendLine(file []byte, line string) []byte {
	out := bytes.Clone(file)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, line+"\n"...)
}

// mixedCgroups reports whether cgroup v1 controllers are mounted together with a cgroup2 hierarchy on
// /sys/fs/cgroup/unified: libvirt's lxc driver then fails to start containers.
func mixedCgroups() bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == "/sys/fs/cgroup/unified" {
			return true
		}
	}
	return false
}

// installHooks makes the recorder the hook of every driver, as symlinks named after the drivers. They
// must exist before libvirtd starts: libvirt looks for each driver's hooks only at start and on SIGHUP.
func (h *harness) installHooks(t *testing.T) {
	t.Helper()
	for _, d := range hookDrivers {
		require.NoError(t, os.Symlink(h.recorder, filepath.Join(h.hooksDir, d)))
	}
}

// start starts libvirtd in new mount and network namespaces and waits until it answers.
func (h *harness) start(t *testing.T) {
	t.Helper()
	begin := time.Now()
	spec, err := json.Marshal(h.spec)
	require.NoError(t, err)
	logf, err := os.OpenFile(h.daemonLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	require.NoError(t, err)
	defer logf.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = []string{launchEnv + "=" + string(spec)}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Go makes the new mount namespace private (MS_REC|MS_PRIVATE on /) before exec.
		Unshareflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWNET,
		// If the test binary dies (go test -timeout), libvirtd goes too.
		Pdeathsig: syscall.SIGTERM,
	}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) {
			skip(t, "cannot create mount and network namespaces for libvirtd: %v", err)
		}
		require.NoError(t, err, "start libvirtd")
	}
	d := &daemon{cmd: cmd, done: make(chan struct{})}
	go func() { d.err = cmd.Wait(); close(d.done) }()
	h.d = d
	if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", cmd.Process.Pid)); err == nil {
		h.namespaces = append(h.namespaces, ns)
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-d.done:
			log := tailFile(h.daemonLog, 30)
			if strings.Contains(log, "e2e launcher:") && strings.Contains(log, "operation not permitted") {
				skip(t, "cannot give libvirtd its private mounts: %s", log)
			}
			t.Fatalf("libvirtd exited at start (%v):\n%s", d.err, log)
		default:
		}
		if _, err := h.virsh(qemuDriver, "version"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("libvirtd did not answer within 30s: %v\n%s", err, tailFile(h.daemonLog, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("timing: libvirtd ready %.1fs (pid %d)", time.Since(begin).Seconds(), cmd.Process.Pid)
}

// pid returns the running libvirtd's process id.
func (h *harness) pid() int { return h.d.cmd.Process.Pid }

// stop stops the libvirtd the harness started, and only that process: SIGTERM, then SIGKILL after 20s.
func (h *harness) stop(t *testing.T) {
	t.Helper()
	d := h.d
	if d == nil {
		return
	}
	h.d = nil
	select {
	case <-d.done:
		t.Logf("libvirtd had already exited: %v", d.err)
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		t.Errorf("libvirtd did not stop within 20s of SIGTERM: killing it")
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// restart stops libvirtd and starts a new one, in new namespaces, with the same configuration.
func (h *harness) restart(t *testing.T) {
	t.Helper()
	h.stop(t)
	h.start(t)
}

// teardown removes every domain and network the tests made, stops libvirtd, and kills what is left in
// its namespaces (a VM that outlived a crashed libvirtd, for example).
func (h *harness) teardown(t *testing.T) {
	if h.d != nil {
		select {
		case <-h.d.done:
		default:
			h.removeAll(t)
		}
	}
	h.stop(t)
	h.killLeftovers(t)
	for _, dir := range h.created {
		_ = os.Remove(dir) // only when empty
	}
	if t.Failed() {
		t.Logf("libvirtd log (tail):\n%s", tailFile(h.daemonLog, 40))
		t.Logf("hooks log (tail):\n%s", tailFile(h.hookLog, 40))
	}
	if dst := os.Getenv(artifactsEnv); dst != "" {
		h.keepArtifacts(t, dst)
	}
}

// keepArtifacts copies the record file and the logs to dst, for CI to keep.
func (h *harness) keepArtifacts(t *testing.T, dst string) {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Logf("artifacts: %v", err)
		return
	}
	for _, src := range []string{h.records, h.hookLog, h.daemonLog, filepath.Join(h.dir, "detached.log")} {
		if b, err := os.ReadFile(src); err == nil {
			if err := os.WriteFile(filepath.Join(dst, filepath.Base(src)), b, 0o644); err != nil {
				t.Logf("artifacts: %v", err)
			}
		}
	}
	if err := os.CopyFS(filepath.Join(dst, "log-libvirt"), os.DirFS(filepath.Join(h.dir, "log-libvirt"))); err != nil {
		t.Logf("artifacts: %v", err)
	}
	t.Logf("artifacts: records and logs copied to %s", dst)
}

// removeAll destroys and undefines every domain and network whose name starts with prefix.
func (h *harness) removeAll(t *testing.T) {
	for _, drv := range []string{qemuDriver, lxcDriver} {
		out, err := h.virsh(drv, "list", "--all", "--name")
		if err != nil {
			t.Logf("cleanup: %v", err)
			continue
		}
		for name := range strings.FieldsSeq(out) {
			if strings.HasPrefix(name, prefix) {
				h.removeDomain(t, drv, name)
			}
		}
	}
	out, err := h.virsh(qemuDriver, "net-list", "--all", "--name")
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	for name := range strings.FieldsSeq(out) {
		if strings.HasPrefix(name, prefix) {
			h.removeNetwork(t, name)
		}
	}
}

// removeDomain destroys and undefines a domain, whatever state it is in.
func (h *harness) removeDomain(t *testing.T, drv, name string) {
	if state, err := h.virsh(drv, "domstate", name); err != nil {
		return // already gone
	} else if strings.TrimSpace(state) != "shut off" {
		if _, err := h.virsh(drv, "destroy", name); err != nil {
			t.Logf("cleanup: %v", err)
		}
	}
	if _, err := h.virsh(drv, "undefine", name); err != nil && !strings.Contains(err.Error(), "not persistent") {
		t.Logf("cleanup: %v", err)
	}
}

// removeNetwork destroys and undefines a network, whatever state it is in; its bridge goes with it.
func (h *harness) removeNetwork(t *testing.T, name string) {
	if _, err := h.virsh(qemuDriver, "net-info", name); err != nil {
		return
	}
	if active, _ := h.virsh(qemuDriver, "net-list", "--name"); slices.Contains(strings.Fields(active), name) {
		if _, err := h.virsh(qemuDriver, "net-destroy", name); err != nil {
			t.Logf("cleanup: %v", err)
		}
	}
	if _, err := h.virsh(qemuDriver, "net-undefine", name); err != nil && !strings.Contains(err.Error(), "not persistent") && !strings.Contains(err.Error(), "no network") {
		t.Logf("cleanup: %v", err)
	}
}

// killLeftovers kills the processes still running in the mount namespaces of the libvirtd processes the
// harness started. Nothing else lives there, so nothing else is touched.
func (h *harness) killLeftovers(t *testing.T) {
	if len(h.namespaces) == 0 {
		return
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
		if err != nil || !slices.Contains(h.namespaces, ns) {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		t.Errorf("cleanup: %s[%d] outlived libvirtd in its namespace: killing it", strings.TrimSpace(string(comm)), pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// virsh runs virsh on <drv>:///system of the harness's libvirtd; the error carries virsh's stderr.
func (h *harness) virsh(drv string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	uri := drv + ":///system?socket=" + h.socket
	cmd := exec.CommandContext(ctx, "virsh", append([]string{"-q", "-c", uri}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("virsh %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// mustVirsh runs virsh and fails the test when it fails.
func (h *harness) mustVirsh(t *testing.T, drv string, args ...string) string {
	t.Helper()
	out, err := h.virsh(drv, args...)
	require.NoError(t, err)
	return out
}

// define defines a domain from XML and removes it when the test ends.
func (h *harness) define(t *testing.T, drv, name, xml string) {
	t.Helper()
	path := filepath.Join(h.dir, name+".xml")
	require.NoError(t, os.WriteFile(path, []byte(xml), 0o600))
	h.mustVirsh(t, drv, "define", path)
	t.Cleanup(func() { h.removeDomain(t, drv, name) })
}

// state returns virsh domstate.
func (h *harness) state(t *testing.T, drv, name string) string {
	t.Helper()
	return strings.TrimSpace(h.mustVirsh(t, drv, "domstate", name))
}

// allRecords returns every record written so far.
func (h *harness) allRecords(t *testing.T) []Record {
	t.Helper()
	recs, err := ReadRecords(h.records)
	require.NoError(t, err)
	return recs
}

// mark returns a position in the record file: since(mark) returns what was written after it.
func (h *harness) mark(t *testing.T) int {
	t.Helper()
	return len(h.allRecords(t))
}

// since returns the records written after mark.
func (h *harness) since(t *testing.T, mark int) []Record {
	t.Helper()
	return h.allRecords(t)[mark:]
}

// waitFor polls the records written after mark until done accepts them, for hooks libvirt runs after the
// virsh command returned; it fails the test after 30s.
func (h *harness) waitFor(t *testing.T, mark int, what string, done func([]Record) bool) []Record {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		recs := h.since(t, mark)
		if done(recs) {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s; records:\n%s", what, describe(recs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// filter returns the records for which keep is true.
func filter(recs []Record, keep func(Record) bool) []Record {
	var out []Record
	for _, r := range recs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// of keeps the main hook's records for one driver and object.
func of(recs []Record, driver, object string) []Record {
	return filter(recs, func(r Record) bool {
		return r.Hook == "recorder" && r.Driver == driver && r.Object == object && filepath.Base(r.Argv[0]) == driver
	})
}

// calls returns "op subop" for each record ("op" alone when there is no subop).
func calls(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = strings.TrimSpace(r.Op + " " + r.SubOp)
	}
	return out
}

// countOf returns how many of calls are c.
func countOf(calls []string, c string) int {
	n := 0
	for _, x := range calls {
		if x == c {
			n++
		}
	}
	return n
}

// hasCall reports whether recs hold op for object.
func hasCall(recs []Record, object, op string) bool {
	return slices.ContainsFunc(recs, func(r Record) bool { return r.Object == object && r.Op == op })
}

// describe formats records for failure messages.
func describe(recs []Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %s %s: %s\n", r.Hook, r.Route, strings.Join(r.Argv, " "))
	}
	return b.String()
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// tailFile returns the last n lines of a file, or why it cannot.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "(no " + filepath.Base(path) + ")"
	} else if err != nil {
		return err.Error()
	}
	return tail(b, n)
}
