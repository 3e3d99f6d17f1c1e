package xmldoc_test

import (
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/hookkit-dev/hookkit/hookkit/xmldoc"
)

func router() *hookkit.Router {
	return hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
}

func restoreCall(t *testing.T) (hookkittest.Call, string) {
	b, err := os.ReadFile("testdata/domain-5k.xml")
	require.NoError(t, err)
	return hookkittest.Event(event.QEMU, "restore").WithStdin(b).WithObject("guest"), string(b)
}

const oldDisk = "/var/lib/libvirt/images/guest.qcow2"

func moveDisk(dom *hookkit.Domain, doc *xmldoc.Document) error {
	return doc.SetDiskSource("vda", "/srv/"+dom.Name()+".qcow2")
}

func TestFilterThroughRouter(t *testing.T) {
	call, in := restoreCall(t)
	moved := strings.Replace(in, oldDisk, "/srv/guest.qcow2", 1)
	described := strings.Replace(moved, "  <metadata>", "  <description>disk on /srv/guest.qcow2</description>\n  <metadata>", 1)
	describe := func(dom *hookkit.Domain, doc *xmldoc.Document) error {
		src, err := doc.DiskSource("vda")
		if err != nil {
			return err
		}
		return doc.SetDescription("disk on " + src)
	}
	fail := func(*hookkit.Domain, *xmldoc.Document) error { return errors.New("no room on /srv") }
	noop := func(_ *hookkit.Domain, doc *xmldoc.Document) error {
		_, err := doc.String("/domain/name")
		return err
	}
	backAndForth := func(_ *hookkit.Domain, doc *xmldoc.Document) error {
		if err := doc.SetDiskSource("vda", "/tmp/x"); err != nil {
			return err
		}
		return doc.SetDiskSource("vda", oldDisk)
	}
	tests := []struct {
		name    string
		filters []func(*hookkit.Domain, *xmldoc.Document) error
		code    int
		stdout  string
		stderr  string
	}{
		{name: "no change prints nothing", filters: []func(*hookkit.Domain, *xmldoc.Document) error{noop}},
		{name: "a change back is no change", filters: []func(*hookkit.Domain, *xmldoc.Document) error{backAndForth}},
		{name: "a change prints the whole document once", filters: []func(*hookkit.Domain, *xmldoc.Document) error{moveDisk}, stdout: moved},
		{name: "two filters chain", filters: []func(*hookkit.Domain, *xmldoc.Document) error{moveDisk, describe}, stdout: described},
		{name: "an unchanged second filter keeps the first's output", filters: []func(*hookkit.Domain, *xmldoc.Document) error{moveDisk, noop}, stdout: moved},
		{name: "an error after a change prints nothing", filters: []func(*hookkit.Domain, *xmldoc.Document) error{moveDisk, fail},
			code: 1, stderr: "no room on /srv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := router()
			for _, f := range tc.filters {
				r.OnQEMURestore(xmldoc.Filter(f))
			}
			res := hookkittest.Run(r, call)
			assert.Equal(t, tc.code, res.Code)
			assert.Equal(t, tc.stdout, res.Stdout)
			if tc.stderr == "" {
				assert.Empty(t, res.Stderr)
			} else {
				assert.Contains(t, res.Stderr, tc.stderr)
				assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), "one line")
			}
		})
	}
}

// TestFilterChainInHooksDir runs two hook programs the way libvirt runs qemu.d/10-move and qemu.d/20-describe:
// each gets the previous one's output, or the previous input when it printed nothing.
func TestFilterChainInHooksDir(t *testing.T) {
	call, in := restoreCall(t)
	first, second := router(), router()
	first.OnDomainRestore(xmldoc.Filter(moveDisk))
	second.OnDomainRestore(xmldoc.Filter(func(_ *hookkit.Domain, doc *xmldoc.Document) error {
		src, err := doc.DiskSource("vda")
		if err != nil {
			return err
		}
		if src != "/srv/guest.qcow2" {
			return errors.New("did not see the first hook's output: " + src)
		}
		return nil
	}))
	res := hookkittest.Run(first, call.InDir("10-move"))
	require.Equal(t, 0, res.Code, res.Stderr)
	require.NotEmpty(t, res.Stdout)
	res2 := hookkittest.Run(second, call.InDir("20-check").WithStdin([]byte(res.Stdout)))
	require.Equal(t, 0, res2.Code, res2.Stderr)
	assert.Empty(t, res2.Stdout, "the second hook changed nothing")
	assert.Equal(t, strings.Replace(in, oldDisk, "/srv/guest.qcow2", 1), res.Stdout)
}

func TestFilterOnAHookThatIsNotAFilter(t *testing.T) {
	call, _ := restoreCall(t)
	call.Op, call.SubOp = "prepare", "begin"
	r := router()
	r.OnDomainPrepare(xmldoc.Filter(moveDisk))
	res := hookkittest.Run(r, call)
	assert.Equal(t, 1, res.Code)
	assert.Empty(t, res.Stdout)
	assert.Contains(t, res.Stderr, "only migrate and restore are filters")
}
