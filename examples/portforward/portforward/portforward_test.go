package portforward

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookkit-dev/hookkit/examples/command"
	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/hookkit-dev/hookkit/hookkit/lock"
	"github.com/hookkit-dev/hookkit/hookkit/state"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtureUUID is the UUID of the domain in the qemu fixtures.
const fixtureUUID = "c1f222e6-4bae-4717-be4a-f8eaa33cd9ff"

// withForwards returns the qemu fixture of op with a portforward element holding forwards in <metadata>.
func withForwards(op string, forwards ...string) hookkittest.Call {
	c := hookkittest.Event(event.QEMU, op)
	md := "<metadata>\n    <pf:portforward xmlns:pf='" + Namespace + "'>\n"
	for _, f := range forwards {
		md += "      <pf:forward " + f + "/>\n"
	}
	md += "    </pf:portforward>\n  </metadata>\n  <memory"
	return c.WithStdin(bytes.Replace(c.Stdin, []byte("<memory"), []byte(md), 1))
}

type env struct {
	rec    *command.Recorder
	store  *state.Store
	router *hookkit.Router
	opts   Options
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	e := &env{rec: &command.Recorder{}}
	dir := t.TempDir()
	e.store = state.Open(state.Options{Dir: filepath.Join(dir, "state")})
	if opts.Runner == nil {
		opts.Runner = e.rec
	}
	opts.State = e.store
	opts.LockDir = filepath.Join(dir, "lock")
	e.opts = opts
	e.router = hookkit.New(hookkit.WithLogger(discard()))
	New(opts).Register(e.router)
	return e
}

func (e *env) record(t *testing.T) (Record, bool) {
	t.Helper()
	var rec Record
	found, err := e.store.Load(fixtureUUID, StateKey, &rec)
	require.NoError(t, err)
	return rec, found
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name    string
		forward Forward
		wantErr string
	}{
		{"ok ipv4", Forward{Proto: "tcp", HostPort: "2222", Guest: "192.168.122.10", GuestPort: "22"}, ""},
		{"ok ipv6 with interface and host ip", Forward{Proto: "udp", HostPort: "53", Guest: "fd00::10", HostIP: "2001:db8::1", Interface: "eth0.100"}, ""},
		{"missing proto", Forward{HostPort: "1", Guest: "10.0.0.1"}, "missing proto"},
		{"bad proto", Forward{Proto: "sctp", HostPort: "1", Guest: "10.0.0.1"}, `proto "sctp"`},
		{"port zero", Forward{Proto: "tcp", HostPort: "0", Guest: "10.0.0.1"}, `host-port: "0" is not a port`},
		{"port too big", Forward{Proto: "tcp", HostPort: "65536", Guest: "10.0.0.1"}, `host-port: "65536"`},
		{"port not a number", Forward{Proto: "tcp", HostPort: "22 ; reboot", Guest: "10.0.0.1"}, "host-port"},
		{"signed port", Forward{Proto: "tcp", HostPort: "+22", Guest: "10.0.0.1"}, "host-port"},
		{"bad guest port", Forward{Proto: "tcp", HostPort: "22", GuestPort: "-1", Guest: "10.0.0.1"}, "guest-port"},
		{"missing guest", Forward{Proto: "tcp", HostPort: "22"}, "guest: missing"},
		{"guest injection", Forward{Proto: "tcp", HostPort: "22", Guest: "10.0.0.1 accept"}, "not an IP address"},
		{"guest hostname", Forward{Proto: "tcp", HostPort: "22", Guest: "vm.example.com"}, "not an IP address"},
		{"guest multicast", Forward{Proto: "tcp", HostPort: "22", Guest: "224.0.0.1"}, "not a unicast"},
		{"guest unspecified", Forward{Proto: "tcp", HostPort: "22", Guest: "::"}, "not a unicast"},
		{"zoned guest", Forward{Proto: "tcp", HostPort: "22", Guest: "fe80::1%eth0"}, "zoned"},
		{"family mismatch", Forward{Proto: "tcp", HostPort: "22", Guest: "10.0.0.1", HostIP: "2001:db8::1"}, "same address family"},
		{"interface too long", Forward{Proto: "tcp", HostPort: "22", Guest: "10.0.0.1", Interface: "abcdefghijklmnop"}, "interface"},
		{"interface with quote", Forward{Proto: "tcp", HostPort: "22", Guest: "10.0.0.1", Interface: `eth0"`}, "interface"},
		{"interface with space", Forward{Proto: "tcp", HostPort: "22", Guest: "10.0.0.1", Interface: "eth 0"}, "interface"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.forward.Rule()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestRulesRefusesDuplicates(t *testing.T) {
	c := Config{Forwards: []Forward{
		{Proto: "tcp", HostPort: "80", Guest: "10.0.0.1"},
		{Proto: "udp", HostPort: "80", Guest: "10.0.0.1"},
		{Proto: "tcp", HostPort: "80", Guest: "10.0.0.2"},
	}}
	_, err := c.Rules()
	require.EqualError(t, err, "forward 3: tcp host port 80 is already forwarded by forward 1")
}

func TestPlans(t *testing.T) {
	rules, err := (&Config{Forwards: []Forward{
		{Proto: "tcp", HostPort: "2222", Guest: "192.168.122.10", GuestPort: "22"},
		{Proto: "udp", HostPort: "5353", Guest: "fd00::10", GuestPort: "53", Interface: "eth0", HostIP: "2001:db8::1"},
	}}).Rules()
	require.NoError(t, err)
	render := func(steps []step) (do []string) {
		for _, s := range steps {
			do = append(do, command.Format(s.do[0], s.do[1:]...))
		}
		return do
	}
	renderAll := func(argvs [][]string) (out []string) {
		for _, a := range argvs {
			out = append(out, command.Format(a[0], a[1:]...))
		}
		return out
	}
	tbl := "hookkit_pf_c1f222e64bae4717be4af8eaa33cd9ff"
	nftDo := render(NFT.plan(fixtureUUID, rules))
	assert.Equal(t, []string{
		"nft add table inet " + tbl,
		"nft add chain inet " + tbl + ` prerouting "{" type nat hook prerouting priority -100 ";" policy accept ";" "}"`,
		"nft add chain inet " + tbl + ` forward "{" type filter hook forward priority 0 ";" policy accept ";" "}"`,
		"nft add rule inet " + tbl + " prerouting meta nfproto ipv4 tcp dport 2222 dnat ip to 192.168.122.10:22",
		"nft add rule inet " + tbl + " forward meta nfproto ipv4 ip daddr 192.168.122.10 tcp dport 22 ct status dnat accept",
		"nft add rule inet " + tbl + ` prerouting iifname "\"eth0\"" meta nfproto ipv6 ip6 daddr 2001:db8::1 udp dport 5353 dnat ip6 to "[fd00::10]:53"`,
		"nft add rule inet " + tbl + " forward meta nfproto ipv6 ip6 daddr fd00::10 udp dport 53 ct status dnat accept",
	}, nftDo)
	assert.Equal(t, []string{"nft delete table inet " + tbl}, renderAll(NFT.removal(fixtureUUID, rules)))

	c := "hookkit-pf:" + fixtureUUID
	iptDo := render(IPTables.plan(fixtureUUID, rules))
	assert.Equal(t, []string{
		"iptables -w -t nat -A PREROUTING -p tcp -m tcp --dport 2222 -m comment --comment " + c + " -j DNAT --to-destination 192.168.122.10:22",
		"iptables -w -t filter -I FORWARD -d 192.168.122.10 -p tcp -m tcp --dport 22 -m conntrack --ctstate DNAT -m comment --comment " + c + " -j ACCEPT",
		"ip6tables -w -t nat -A PREROUTING -i eth0 -d 2001:db8::1 -p udp -m udp --dport 5353 -m comment --comment " + c + ` -j DNAT --to-destination "[fd00::10]:53"`,
		"ip6tables -w -t filter -I FORWARD -d fd00::10 -p udp -m udp --dport 53 -m conntrack --ctstate DNAT -m comment --comment " + c + " -j ACCEPT",
	}, iptDo)
	assert.Equal(t, []string{
		"ip6tables -w -t filter -D FORWARD -d fd00::10 -p udp -m udp --dport 53 -m conntrack --ctstate DNAT -m comment --comment " + c + " -j ACCEPT",
		"ip6tables -w -t nat -D PREROUTING -i eth0 -d 2001:db8::1 -p udp -m udp --dport 5353 -m comment --comment " + c + ` -j DNAT --to-destination "[fd00::10]:53"`,
		"iptables -w -t filter -D FORWARD -d 192.168.122.10 -p tcp -m tcp --dport 22 -m conntrack --ctstate DNAT -m comment --comment " + c + " -j ACCEPT",
		"iptables -w -t nat -D PREROUTING -p tcp -m tcp --dport 2222 -m comment --comment " + c + " -j DNAT --to-destination 192.168.122.10:22",
	}, renderAll(IPTables.removal(fixtureUUID, rules)))
}

func TestLifecycleNFT(t *testing.T) {
	e := newEnv(t, Options{})
	res := hookkittest.Run(e.router, withForwards("start", `proto='tcp' host-port='2222' guest='192.168.122.10' guest-port='22'`))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Len(t, e.rec.Calls(), 5)
	rec, found := e.record(t)
	require.True(t, found)
	assert.Equal(t, NFT, rec.Backend)
	assert.Equal(t, "hooktest", rec.Domain)
	require.Len(t, rec.Rules, 1)
	assert.Equal(t, "tcp 2222 -> 192.168.122.10:22", rec.Rules[0].String())

	e.rec.Reset()
	res = hookkittest.Run(e.router, hookkittest.Event(event.QEMU, "stopped"))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, []string{"nft delete table inet hookkit_pf_c1f222e64bae4717be4af8eaa33cd9ff"}, e.rec.Calls())
	_, found = e.record(t)
	assert.False(t, found)

	e.rec.Reset()
	res = hookkittest.Run(e.router, hookkittest.Event(event.QEMU, "release").WithExtra("shutdown"))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Empty(t, e.rec.Calls(), "release after a clean stopped has nothing left to remove")
}

func TestNoMetadataDoesNothing(t *testing.T) {
	e := newEnv(t, Options{})
	for _, op := range []string{"prepare", "start", "started", "stopped", "release"} {
		res := hookkittest.Run(e.router, hookkittest.Event(event.QEMU, op))
		require.Equal(t, 0, res.Code, res.Stderr)
	}
	assert.Empty(t, e.rec.Calls())
}

// The release removes what start applied, not what the metadata says at release time.
func TestRemovesWhatWasAppliedEvenIfConfigChanged(t *testing.T) {
	e := newEnv(t, Options{Backend: IPTables})
	res := hookkittest.Run(e.router, withForwards("start", `proto='tcp' host-port='8080' guest='10.0.0.5' guest-port='80'`))
	require.Equal(t, 0, res.Code, res.Stderr)
	e.rec.Reset()

	// Edited while running: another port, another guest address.
	res = hookkittest.Run(e.router, withForwards("release", `proto='udp' host-port='9999' guest='10.0.0.9'`).WithExtra("destroyed"))
	require.Equal(t, 0, res.Code, res.Stderr)
	calls := strings.Join(e.rec.Calls(), "\n")
	assert.Contains(t, calls, "-D PREROUTING -p tcp -m tcp --dport 8080")
	assert.Contains(t, calls, "-D FORWARD -d 10.0.0.5 -p tcp -m tcp --dport 80")
	assert.NotContains(t, calls, "9999")
	assert.Len(t, e.rec.Calls(), 2)
}

func TestFailureRollsBack(t *testing.T) {
	e := newEnv(t, Options{Backend: IPTables})
	e.rec.Fail = func(argv []string) error {
		if argv[0] == "ip6tables" && argv[4] == "-I" {
			return errors.New("ip6tables: exit status 2: can't initialize ip6tables table `filter'")
		}
		return nil
	}
	res := hookkittest.Run(e.router, withForwards("start",
		`proto='tcp' host-port='8080' guest='10.0.0.5' guest-port='80'`,
		`proto='tcp' host-port='8443' guest='fd00::5' guest-port='443'`))
	require.Equal(t, 1, res.Code)
	assert.Equal(t, "qemu: qemu hooktest start begin: portforward: apply (rolled back): ip6tables: exit status 2: can't initialize ip6tables table `filter'\n", res.Stderr)
	calls := e.rec.Calls()
	require.Len(t, calls, 7) // 4 adds (the last failed), then the 3 successful ones undone, newest first
	assert.Contains(t, calls[4], "ip6tables -w -t nat -D PREROUTING")
	assert.Contains(t, calls[5], "iptables -w -t filter -D FORWARD")
	assert.Contains(t, calls[6], "iptables -w -t nat -D PREROUTING")
	_, found := e.record(t)
	assert.False(t, found, "a rolled back apply leaves no record")
}

func TestInvalidMetadataAbortsStart(t *testing.T) {
	tests := []struct {
		name, forward, wantErr string
	}{
		{"port", `proto='tcp' host-port='70000' guest='10.0.0.5'`, `forward 1: host-port: "70000" is not a port number (1-65535)`},
		{"address", `proto='tcp' host-port='22' guest='$(reboot)'`, `forward 1: guest: "$(reboot)" is not an IP address`},
		{"interface", `proto='tcp' host-port='22' guest='10.0.0.5' interface='eth0;x'`, `forward 1: interface "eth0;x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			res := hookkittest.Run(e.router, withForwards("start", tt.forward))
			require.Equal(t, 1, res.Code)
			assert.Contains(t, res.Stderr, "portforward: metadata "+Namespace+": "+tt.wantErr)
			assert.Equal(t, 1, strings.Count(res.Stderr, "\n"))
			assert.Empty(t, e.rec.Calls())
		})
	}
}

func TestApplyOnPrepareAndStaleRecord(t *testing.T) {
	e := newEnv(t, Options{ApplyOn: "prepare"})
	call := withForwards("prepare", `proto='tcp' host-port='2222' guest='192.168.122.10' guest-port='22'`)
	require.Equal(t, 0, hookkittest.Run(e.router, call).Code)
	e.rec.Reset()
	// A second prepare without a teardown in between (a hook killed half way): the old table goes first.
	require.Equal(t, 0, hookkittest.Run(e.router, call).Code)
	calls := e.rec.Calls()
	require.Len(t, calls, 6)
	assert.Equal(t, "nft delete table inet hookkit_pf_c1f222e64bae4717be4af8eaa33cd9ff", calls[0])
	e.rec.Reset()
	// The start op does nothing when forwards open at prepare.
	require.Equal(t, 0, hookkittest.Run(e.router, withForwards("start", `proto='tcp' host-port='1' guest='10.0.0.1'`)).Code)
	assert.Empty(t, e.rec.Calls())
}

func TestStoppedFailureKeepsRecordForRelease(t *testing.T) {
	e := newEnv(t, Options{})
	require.Equal(t, 0, hookkittest.Run(e.router, withForwards("start", `proto='tcp' host-port='2222' guest='10.0.0.2'`)).Code)
	e.rec.Fail = func([]string) error { return errors.New("nft: exit status 1: No such file or directory") }
	res := hookkittest.Run(e.router, hookkittest.Event(event.QEMU, "stopped"))
	require.Equal(t, 1, res.Code)
	_, found := e.record(t)
	require.True(t, found, "stopped keeps the record for release to retry")
	res = hookkittest.Run(e.router, hookkittest.Event(event.QEMU, "release"))
	require.Equal(t, 1, res.Code, "release reports the failure")
	assert.Contains(t, res.Stderr, "No such file or directory")
	_, found = e.record(t)
	assert.False(t, found, "release drops the record anyway")
}

func TestDryRun(t *testing.T) {
	var out bytes.Buffer
	e := newEnv(t, Options{Runner: &command.DryRun{W: &out}})
	res := hookkittest.Run(e.router, withForwards("start", `proto='udp' host-port='53' guest='10.0.0.2'`))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Empty(t, res.Stdout)
	assert.Contains(t, out.String(), "nft add rule inet hookkit_pf_c1f222e64bae4717be4af8eaa33cd9ff prerouting meta nfproto ipv4 udp dport 53 dnat ip to 10.0.0.2:53\n")
}

func TestMissingTool(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	e := newEnv(t, Options{Runner: command.Exec{}})
	res := hookkittest.Run(e.router, withForwards("start", `proto='tcp' host-port='2222' guest='10.0.0.2'`))
	require.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, "portforward: apply (rolled back): nft: not found in PATH")
}

func TestLockSerializes(t *testing.T) {
	e := newEnv(t, Options{LockTimeout: -1})
	held, err := lock.Acquire(context.Background(), LockName, lock.Options{Dir: e.opts.LockDir})
	require.NoError(t, err)
	defer held.Release()
	r := hookkit.New(hookkit.WithLogger(discard()))
	opts := e.opts
	opts.LockTimeout = 20 * time.Millisecond
	New(opts).Register(r)
	res := hookkittest.Run(r, withForwards("start", `proto='tcp' host-port='2222' guest='10.0.0.2'`))
	require.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, "lock portforward: timed out")
	assert.Empty(t, e.rec.Calls())
}

func TestBadOptions(t *testing.T) {
	e := newEnv(t, Options{Backend: "pf"})
	res := hookkittest.Run(e.router, withForwards("start", `proto='tcp' host-port='2222' guest='10.0.0.2'`))
	require.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, `unknown firewall backend "pf"`)

	e = newEnv(t, Options{ApplyOn: "started"})
	res = hookkittest.Run(e.router, withForwards("prepare", `proto='tcp' host-port='2222' guest='10.0.0.2'`))
	require.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, `ApplyOn "started"`)
}

func TestOverlaps(t *testing.T) {
	rule := func(f Forward) Rule {
		r, err := f.Rule()
		require.NoError(t, err)
		return r
	}
	base := Forward{Proto: "tcp", HostPort: "2222", Guest: "10.0.0.1"}
	with := func(mod func(*Forward)) Rule { f := base; mod(&f); return rule(f) }
	tests := []struct {
		name string
		o    Rule
		want bool
	}{
		{"same port, other guest", with(func(f *Forward) { f.Guest = "10.0.0.2" }), true},
		{"other protocol", with(func(f *Forward) { f.Proto = "udp" }), false},
		{"other port", with(func(f *Forward) { f.HostPort = "2223" }), false},
		{"other family", with(func(f *Forward) { f.Guest = "fd00::1" }), false},
		{"restricted to a host address", with(func(f *Forward) { f.HostIP = "203.0.113.1" }), true},
		{"restricted to an interface", with(func(f *Forward) { f.Interface = "eth1" }), true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, rule(base).Overlaps(tt.o), tt.name)
	}
	a, b := with(func(f *Forward) { f.HostIP = "203.0.113.1" }), with(func(f *Forward) { f.HostIP = "203.0.113.2" })
	assert.False(t, a.Overlaps(b), "distinct host addresses")
	a, b = with(func(f *Forward) { f.Interface = "eth0" }), with(func(f *Forward) { f.Interface = "eth1" })
	assert.False(t, a.Overlaps(b), "distinct interfaces")
}

func TestRefusesAPortAnotherDomainForwards(t *testing.T) {
	e := newEnv(t, Options{})
	require.Equal(t, 0, hookkittest.Run(e.router, withForwards("start", `proto='tcp' host-port='2222' guest='10.0.0.2'`)).Code)
	e.rec.Reset()

	other := withForwards("start", `proto='tcp' host-port='2222' guest='10.0.0.3'`)
	other.Stdin = bytes.Replace(other.Stdin, []byte(fixtureUUID), []byte("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"), 1)
	other.Stdin = bytes.Replace(other.Stdin, []byte("<name>hooktest</name>"), []byte("<name>web2</name>"), 1)
	res := hookkittest.Run(e.router, other.WithObject("web2"))
	require.Equal(t, 1, res.Code)
	assert.Equal(t, "qemu: qemu web2 start begin: portforward: tcp 2222 -> 10.0.0.3:2222: host port tcp/2222 is already forwarded to domain hooktest ("+fixtureUUID+")\n", res.Stderr)
	assert.Empty(t, e.rec.Calls())

	// Once the first domain is gone, the port is free.
	require.Equal(t, 0, hookkittest.Run(e.router, hookkittest.Event(event.QEMU, "release")).Code)
	e.rec.Reset()
	res = hookkittest.Run(e.router, other.WithObject("web2"))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Len(t, e.rec.Calls(), 5)
}

// ctxRunner records commands and, like command.Exec (exec.CommandContext), refuses to start one once its
// context is done. cancelAt cancels the call's context while that command (1-based) runs; failUndo fails
// every removal (-D).
type ctxRunner struct {
	command.Recorder
	n        int
	cancelAt int
	cancel   context.CancelFunc
	failUndo bool
}

func (r *ctxRunner) Run(ctx context.Context, name string, args ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.n++
	_ = r.Recorder.Run(ctx, name, args...)
	if r.n == r.cancelAt {
		r.cancel()
		return context.Canceled
	}
	if r.failUndo && slices.Contains(args, "-D") {
		return errors.New("iptables: exit status 1: Bad rule")
	}
	return nil
}

// TestRollbackWhenTheCallIsCancelled: when the deadline or SIGTERM ends the call's context in the middle
// of an apply, the rollback still runs (on a context of its own); when it cannot undo everything, the
// record stays, so that stopped and release remove the rest.
func TestRollbackWhenTheCallIsCancelled(t *testing.T) {
	for _, failUndo := range []bool{false, true} {
		t.Run(fmt.Sprintf("undo fails: %v", failUndo), func(t *testing.T) {
			run := &ctxRunner{cancelAt: 3, failUndo: failUndo}
			e := newEnv(t, Options{Backend: IPTables, Runner: run})
			f := New(e.opts)
			r := hookkit.New(hookkit.WithLogger(discard()))
			r.OnDomainStart(func(dom *hookkit.Domain) error {
				ctx, cancel := context.WithCancel(dom.Context())
				run.cancel = cancel
				return f.Apply(ctx, dom)
			})
			res := hookkittest.Run(r, withForwards("start",
				`proto='tcp' host-port='2222' guest='10.0.0.5' guest-port='22'`,
				`proto='tcp' host-port='8080' guest='10.0.0.5' guest-port='80'`))
			require.Equal(t, 1, res.Code)
			calls := run.Calls()
			require.Len(t, calls, 5, "3 adds (the last cut off), then the 2 that succeeded undone: %q", calls)
			assert.Contains(t, calls[3], "iptables -w -t filter -D FORWARD")
			assert.Contains(t, calls[4], "iptables -w -t nat -D PREROUTING")
			_, found := e.record(t)
			if !failUndo {
				assert.Equal(t, "qemu: qemu hooktest start begin: portforward: apply (rolled back): context canceled\n", res.Stderr)
				assert.False(t, found, "a rolled back apply leaves no record")
				return
			}
			assert.Contains(t, res.Stderr, "rollback incomplete")
			assert.True(t, found, "what the rollback could not undo stays recorded")
			run.failUndo = false
			run.Reset()
			require.Equal(t, 0, hookkittest.Run(e.router, withForwards("release")).Code)
			assert.NotEmpty(t, run.Calls(), "release removes the recorded forwards")
			_, found = e.record(t)
			assert.False(t, found)
		})
	}
}

func TestRulesRefusesOverlapsInOneDomain(t *testing.T) {
	c := Config{Forwards: []Forward{
		{Proto: "tcp", HostPort: "2222", Guest: "10.0.0.5", GuestPort: "22"},
		{Proto: "tcp", HostPort: "2222", Guest: "10.0.0.6", GuestPort: "22", Interface: "eth0"},
	}}
	_, err := c.Rules()
	require.EqualError(t, err, "forward 2: tcp host port 2222 is already forwarded by forward 1")
}
