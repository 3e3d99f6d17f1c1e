package hookconfig

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoad(t *testing.T) {
	type cfg struct {
		File string `json:"file"`
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	tests := []struct {
		name      string
		path      string
		wantFound bool
		want      string
		wantErr   string
	}{
		{"missing file keeps defaults", filepath.Join(dir, "none.json"), false, "default", ""},
		{"file", write("ok.json", `{"file": "/x"}`), true, "/x", ""},
		{"unknown key", write("typo.json", `{"fiel": "/x"}`), true, "default", `unknown field "fiel"`},
		{"bad json", write("bad.json", `{`), true, "default", "unexpected EOF"},
		{"a stray brace after the document", write("brace.json", `{"file": "/x"}}`), true, "", "more after the JSON document"},
		{"two documents", write("two.json", `{"file": "/x"} {"file": "/y"}`), true, "", "more after the JSON document"},
		{"trailing white space is fine", write("ws.json", "{\"file\": \"/x\"}\n\n"), true, "/x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg{File: "default"}
			found, err := Load(tt.path, &c)
			assert.Equal(t, tt.wantFound, found)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.File)
		})
	}
}
