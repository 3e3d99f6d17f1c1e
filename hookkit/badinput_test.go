package hookkit_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

// maxRSSBound is the peak RSS a hook process may reach on any input, the 50 MB stdin included: stdin is
// read up to hookkit.DefaultMaxInput (16 MiB) and refused beyond. docs/contract.md states it.
const maxRSSBound = 64 << 20

// TestBadInputContract is the contract table of docs/contract.md: a built hook, run as libvirt runs it, on
// every kind of bad input. Each row gives the exact exit status and stderr line; no row may print a Go
// stack, hang, exceed maxRSSBound, or write to stdout.
func TestBadInputContract(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a hook binary")
	}
	bin := hookkittest.Build(t, "./testdata/contracthook")
	wrap := hookkittest.Build(t, "./testdata/rsswrap")
	fixture := hookkittest.Fixture(event.QEMU, "prepare")
	const prefix = "qemu: qemu ok prepare begin: "
	deep := strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000)
	huge := make([]byte, 50<<20)
	copy(huge, "<domain><name>ok</name><description>")
	for i := 40; i < len(huge)-30; i++ {
		huge[i] = 'x'
	}
	copy(huge[len(huge)-30:], "</description></domain>\n")

	cases := []struct {
		name   string
		argv   []string // argv[1:]; nil means the usual "ok prepare begin -"
		driver string   // the name argv[0] is installed as
		stdin  []byte
		// closeAfter, when > 0, closes stdin after that many bytes, as a writer that dies would.
		closeAfter int
		wantCode   int
		wantStderr string // exact line; "~" prefix: a regular expression
	}{
		{name: "no args", argv: []string{}, wantCode: 2, wantStderr: "~^qemu: expected 4 arguments \\(<object> <op> <subop> <extra>\\), got 0\nusage: qemu "},
		{name: "one arg", argv: []string{"ok"}, wantCode: 2, wantStderr: "~^qemu: expected 4 arguments \\(<object> <op> <subop> <extra>\\), got 1\nusage: "},
		{name: "unknown driver name", driver: "myhook", stdin: fixture, wantCode: 0},
		{name: "unknown op", argv: []string{"ok", "teleport", "begin", "-"}, stdin: fixture, wantCode: 0},
		{name: "empty stdin where XML is required", stdin: []byte{}, wantCode: 1,
			wantStderr: prefix + "bad XML on stdin: stdin is empty, expected a <domain> document"},
		{name: "truncated XML", stdin: fixture[:300], wantCode: 1,
			wantStderr: prefix + "malformed XML on stdin at line 9, byte 300: unexpected end of input inside the tag <boo"},
		{name: "non-UTF-8 bytes", stdin: []byte("<domain><name>ok\xff\xfe</name></domain>"), wantCode: 1,
			wantStderr: prefix + "malformed XML on stdin at line 1, byte 16: invalid UTF-8"},
		{name: "50 MB stdin", stdin: huge, wantCode: 1,
			wantStderr: prefix + "stdin is larger than 16777216 bytes: refusing to read more"},
		{name: "10,000-deep nesting", stdin: []byte("<domain><name>ok</name>" + deep + "</domain>"), wantCode: 0},
		{name: "XML bomb (entity definitions)", stdin: []byte(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><domain><name>&lol2;</name></domain>`), wantCode: 1,
			wantStderr: prefix + "malformed XML on stdin at line 1, byte 21: DOCTYPE and other <!...> declarations are not allowed in hook input"},
		{name: "DOCTYPE with an external entity", stdin: []byte(`<!DOCTYPE domain [<!ENTITY xxe SYSTEM "file:///etc/shadow">]><domain><name>&xxe;</name></domain>`), wantCode: 1,
			wantStderr: prefix + "malformed XML on stdin at line 1, byte 0: DOCTYPE and other <!...> declarations are not allowed in hook input"},
		{name: "undefined entity", stdin: []byte(`<domain><name>&xxe;</name></domain>`), wantCode: 1,
			wantStderr: prefix + "malformed XML on stdin at line 1, byte 14: invalid entity or character reference (allowed: &lt; &gt; &amp; &apos; &quot;, and &#N; or &#xN; of a character XML allows)"},
		{name: "stdin closed early", stdin: fixture, closeAfter: 120, wantCode: 1,
			wantStderr: "~^" + prefix + "malformed XML on stdin at line \\d+, byte 120: "},
		{name: "two root elements", stdin: []byte("<domain><name>ok</name></domain><domain/>"), wantCode: 1,
			wantStderr: prefix + "malformed XML on stdin at line 1, byte 32: element after the root element"},
		{name: "mismatched tags", stdin: []byte("<domain><name>ok</uuid></domain>"), wantCode: 1,
			wantStderr: prefix + "malformed XML on stdin at line 1, byte 16: element <name> closed by </uuid>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			driver := tc.driver
			if driver == "" {
				driver = "qemu"
			}
			c := hookkittest.Call{Driver: event.Driver(driver), HooksDir: dir}
			hookkittest.Exec(t, bin, c.WithObject("ok").WithStdin(fixture)) // installs the symlink
			argv := tc.argv
			if argv == nil {
				argv = []string{"ok", "prepare", "begin", "-"}
			}
			rssFile := filepath.Join(dir, "rss")
			cmd := exec.Command(wrap, append([]string{c.Path()}, argv...)...)
			cmd.Env, cmd.Dir = append([]string{"RSSWRAP_OUT=" + rssFile}, hookkittest.Env...), "/"
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			in := tc.stdin
			if tc.closeAfter > 0 {
				pr, pw := io.Pipe()
				cmd.Stdin = pr
				go func() {
					pw.Write(in[:tc.closeAfter])
					pw.Close()
				}()
			} else if in != nil {
				cmd.Stdin = bytes.NewReader(in)
			}
			require.NoError(t, cmd.Start())
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("hook hung")
			}
			code := cmd.ProcessState.ExitCode()
			b, err := os.ReadFile(rssFile)
			require.NoError(t, err)
			rss, err := strconv.ParseInt(string(b), 10, 64)
			require.NoError(t, err)
			t.Logf("exit %d, peak RSS %.1f MB, stderr %q", code, float64(rss)/(1<<20), stderr.String())
			assert.Equal(t, tc.wantCode, code)
			assert.Empty(t, stdout.String(), "nothing on stdout")
			assert.NotContains(t, stderr.String(), "goroutine ", "no Go stack trace")
			assert.Less(t, rss, int64(maxRSSBound), "peak RSS")
			if re, ok := strings.CutPrefix(tc.wantStderr, "~"); ok {
				assert.Regexp(t, re, stderr.String())
			} else if tc.wantStderr == "" {
				assert.Empty(t, stderr.String())
			} else {
				assert.Equal(t, tc.wantStderr+"\n", stderr.String())
			}
			if tc.wantCode == 1 {
				assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), "one line")
			}
		})
	}
}
