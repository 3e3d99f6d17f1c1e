package hookkit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

// quiet keeps test logs out of syslog.
func quiet(opts ...hookkit.Option) *hookkit.Router {
	return hookkit.New(append([]hookkit.Option{hookkit.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
}

// register calls the generated method name on r with a typed handler that reports what it saw.
func register(t *testing.T, r *hookkit.Router, name string, seen *[]string) {
	m := reflect.ValueOf(r).MethodByName(name)
	require.True(t, m.IsValid(), "Router has no method %s", name)
	ft := m.Type().In(0)
	fn := reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
		var desc string
		switch p := args[0].Interface().(type) {
		case *hookkit.Domain:
			desc = fmt.Sprintf("domain %s %s %s %s", p.Driver, p.Op, p.Name(), p.UUID())
		case *hookkit.Network:
			desc = fmt.Sprintf("network %s %s %s %s", p.Driver, p.Op, p.Name(), p.Bridge())
		case *hookkit.NetworkPort:
			desc = fmt.Sprintf("port %s %s %s %s", p.Driver, p.Op, p.OwnerName(), p.Plug().Bridge)
		case *hookkit.Daemon:
			desc = fmt.Sprintf("daemon %s %s %s", p.Driver, p.Op, p.Extra)
		}
		*seen = append(*seen, desc)
		return []reflect.Value{reflect.Zero(reflect.TypeFor[error]())}
	})
	m.Call([]reflect.Value{fn})
}

// TestEveryEventReachesItsTypedHandler runs every row of the event table, with libvirt's real stdin, through
// the driver-specific method and, for domain drivers, the OnDomain method.
func TestEveryEventReachesItsTypedHandler(t *testing.T) {
	for _, s := range event.Table {
		t.Run(string(s.Driver)+"-"+s.Op, func(t *testing.T) {
			names := []string{s.MethodName()}
			if s.Driver.IsDomain() {
				names = append(names, event.DomainMethodName(s.Op))
			}
			for _, name := range names {
				var seen []string
				r := quiet()
				register(t, r, name, &seen)
				res := hookkittest.Run(r, hookkittest.Event(s.Driver, s.Op))
				require.Equal(t, 0, res.Code, "stderr: %s", res.Stderr)
				require.Empty(t, res.Stderr)
				require.Empty(t, res.Stdout)
				require.Len(t, seen, 1, name)
				got := seen[0]
				call := hookkittest.Event(s.Driver, s.Op)
				uuid := regexp.MustCompile(`<uuid>([^<]+)</uuid>`).FindStringSubmatch(string(call.Stdin))
				switch s.Payload {
				case event.PayloadDomain:
					assert.Equal(t, fmt.Sprintf("domain %s %s %s %s", s.Driver, s.Op, call.Object, uuid[1]), got)
				case event.PayloadNetwork, event.PayloadNetworkDomain:
					assert.Regexp(t, fmt.Sprintf("^network network %s %s virbr-hook", s.Op, call.Object), got)
				case event.PayloadNetworkPort:
					assert.Equal(t, fmt.Sprintf("port network %s hooktest-net virbr-hook", s.Op), got)
				case event.PayloadNone:
					assert.Equal(t, fmt.Sprintf("daemon daemon %s %s", s.Op, s.Extra), got)
				}
			}
		})
	}
}

// TestOnlyTheRegisteredDriverRuns checks driver-specific methods do not fire for other drivers.
func TestOnlyTheRegisteredDriverRuns(t *testing.T) {
	var ran []string
	r := quiet()
	r.OnQEMUStart(func(d *hookkit.Domain) error { ran = append(ran, "qemu"); return nil })
	r.OnLXCStart(func(d *hookkit.Domain) error { ran = append(ran, "lxc"); return nil })
	r.OnDomainStart(func(d *hookkit.Domain) error { ran = append(ran, "domain:"+string(d.Driver)); return nil })
	require.Equal(t, 0, hookkittest.Run(r, hookkittest.Event(event.LXC, "start")).Code)
	require.Equal(t, 0, hookkittest.Run(r, hookkittest.Event(event.QEMU, "start")).Code)
	assert.Equal(t, []string{"lxc", "domain:lxc", "qemu", "domain:qemu"}, ran)

	// One binary installed in qemu.d under a driver's name (hookkit install --as-d network --all makes
	// such paths): libvirt calls it for qemu, so it must route as qemu, not as the name says.
	ran = nil
	r.OnNetworkStart(func(*hookkit.Network) error { ran = append(ran, "network"); return nil })
	res := hookkittest.Run(r, hookkittest.Event(event.QEMU, "start").InDir("network"))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, []string{"qemu", "domain:qemu"}, ran)
}

func TestExitContract(t *testing.T) {
	prepare := hookkittest.Event(event.QEMU, "prepare")
	fixture := prepare.Stdin
	cases := []struct {
		name       string
		setup      func(r *hookkit.Router)
		opts       []hookkit.Option
		call       hookkittest.Call
		ctx        func() context.Context
		wantCode   int
		wantStderr string // exact, or a prefix when it ends with "*"
		wantStdout string
	}{
		{name: "success", call: prepare, wantCode: 0,
			setup: func(r *hookkit.Router) { r.OnDomainPrepare(func(*hookkit.Domain) error { return nil }) }},
		{name: "handler error", call: prepare, wantCode: 1,
			setup: func(r *hookkit.Router) {
				r.OnDomainPrepare(func(*hookkit.Domain) error { return errors.New("no owner in metadata") })
			},
			wantStderr: "qemu: qemu hooktest prepare begin: no owner in metadata\n"},
		{name: "multi-line error is folded", call: prepare, wantCode: 1,
			setup: func(r *hookkit.Router) {
				r.OnDomainPrepare(func(*hookkit.Domain) error { return errors.New("first\nsecond\n") })
			},
			wantStderr: "qemu: qemu hooktest prepare begin: first; second\n"},
		{name: "program name option", call: prepare, wantCode: 1, opts: []hookkit.Option{hookkit.WithName("policy")},
			setup: func(r *hookkit.Router) {
				r.OnDomainPrepare(func(*hookkit.Domain) error { return errors.New("denied") })
			},
			wantStderr: "policy: qemu hooktest prepare begin: denied\n"},
		{name: "panic", call: prepare, wantCode: 1,
			setup: func(r *hookkit.Router) {
				r.OnDomainPrepare(func(*hookkit.Domain) error { panic("boom") })
			},
			wantStderr: "qemu: qemu hooktest prepare begin: panic: boom\n"},
		{name: "nil map panic", call: prepare, wantCode: 1,
			setup: func(r *hookkit.Router) {
				r.OnDomainPrepare(func(*hookkit.Domain) error {
					var m map[string]int
					//lint:ignore SA5000 the handler must panic with a runtime error
					m["x"] = 1
					return nil
				})
			},
			wantStderr: "qemu: qemu hooktest prepare begin: panic: assignment to entry in nil map\n"},
		{name: "runtime.Goexit: answered at once, not at the deadline", call: prepare, wantCode: 1,
			opts: []hookkit.Option{hookkit.WithTimeout(5 * time.Second)},
			setup: func(r *hookkit.Router) {
				r.Use(func(next hookkit.Handler) hookkit.Handler { return next }) // Goexit unwinds middleware too
				r.OnDomainPrepare(func(*hookkit.Domain) error { runtime.Goexit(); return nil })
			},
			wantStderr: "qemu: qemu hooktest prepare begin: handler called runtime.Goexit instead of returning (t.FailNow and require.* do; in a hook, return an error)\n"},
		{name: "a nil pointer returned as an error: one line, no stack", call: prepare, wantCode: 1,
			setup: func(r *hookkit.Router) {
				r.OnDomainPrepare(func(*hookkit.Domain) error { return nilPolicyError() })
			},
			wantStderr: "qemu: qemu hooktest prepare begin: the handler's error value panicked in its Error method (a nil pointer returned as an error?): runtime error: invalid memory address or nil pointer dereference\n"},
		{name: "truncated XML", call: prepare.WithStdin(fixture[:100]), wantCode: 1,
			setup:      func(r *hookkit.Router) { r.OnDomainPrepare(func(*hookkit.Domain) error { return nil }) },
			wantStderr: "qemu: qemu hooktest prepare begin: malformed XML on stdin at line 3, byte 100: unexpected end of input: <uuid> is not closed\n"},
		{name: "empty stdin", call: prepare.WithStdin([]byte{}), wantCode: 1,
			setup:      func(r *hookkit.Router) { r.OnDomainPrepare(func(*hookkit.Domain) error { return nil }) },
			wantStderr: "qemu: qemu hooktest prepare begin: bad XML on stdin: stdin is empty, expected a <domain> document\n"},
		{name: "wrong root", call: prepare.WithStdin([]byte("<network/>")), wantCode: 1,
			setup:      func(r *hookkit.Router) { r.OnDomainPrepare(func(*hookkit.Domain) error { return nil }) },
			wantStderr: "qemu: qemu hooktest prepare begin: malformed XML on stdin at line 1, byte 0: root element is <network>, expected <domain>\n"},
		{name: "doctype refused", call: prepare.WithStdin([]byte(`<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/shadow">]><domain>&x;</domain>`)), wantCode: 1,
			setup:      func(r *hookkit.Router) { r.OnDomainPrepare(func(*hookkit.Domain) error { return nil }) },
			wantStderr: "qemu: qemu hooktest prepare begin: malformed XML on stdin at line 1, byte 0: DOCTYPE and other <!...> declarations are not allowed in hook input\n"},
		{name: "no handler for event: stdin not even read", call: prepare.WithStdin([]byte("garbage")), wantCode: 0,
			setup: func(r *hookkit.Router) { r.OnDomainRelease(func(*hookkit.Domain) error { return nil }) }},
		{name: "unknown driver", call: hookkittest.NewCall("frobnicate", "vm", "prepare", "begin", "-"), wantCode: 0},
		{name: "unknown driver strict", call: hookkittest.NewCall("frobnicate", "vm", "prepare", "begin", "-"), wantCode: 1,
			opts:       []hookkit.Option{hookkit.Strict()},
			wantStderr: "frobnicate: - vm prepare begin: unknown hook driver: \"frobnicate\" is not a libvirt driver name*"},
		{name: "unknown op", call: hookkittest.NewCall(event.QEMU, "vm", "teleport", "begin", "-"), wantCode: 0,
			setup: func(r *hookkit.Router) { r.OnDomainPrepare(func(*hookkit.Domain) error { return errors.New("x") }) }},
		{name: "unknown op strict", call: hookkittest.NewCall(event.QEMU, "vm", "teleport", "begin", "-"), wantCode: 1,
			opts:       []hookkit.Option{hookkit.Strict()},
			wantStderr: "qemu: qemu vm teleport begin: unknown op \"teleport\" for driver qemu\n"},
		{name: "unknown subop", call: hookkittest.NewCall(event.QEMU, "hooktest", "stopped", "middle", "-").WithStdin(fixture), wantCode: 0,
			setup: func(r *hookkit.Router) { r.OnDomainStopped(func(*hookkit.Domain) error { return errors.New("x") }) }},
		{name: "timeout", call: prepare, wantCode: 1, opts: []hookkit.Option{hookkit.WithTimeout(20 * time.Millisecond)},
			setup: func(r *hookkit.Router) {
				r.OnDomainPrepare(func(*hookkit.Domain) error { select {} })
			},
			wantStderr: "qemu: qemu hooktest prepare begin: timed out after 20ms\n"},
		{name: "SIGTERM cancels", call: prepare, wantCode: 1,
			ctx: func() context.Context {
				ctx, cancel := context.WithCancelCause(context.Background())
				cancel(errors.New("interrupted by signal: terminated"))
				return ctx
			},
			setup: func(r *hookkit.Router) {
				r.OnDomainPrepare(func(d *hookkit.Domain) error { <-d.Context().Done(); time.Sleep(time.Second); return nil })
			},
			wantStderr: "qemu: qemu hooktest prepare begin: interrupted by signal: terminated\n"},
		{name: "filter writes the new XML once", call: hookkittest.Event(event.QEMU, "restore"), wantCode: 0,
			setup: func(r *hookkit.Router) {
				r.OnDomainRestore(func(d *hookkit.Domain) error { return d.ReplaceXML([]byte("<domain><name>a</name></domain>")) })
				r.OnDomainRestore(func(d *hookkit.Domain) error {
					return d.ReplaceXML([]byte(strings.Replace(string(d.XML()), "a<", "b<", 1)))
				})
			},
			wantStdout: "<domain><name>b</name></domain>"},
		{name: "filter error after a change writes nothing", call: hookkittest.Event(event.QEMU, "restore"), wantCode: 1,
			setup: func(r *hookkit.Router) {
				r.OnDomainRestore(func(d *hookkit.Domain) error { return d.ReplaceXML([]byte("<domain/>")) })
				r.OnDomainRestore(func(d *hookkit.Domain) error { return errors.New("rules file unreadable") })
			},
			wantStderr: "qemu: qemu hooktest restore begin: rules file unreadable\n"},
		{name: "filter producing broken XML fails", call: hookkittest.Event(event.QEMU, "restore"), wantCode: 1,
			setup: func(r *hookkit.Router) {
				r.OnDomainRestore(func(d *hookkit.Domain) error { return d.ReplaceXML([]byte("<domain>")) })
			},
			wantStderr: "qemu: qemu hooktest restore begin: filter produced a document libvirt would reject: malformed XML*"},
		{name: "unchanged filter prints nothing", call: hookkittest.Event(event.QEMU, "restore"), wantCode: 0,
			setup: func(r *hookkit.Router) { r.OnDomainRestore(func(d *hookkit.Domain) error { return nil }) }},
		// What libxml2, and so libvirt, refuses though encoding/xml accepts it: the filter must fail, not
		// hand libvirt a document that aborts the restore.
		{name: "filter output with an attribute twice fails", call: hookkittest.Event(event.QEMU, "restore"), wantCode: 1,
			setup: func(r *hookkit.Router) {
				r.OnDomainRestore(func(d *hookkit.Domain) error {
					return d.ReplaceXML([]byte(`<domain><devices><graphics type='vnc' passwd='a' passwd='b'/></devices></domain>`))
				})
			},
			wantStderr: "qemu: qemu hooktest restore begin: filter produced a document libvirt would reject: malformed XML on stdin at line 1, byte 49: attribute passwd appears twice in element <graphics>\n"},
		{name: "filter output with a malformed XML declaration fails", call: hookkittest.Event(event.QEMU, "restore"), wantCode: 1,
			setup: func(r *hookkit.Router) {
				r.OnDomainRestore(func(d *hookkit.Domain) error {
					return d.ReplaceXML([]byte(`<?xml version='1.0'encoding='UTF-8'?><domain/>`))
				})
			},
			wantStderr: "qemu: qemu hooktest restore begin: filter produced a document libvirt would reject: malformed XML on stdin at line 1, byte 19: malformed XML declaration: unexpected text (pseudo-attributes are version, encoding and standalone, in that order, separated by white space)\n"},
		{name: "a bad reference is not quoted: it may be part of a password", call: hookkittest.Event(event.QEMU, "restore"), wantCode: 1,
			setup: func(r *hookkit.Router) {
				r.OnDomainRestore(func(d *hookkit.Domain) error {
					return d.ReplaceXML([]byte(`<domain><devices><graphics type='vnc' passwd='s3cr&etPass;word'/></devices></domain>`))
				})
			},
			wantStderr: "qemu: qemu hooktest restore begin: filter produced a document libvirt would reject: malformed XML on stdin at line 1, byte 50: invalid entity or character reference (allowed: &lt; &gt; &amp; &apos; &quot;, and &#N; or &#xN; of a character XML allows)\n"},
		{name: "stdin with an attribute twice", call: prepare.WithStdin([]byte(`<domain type='kvm' type='qemu'><name>x</name></domain>`)), wantCode: 1,
			setup:      func(r *hookkit.Router) { r.OnDomainPrepare(func(*hookkit.Domain) error { return nil }) },
			wantStderr: "qemu: qemu hooktest prepare begin: malformed XML on stdin at line 1, byte 19: attribute type appears twice in element <domain>\n"},
		{name: "ReplaceXML outside a filter fails", call: prepare, wantCode: 1,
			setup: func(r *hookkit.Router) {
				r.OnDomainPrepare(func(d *hookkit.Domain) error { return d.ReplaceXML([]byte("<domain/>")) })
			},
			wantStderr: "qemu: qemu hooktest prepare begin: libvirt ignores the output of this hook: only migrate and restore are filters\n"},
		{name: "stdin over the bound", call: prepare, wantCode: 1, opts: []hookkit.Option{hookkit.WithMaxInput(64)},
			setup:      func(r *hookkit.Router) { r.OnDomainPrepare(func(*hookkit.Domain) error { return nil }) },
			wantStderr: "qemu: qemu hooktest prepare begin: stdin is larger than 64 bytes: refusing to read more\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := quiet(tc.opts...)
			if tc.setup != nil {
				tc.setup(r)
			}
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			res := hookkittest.RunContext(ctx, r, tc.call)
			assert.Equal(t, tc.wantCode, res.Code, "stderr: %s", res.Stderr)
			if p, ok := strings.CutSuffix(tc.wantStderr, "*"); ok {
				assert.True(t, strings.HasPrefix(res.Stderr, p), "stderr %q", res.Stderr)
				assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), "one line: %q", res.Stderr)
			} else {
				assert.Equal(t, tc.wantStderr, res.Stderr)
			}
			assert.Equal(t, tc.wantStdout, res.Stdout)
		})
	}
}

// TestRunStdinNeverEnds checks that Run's deadline and its context cover reading stdin: a reader that
// never returns cannot hold Run.
func TestRunStdinNeverEnds(t *testing.T) {
	cancelled, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("interrupted by signal: terminated"))
	cases := []struct {
		name       string
		ctx        context.Context
		opts       []hookkit.Option
		wantStderr string
	}{
		{"deadline", context.Background(), []hookkit.Option{hookkit.WithTimeout(20 * time.Millisecond)},
			"qemu: qemu vm1 prepare begin: timed out after 20ms\n"},
		{"context cancelled", cancelled, nil,
			"qemu: qemu vm1 prepare begin: interrupted by signal: terminated\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdin, w := io.Pipe()
			t.Cleanup(func() { w.Close() })
			r := quiet(tc.opts...)
			r.OnDomainPrepare(func(*hookkit.Domain) error { t.Error("the handler ran without its payload"); return nil })
			var stdout, stderr strings.Builder
			code := r.Run(tc.ctx, []string{"/etc/libvirt/hooks/qemu", "vm1", "prepare", "begin", "-"}, stdin, &stdout, &stderr)
			assert.Equal(t, hookkit.ExitFailure, code)
			assert.Equal(t, tc.wantStderr, stderr.String())
			assert.Empty(t, stdout.String())
		})
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"/etc/libvirt/hooks/qemu"}, {"qemu", "vm1", "prepare"}, {}} {
		var out, errb strings.Builder
		code := quiet().Run(context.Background(), args, strings.NewReader(""), &out, &errb)
		assert.Equal(t, hookkit.ExitUsage, code)
		assert.Contains(t, errb.String(), "usage:")
		assert.Empty(t, out.String())
	}
}
