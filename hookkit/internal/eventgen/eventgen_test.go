package eventgen

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGeneratedFilesAreFresh fails when the table in package event changed without go generate ./hookkit.
func TestGeneratedFilesAreFresh(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	src, err := GoSource()
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(root, GoFile))
	require.NoError(t, err)
	assert.Equal(t, string(src), string(got), "%s is stale: run go generate ./hookkit", GoFile)

	doc, err := os.ReadFile(filepath.Join(root, DocsFile))
	require.NoError(t, err)
	assert.Equal(t, string(Markdown()), string(doc), "%s is stale: run go generate ./hookkit", DocsFile)

	readme, err := os.ReadFile(filepath.Join(root, ReadmeFile))
	require.NoError(t, err)
	spliced, ok := SpliceReadme(readme)
	require.True(t, ok, "README.md lacks the generated event table markers")
	assert.Equal(t, string(spliced), string(readme), "README.md event table is stale: run go generate ./hookkit")
}

func TestMethodNames(t *testing.T) {
	names := map[string]bool{}
	for _, m := range Methods() {
		require.False(t, names[m.Name], "duplicate method %s", m.Name)
		names[m.Name] = true
	}
	for _, want := range []string{"OnDomainPrepare", "OnDomainStart", "OnDomainStarted", "OnDomainStopped",
		"OnDomainRelease", "OnDomainReconnect", "OnDomainMigrate", "OnDomainRestore", "OnQEMUStart", "OnLXCStart",
		"OnLibxlMigrate", "OnBhyvePrepare", "OnNetworkStarted", "OnNetworkPortCreated", "OnNetworkPortDeleted",
		"OnNetworkUpdated", "OnNetworkPlugged", "OnDaemonReload", "OnDaemonStart", "OnDaemonShutdown"} {
		assert.True(t, names[want], "missing %s", want)
	}
}
