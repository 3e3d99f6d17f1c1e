// Package readmecheck keeps the Go programs shown in README.md compiling: each ```go block that is a
// main package is written to a scratch directory inside the module and vetted.
package readmecheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReadmeProgramsBuild(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```go\n(package main\n.*?)```").FindAllSubmatch(readme, -1)
	require.NotEmpty(t, blocks, "README.md shows no Go program")
	for i, b := range blocks {
		dir, err := os.MkdirTemp("testdata", "readme")
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(dir) })
		require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), b[1], 0o644))
		out, err := exec.Command("go", "vet", "./"+dir).CombinedOutput()
		require.NoError(t, err, "README program %d does not build:\n%s\n%s", i+1, out, b[1])
		lines := len(regexp.MustCompile("\n").FindAll(b[1], -1))
		t.Logf("README program %d: %d lines", i+1, lines)
		require.Less(t, lines, 25, "README promises complete hooks in under 25 lines")
	}
}
