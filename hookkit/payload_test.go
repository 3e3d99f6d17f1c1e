package hookkit_test

import (
	"encoding/xml"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

const metaDomain = `<domain type='kvm' id='7' xmlns:pf='https://example.com/pf/1'>
  <name>web-1</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <metadata>
    <app:cfg xmlns:app="https://example.com/app/1" owner="alice"><app:tier>gold</app:tier></app:cfg>
    <pf:forwards><pf:port host="8080" guest="80"/></pf:forwards>
    <bad:cfg xmlns:bad="https://example.com/bad/1" owner="x"><bad:tier>1</bad:tier></bad:cfg>
  </metadata>
  <devices/>
</domain>
`

// call runs one handler for qemu prepare on doc and returns its result.
func call(t *testing.T, doc string, fn func(d *hookkit.Domain) error) hookkittest.Result {
	t.Helper()
	r := quiet()
	r.OnDomainPrepare(fn)
	return hookkittest.Run(r, hookkittest.Event(event.QEMU, "prepare").WithObject("web-1").WithStdin([]byte(doc)))
}

func TestDomainIdentity(t *testing.T) {
	res := call(t, metaDomain, func(d *hookkit.Domain) error {
		assert.Equal(t, "web-1", d.Name())
		assert.Equal(t, "11111111-2222-3333-4444-555555555555", d.UUID())
		assert.Equal(t, "kvm", d.Type())
		id, ok := d.ID()
		assert.True(t, ok)
		assert.Equal(t, 7, id)
		cfg, err := d.Config()
		require.NoError(t, err)
		assert.Equal(t, "web-1", cfg.Name)
		again, _ := d.Config()
		assert.Same(t, cfg, again, "Config parses once")
		return nil
	})
	require.Equal(t, 0, res.Code, res.Stderr)
}

func TestStoppedDomainHasNoID(t *testing.T) {
	r := quiet()
	r.OnDomainStopped(func(d *hookkit.Domain) error {
		_, ok := d.ID()
		assert.False(t, ok)
		return nil
	})
	require.Equal(t, 0, hookkittest.Run(r, hookkittest.Event(event.QEMU, "stopped")).Code)
}

type appCfg struct {
	XMLName xml.Name `xml:"https://example.com/app/1 cfg"`
	Owner   string   `xml:"owner,attr"`
	Tier    string   `xml:"https://example.com/app/1 tier"`
}

type pfCfg struct {
	XMLName xml.Name `xml:"https://example.com/pf/1 forwards"`
	Ports   []struct {
		Host  int `xml:"host,attr"`
		Guest int `xml:"guest,attr"`
	} `xml:"https://example.com/pf/1 port"`
}

type badCfg struct {
	XMLName xml.Name `xml:"https://example.com/bad/1 cfg"`
	Tier    struct {
		Level int `xml:"level,attr"`
	} `xml:"https://example.com/bad/1 tier"`
	Owner int `xml:"owner,attr"`
}

func TestMetadata(t *testing.T) {
	res := call(t, metaDomain, func(d *hookkit.Domain) error {
		var app appCfg
		found, err := d.Metadata("https://example.com/app/1", &app)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, "alice", app.Owner)
		assert.Equal(t, "gold", app.Tier)

		var pf pfCfg // prefix declared on <domain>, not on the element
		found, err = d.Metadata("https://example.com/pf/1", &pf)
		require.NoError(t, err)
		require.True(t, found)
		require.Len(t, pf.Ports, 1)
		assert.Equal(t, 8080, pf.Ports[0].Host)

		found, err = d.Metadata("https://example.com/absent", &app)
		assert.NoError(t, err, "absent metadata is not an error")
		assert.False(t, found)

		var bad badCfg
		found, err = d.Metadata("https://example.com/bad/1", &bad)
		assert.True(t, found)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "metadata https://example.com/bad/1: ")

		raw, ok := d.MetadataXML("https://example.com/app/1")
		assert.True(t, ok)
		assert.True(t, strings.HasPrefix(string(raw), "<app:cfg") && strings.HasSuffix(string(raw), "</app:cfg>"))
		return nil
	})
	require.Equal(t, 0, res.Code, res.Stderr)
}

func TestReleaseReason(t *testing.T) {
	for _, tc := range []struct {
		extra string
		want  event.ShutoffReason
	}{{"-", event.ReasonNone}, {"destroyed", event.ReasonDestroyed}, {"from snapshot", event.ReasonFromSnapshot}, {"daemon", event.ReasonDaemon}} {
		var got event.ShutoffReason
		r := quiet()
		r.OnDomainRelease(func(d *hookkit.Domain) error { got = d.Reason; return nil })
		require.Equal(t, 0, hookkittest.Run(r, hookkittest.Event(event.QEMU, "release").WithExtra(tc.extra)).Code)
		assert.Equal(t, tc.want, got, tc.extra)
	}
}

func TestDriverFromPath(t *testing.T) {
	for path, want := range map[string]event.Driver{
		"/etc/libvirt/hooks/qemu":               event.QEMU,
		"/etc/libvirt/hooks/network":            event.Network,
		"/etc/libvirt/hooks/qemu.d/10-vfio":     event.QEMU,
		"/etc/libvirt/hooks/lxc.d/audit":        event.LXC,
		"/var/lib/libvirt/hooks/daemon":         event.Daemon,
		"/etc/libvirt/hooks/bhyve.d/.hidden":    event.Bhyve,
		"/etc/libvirt/hooks/frob.d/x":           "",
		"/usr/local/bin/myhook":                 "",
		"qemu":                                  event.QEMU,
		"/etc/libvirt/hooks/qemu.d/network":     event.QEMU, // libvirt runs every qemu.d entry for qemu calls
		"/etc/libvirt/hooks/network.d/qemu":     event.Network,
		"/etc/libvirt/hooks/qemu.d/daemon":      event.QEMU,
		"/etc/libvirt/hooks/not-a-driver.d/lxc": event.LXC, // no driver's .d directory: the name decides
		"/etc/libvirt/hooks/libxl.d/50-migrate": event.Libxl,
	} {
		assert.Equal(t, want, hookkit.DriverFromPath(path), path)
	}
}

func TestInstalledInDotD(t *testing.T) {
	var got event.Driver
	r := quiet()
	r.OnDomainStart(func(d *hookkit.Domain) error { got = d.Driver; return nil })
	require.Equal(t, 0, hookkittest.Run(r, hookkittest.Event(event.LXC, "start").InDir("20-audit")).Code)
	assert.Equal(t, event.LXC, got)
}

func TestNetworkAndPortPayloads(t *testing.T) {
	r := quiet()
	r.OnNetworkPortCreated(func(p *hookkit.NetworkPort) error {
		assert.Equal(t, "hooktest-net", p.OwnerName())
		assert.Len(t, p.OwnerUUID(), 36)
		assert.Len(t, p.UUID(), 36)
		assert.Regexp(t, "^52:54:00:", p.MAC())
		assert.Equal(t, hookkit.PortPlug{Type: "network", Bridge: "virbr-hook"}, hookkit.PortPlug{Type: p.Plug().Type, Bridge: p.Plug().Bridge})
		n, err := p.Network()
		require.NoError(t, err)
		assert.Equal(t, "hooknet", n.Name())
		cfg, err := p.Config()
		require.NoError(t, err)
		assert.Equal(t, p.UUID(), cfg.UUID)
		ncfg, err := n.Config()
		require.NoError(t, err)
		assert.Equal(t, "hooknet", ncfg.Name)
		return nil
	})
	r.OnNetworkPlugged(func(n *hookkit.Network) error {
		d, err := n.Domain() // the legacy payload carries the whole domain
		require.NoError(t, err)
		assert.Equal(t, "hooktest", d.Name())
		return nil
	})
	require.Equal(t, 0, hookkittest.Run(r, hookkittest.Event(event.Network, "port-created")).Code)
	require.Equal(t, 0, hookkittest.Run(r, hookkittest.Event(event.Network, "plugged")).Code)
}

func TestRoutingOrderMatchersMiddleware(t *testing.T) {
	var trace []string
	r := quiet()
	r.Use(func(next hookkit.Handler) hookkit.Handler {
		return hookkit.HandlerFunc(func(c *hookkit.Call) error {
			trace = append(trace, "root>")
			err := next.ServeHook(c)
			trace = append(trace, "<root")
			return err
		})
	})
	web := r.Match(hookkit.Name("web-*"))
	web.Use(func(next hookkit.Handler) hookkit.Handler {
		return hookkit.HandlerFunc(func(c *hookkit.Call) error { trace = append(trace, "web-mw"); return next.ServeHook(c) })
	})
	r.OnDomainPrepare(func(*hookkit.Domain) error { trace = append(trace, "all-1"); return nil })
	web.OnDomainPrepare(func(*hookkit.Domain) error { trace = append(trace, "web"); return nil })
	r.Match(hookkit.Name("db-*")).OnDomainPrepare(func(*hookkit.Domain) error { trace = append(trace, "db"); return nil })
	r.Match(hookkit.HasMetadata("https://example.com/app/1")).OnDomainPrepare(func(*hookkit.Domain) error { trace = append(trace, "app"); return nil })
	r.Match(hookkit.UUID("11111111-2222-3333-4444-555555555555")).OnDomainPrepare(func(*hookkit.Domain) error { trace = append(trace, "uuid"); return nil })
	r.Match(hookkit.Drivers(event.LXC)).OnDomainPrepare(func(*hookkit.Domain) error { trace = append(trace, "lxc"); return nil })
	r.OnDomainPrepare(func(*hookkit.Domain) error { trace = append(trace, "all-2"); return errors.New("stop") })
	r.OnDomainPrepare(func(*hookkit.Domain) error { trace = append(trace, "never"); return nil })

	res := hookkittest.Run(r, hookkittest.Event(event.QEMU, "prepare").WithObject("web-1").WithStdin([]byte(metaDomain)))
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, "qemu: qemu web-1 prepare begin: stop\n", res.Stderr)
	assert.Equal(t, []string{"root>", "all-1", "web-mw", "web", "app", "uuid", "all-2", "<root"}, trace)
}

func TestCatchAllAndHandle(t *testing.T) {
	var got []string
	r := quiet()
	r.HandleFunc(event.QEMU, "teleport", func(c *hookkit.Call) error { got = append(got, "teleport:"+c.Object); return nil })
	r.OnDomainStart(func(*hookkit.Domain) error { got = append(got, "start"); return nil })
	r.CatchAll(hookkit.HandlerFunc(func(c *hookkit.Call) error { got = append(got, "catch:"+string(c.Driver)+":"+c.Op); return nil }))
	for _, c := range []hookkittest.Call{
		hookkittest.NewCall(event.QEMU, "vm", "teleport", "begin", "-").WithStdin([]byte("<domain/>")),
		hookkittest.Event(event.QEMU, "start"),
		hookkittest.Event(event.Daemon, "reload"),
		hookkittest.NewCall(event.Network, "n", "exploded", "begin", "-").WithStdin([]byte("<hookData><network/></hookData>")),
		hookkittest.NewCall("frobnicate", "vm", "prepare", "begin", "-"),               // unknown driver
		hookkittest.NewCall(event.QEMU, "vm", "start", "middle", "-"),                  // unknown subop: not OnDomainStart's call
		hookkittest.NewCall(event.QEMU, "vm", "teleport", "begin", "-").WithStdin(nil), // unknown op, no stdin: not an error
	} {
		res := hookkittest.Run(r, c)
		require.Equal(t, 0, res.Code, res.Stderr)
	}
	assert.Equal(t, []string{"teleport:vm", "start", "catch:daemon:reload", "catch:network:exploded",
		"catch::prepare", "catch:qemu:start", "teleport:vm"}, got)
}

func itoa(i int) string { return strconv.Itoa(i) }

func hookkitID(s string) (int, error) { return strconv.Atoi(s) }

// TestScopedCatchAll: a catch-all registered on a Match router takes only the calls its matchers accept,
// and several catch-alls run in registration order, the first error stopping them.
func TestScopedCatchAll(t *testing.T) {
	var got []string
	r := quiet()
	r.Match(hookkit.Drivers(event.QEMU)).CatchAll(hookkit.HandlerFunc(func(c *hookkit.Call) error {
		got = append(got, "qemu-only:"+c.Op)
		return nil
	}))
	r.CatchAll(hookkit.HandlerFunc(func(c *hookkit.Call) error {
		got = append(got, "all:"+string(c.Driver)+":"+c.Op)
		if c.Op == "refuse" {
			return errors.New("refused")
		}
		return nil
	}))
	r.Match(hookkit.Drivers(event.QEMU)).CatchAll(hookkit.HandlerFunc(func(c *hookkit.Call) error {
		got = append(got, "qemu-after:"+c.Op)
		return nil
	}))
	require.Equal(t, 0, hookkittest.Run(r, hookkittest.Event(event.Network, "started")).Code)
	require.Equal(t, 0, hookkittest.Run(r, hookkittest.Event(event.QEMU, "started")).Code)
	res := hookkittest.Run(r, hookkittest.NewCall(event.QEMU, "vm", "refuse", "begin", "-"))
	assert.Equal(t, "qemu: qemu vm refuse begin: refused\n", res.Stderr)
	assert.Equal(t, []string{
		"all:network:started",
		"qemu-only:started", "all:qemu:started", "qemu-after:started",
		"qemu-only:refuse", "all:qemu:refuse",
	}, got)
}
