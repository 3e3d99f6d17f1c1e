package hooklib

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withMetadata returns the qemu fixture of op named name, with the given <metadata> content.
func withMetadata(op, name, metadata string) hookkittest.Call {
	c := hookkittest.Event(event.QEMU, op).WithObject(name)
	doc := bytes.Replace(c.Stdin, []byte("<name>hooktest</name>"), []byte("<name>"+name+"</name>"), 1)
	if metadata != "" {
		doc = bytes.Replace(doc, []byte("<memory"), []byte("<metadata>"+metadata+"</metadata>\n  <memory"), 1)
	}
	return c.WithStdin(doc)
}

func TestRequireOwner(t *testing.T) {
	const fix = `; set it with: virsh metadata web1 --config --uri https://company.example/owner/1 --key owner --set '<owner team="TEAM" contact="EMAIL"/>'`
	tests := []struct {
		name     string
		vm       string
		metadata string
		policy   OwnerPolicy
		wantErr  string
	}{
		{"owner", "web1", `<owner xmlns="https://company.example/owner/1" team="web" contact="web@company.example"/>`, OwnerPolicy{}, ""},
		{"owner as virsh writes it", "web1", `<owner:owner xmlns:owner="https://company.example/owner/1" team="web"/>`, OwnerPolicy{}, ""},
		{"no metadata", "web1", "", OwnerPolicy{}, `policy: domain "web1" has no owner in its metadata` + fix},
		{"other metadata only", "web1", `<app:x xmlns:app="urn:other"/>`, OwnerPolicy{}, `policy: domain "web1" has no owner in its metadata` + fix},
		{"owner in another namespace", "web1", `<owner xmlns="https://company.example/owner/2" team="web"/>`, OwnerPolicy{}, `has no owner`},
		{"empty team", "web1", `<owner xmlns="https://company.example/owner/1" team=""/>`, OwnerPolicy{}, `policy: domain "web1": owner team "" is not a team name ([a-z][a-z0-9-]*)` + fix},
		{"bad team", "web1", `<owner xmlns="https://company.example/owner/1" team="Web Team"/>`, OwnerPolicy{}, `owner team "Web Team" is not a team name`},
		{"bad contact", "web1", `<owner xmlns="https://company.example/owner/1" team="web" contact="nobody"/>`, OwnerPolicy{}, `owner contact "nobody" is not an email address`},
		{"exempt", "ci-42", "", OwnerPolicy{Exempt: []string{"ci-*"}}, ""},
		{"not exempt", "web1", "", OwnerPolicy{Exempt: []string{"ci-*"}}, "has no owner"},
		{"custom namespace", "web1", `<o xmlns="urn:corp:owner" team="web"/>`, OwnerPolicy{Namespace: "urn:corp:owner"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
			Install(r, RequireOwner(tt.policy))
			res := hookkittest.Run(r, withMetadata("prepare", tt.vm, tt.metadata))
			if tt.wantErr == "" {
				require.Equal(t, 0, res.Code, res.Stderr)
				return
			}
			require.Equal(t, 1, res.Code)
			assert.Regexp(t, `^qemu: qemu `+tt.vm+` prepare begin: policy: domain "`+tt.vm+`"`, res.Stderr)
			assert.Contains(t, res.Stderr, tt.wantErr)
			assert.Equal(t, 1, bytes.Count([]byte(res.Stderr), []byte("\n")))
		})
	}
}

func TestRequireOwnerOnlyAtPrepare(t *testing.T) {
	r := hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	Install(r, RequireOwner(OwnerPolicy{}))
	for _, op := range []string{"start", "started", "stopped", "release", "reconnect"} {
		res := hookkittest.Run(r, hookkittest.Event(event.QEMU, op))
		assert.Equal(t, 0, res.Code, "%s: %s", op, res.Stderr)
	}
	// lxc containers need an owner too.
	res := hookkittest.Run(r, hookkittest.Event(event.LXC, "prepare"))
	assert.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, "has no owner")
}
