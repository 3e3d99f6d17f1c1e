package scaffold_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/internal/scaffold"
	"github.com/hookkit-dev/hookkit/templates"
)

const pfNS = "https://example.com/xmlns/portforward/1.0"

func TestBuildConfigFields(t *testing.T) {
	cfg, err := scaffold.BuildConfig("main", scaffold.ConfigSpec{NS: pfNS, Type: "PortForward",
		Fields: "@enabled:bool, interface, host-port:int, vm_id, alias:[]string"})
	require.NoError(t, err)
	assert.Equal(t, "portforward", cfg.Elem)
	require.Len(t, cfg.Structs, 1)
	assert.Equal(t, []templates.Field{
		{Name: "Enabled", Type: "bool", Tag: `xml:"enabled,attr"`},
		{Name: "Interface", Type: "string", Tag: `xml:"interface"`},
		{Name: "HostPort", Type: "int", Tag: `xml:"host-port"`},
		{Name: "VMID", Type: "string", Tag: `xml:"vm_id"`},
		{Name: "Alias", Type: "[]string", Tag: `xml:"alias"`},
	}, cfg.Structs[0].Fields)
}

func TestBuildConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		spec scaffold.ConfigSpec
		want string
	}{
		{"no ns", scaffold.ConfigSpec{Type: "Cfg"}, "no namespace"},
		{"bad type", scaffold.ConfigSpec{NS: pfNS, Type: "cfg"}, "not an exported Go identifier"},
		{"bad elem", scaffold.ConfigSpec{NS: pfNS, Type: "Cfg", Elem: "a b"}, "not an XML name"},
		{"bad field type", scaffold.ConfigSpec{NS: pfNS, Type: "Cfg", Fields: "port:integer"}, `type "integer"`},
		{"repeated attr", scaffold.ConfigSpec{NS: pfNS, Type: "Cfg", Fields: "@port:[]int"}, `type "[]int"`},
		{"bad field name", scaffold.ConfigSpec{NS: pfNS, Type: "Cfg", Fields: "1port"}, "not an XML name"},
		{"twice", scaffold.ConfigSpec{NS: pfNS, Type: "Cfg", Fields: "port,@port"}, "used twice"},
		{"both", scaffold.ConfigSpec{NS: pfNS, Type: "Cfg", Fields: "port", Sample: []byte("<a/>")}, "not both"},
		{"bad sample", scaffold.ConfigSpec{Sample: []byte("<a><b></a>")}, "sample:"},
		{"sample without ns", scaffold.ConfigSpec{Sample: []byte("<cfg/>")}, "no namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scaffold.BuildConfig("main", tt.spec)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestBuildConfigSample(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("testdata", "portforward.xml"))
	require.NoError(t, err)
	cfg, err := scaffold.BuildConfig("main", scaffold.ConfigSpec{Sample: sample})
	require.NoError(t, err)
	assert.Equal(t, pfNS, cfg.NS)
	assert.Equal(t, "Portforward", cfg.Type)
	assert.Equal(t, "portforward", cfg.Elem)
	require.Len(t, cfg.Structs, 3)
	assert.Equal(t, []templates.Field{
		{Name: "Enabled", Type: "bool", Tag: `xml:"enabled,attr"`},
		{Name: "Interface", Type: "string", Tag: `xml:"interface"`},
		{Name: "Rule", Type: "[]PortforwardRule", Tag: `xml:"rule"`},
		{Name: "Note", Type: "PortforwardNote", Tag: `xml:"note"`},
		{Name: "Weight", Type: "float64", Tag: `xml:"weight"`},
	}, cfg.Structs[0].Fields)
	assert.Equal(t, "PortforwardRule", cfg.Structs[1].Name)
	assert.Equal(t, []templates.Field{
		{Name: "Proto", Type: "string", Tag: `xml:"proto,attr"`},
		{Name: "Host", Type: "int", Tag: `xml:"host,attr"`},
		{Name: "Guest", Type: "int", Tag: `xml:"guest,attr"`},
	}, cfg.Structs[1].Fields)
	assert.Equal(t, []templates.Field{
		{Name: "Lang", Type: "string", Tag: `xml:"lang,attr"`},
		{Name: "Value", Type: "string", Tag: `xml:",chardata"`},
	}, cfg.Structs[2].Fields)

	// Flags override what the sample says.
	cfg, err = scaffold.BuildConfig("main", scaffold.ConfigSpec{Sample: sample, Type: "PortForward", NS: "urn:other"})
	require.NoError(t, err)
	assert.Equal(t, "urn:other", cfg.NS)
	assert.Equal(t, "PortForwardRule", cfg.Structs[1].Name)
}

func TestGenConfigIdempotent(t *testing.T) {
	dir := t.TempDir()
	spec := scaffold.ConfigSpec{NS: pfNS, Type: "PortForward", Fields: "@enabled:bool"}
	res, err := scaffold.GenConfig(dir, spec, "hookkit gen config", false)
	require.NoError(t, err)
	assert.Equal(t, scaffold.Created, res.Action)
	assert.Equal(t, filepath.Join(dir, "portforward_config_gen.go"), res.Path)
	res, err = scaffold.GenConfig(dir, spec, "hookkit gen config", false)
	require.NoError(t, err)
	assert.Equal(t, scaffold.Unchanged, res.Action)
	spec.Fields += ",port:int"
	res, err = scaffold.GenConfig(dir, spec, "hookkit gen config", false)
	require.NoError(t, err)
	assert.Equal(t, scaffold.Updated, res.Action)
	edit(t, res.Path, "Port ", "Port2 ")
	_, err = scaffold.GenConfig(dir, spec, "hookkit gen config", false)
	assert.ErrorContains(t, err, "was edited since hookkit generated it")
}
