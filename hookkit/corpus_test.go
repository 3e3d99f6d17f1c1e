package hookkit_test

import (
	"encoding/xml"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

// corpusDir is libvirt's own test XML, kept beside the repository in ../shared; absent in a user's clone.
func corpusDir(t testing.TB) string {
	dir := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("libvirt XML corpus not found at %s: skipping", dir)
	}
	return dir
}

// identity is what encoding/xml reads for the fields hookkit's token pass extracts.
type identity struct {
	XMLName xml.Name
	Type    string `xml:"type,attr"`
	ID      string `xml:"id,attr"`
	Name    string `xml:"name"`
	UUID    string `xml:"uuid"`
	Bridge  struct {
		Name string `xml:"name,attr"`
	} `xml:"bridge"`
	Owner struct {
		Name string `xml:"name"`
		UUID string `xml:"uuid"`
	} `xml:"owner"`
	Plug struct {
		Type   string `xml:"type,attr"`
		Bridge string `xml:"bridge,attr"`
		Dev    string `xml:"dev,attr"`
	} `xml:"plug"`
}

// TestCorpusIdentityAndConfig feeds every file of libvirt's test corpus to a hook as libvirt would (domains
// to qemu prepare, networks wrapped in <hookData> to network started, ports with a network to port-created)
// and checks the cheap identity accessors against encoding/xml and that Config() parses.
func TestCorpusIdentityAndConfig(t *testing.T) {
	dir := corpusDir(t)
	netDoc, err := os.ReadFile(filepath.Join("hookkittest", "testdata", "hookstdin", "network-started-begin.xml"))
	require.NoError(t, err)
	netInner := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(string(netDoc), "<hookData>\n")), "</hookData>")

	var total, wellFormed, identical, configs int
	var configFailures []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".xml") {
			return err
		}
		total++
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		var want identity
		if xml.Unmarshal(raw, &want) != nil {
			return nil // not well-formed (broken-xml-invalid.xml): covered by the bad-input tests
		}
		wellFormed++
		var c hookkittest.Call
		switch want.XMLName.Local {
		case "domain":
			c = hookkittest.Event(event.QEMU, "prepare").WithStdin(raw)
		case "network":
			c = hookkittest.Event(event.Network, "started").WithStdin([]byte("<hookData>\n" + string(raw) + "</hookData>\n"))
		case "networkport":
			c = hookkittest.Event(event.Network, "port-created").WithStdin([]byte("<hookData>\n  " + netInner + "\n" + string(raw) + "</hookData>\n"))
		default:
			t.Errorf("%s: unexpected root <%s>", path, want.XMLName.Local)
			return nil
		}
		var got identity
		var cfgErr error
		r := quiet()
		r.OnDomainPrepare(func(d *hookkit.Domain) error {
			got.Type, got.ID, got.Name, got.UUID = d.Type(), idString(d), d.Name(), d.UUID()
			_, cfgErr = d.Config()
			return nil
		})
		r.OnNetworkStarted(func(n *hookkit.Network) error {
			got.Name, got.UUID, got.Bridge.Name = n.Name(), n.UUID(), n.Bridge()
			_, cfgErr = n.Config()
			return nil
		})
		r.OnNetworkPortCreated(func(p *hookkit.NetworkPort) error {
			got.UUID, got.Owner.Name, got.Owner.UUID = p.UUID(), p.OwnerName(), p.OwnerUUID()
			got.Plug.Type, got.Plug.Bridge, got.Plug.Dev = p.Plug().Type, p.Plug().Bridge, p.Plug().Dev
			_, cfgErr = p.Config()
			return nil
		})
		res := hookkittest.Run(r, c)
		if !assert.Equal(t, 0, res.Code, "%s: %s", path, res.Stderr) {
			return nil
		}
		switch want.XMLName.Local {
		case "domain":
			want.Bridge, want.Owner, want.Plug = got.Bridge, got.Owner, got.Plug
			if _, err := hookkitID(want.ID); err != nil {
				want.ID = "" // libvirt's tests use id='-1' and friends; ID() reports them as absent
			}
		case "network":
			want.Type, want.ID, want.Owner, want.Plug = "", "", got.Owner, got.Plug
		case "networkport":
			want.Type, want.ID, want.Name, want.Bridge = "", "", "", got.Bridge
		}
		want.XMLName = got.XMLName
		if assert.Equal(t, want, got, path) {
			identical++
		}
		if cfgErr == nil {
			configs++
		} else if !strings.Contains(filepath.Base(path), "invalid") {
			configFailures = append(configFailures, path+": "+cfgErr.Error())
		}
		return nil
	})
	require.NoError(t, err)
	t.Logf("corpus: %d files, %d well-formed, %d with identity equal to encoding/xml's, %d parsed by Config()", total, wellFormed, identical, configs)
	assert.Equal(t, wellFormed, identical)
	assert.Empty(t, configFailures, "only files libvirt's tests mark as invalid (bad values) may fail to parse")
	assert.Greater(t, wellFormed, 2000)
}

func idString(d *hookkit.Domain) string {
	if id, ok := d.ID(); ok {
		return itoa(id)
	}
	return ""
}
