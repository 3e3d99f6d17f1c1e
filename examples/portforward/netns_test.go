package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookkit-dev/hookkit/examples/internal/hookbuild"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRealFirewallInNetNS applies and removes the forwards of testdata/web1.xml with the real nft and
// iptables, inside a new network namespace (unshare -n) so the host's firewall is never touched. It
// needs root, unshare and the tools; it skips otherwise.
func TestRealFirewallInNetNS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	if err := exec.Command("unshare", "-n", "true").Run(); err != nil {
		t.Skipf("cannot create a network namespace: %v", err)
	}
	tests := []struct {
		backend string
		tools   []string
		list    string
		want    []string
	}{
		{"nft", []string{"nft"}, "nft list ruleset", []string{
			"table inet hookkit_pf_c1f222e64bae4717be4af8eaa33cd9ff",
			"meta nfproto ipv4 tcp dport 2222 dnat ip to 192.168.122.10:22",
			`iifname "eth0" meta nfproto ipv6 udp dport 5353 dnat ip6 to [fd00::10]:53`,
			"ip daddr 192.168.122.10 tcp dport 22 ct status dnat accept",
		}},
		{"iptables", []string{"iptables", "ip6tables"}, "iptables-save; ip6tables-save", []string{
			`-A PREROUTING -p tcp -m tcp --dport 2222 -m comment --comment "hookkit-pf:c1f222e6-4bae-4717-be4a-f8eaa33cd9ff" -j DNAT --to-destination 192.168.122.10:22`,
			`-A FORWARD -d 192.168.122.10/32 -p tcp -m tcp --dport 22 -m conntrack --ctstate DNAT -m comment --comment "hookkit-pf:c1f222e6-4bae-4717-be4a-f8eaa33cd9ff" -j ACCEPT`,
			`-A PREROUTING -i eth0 -p udp -m udp --dport 5353 -m comment --comment "hookkit-pf:c1f222e6-4bae-4717-be4a-f8eaa33cd9ff" -j DNAT --to-destination [fd00::10]:53`,
		}},
	}
	xml, err := filepath.Abs("testdata/web1.xml")
	require.NoError(t, err)
	cfg := filepath.Join(t.TempDir(), "pf.json")
	bin := hookbuild.Build(t, ".", map[string]string{"configFile": cfg})
	for _, tt := range tests {
		t.Run(tt.backend, func(t *testing.T) {
			for _, tool := range tt.tools {
				if _, err := exec.LookPath(tool); err != nil {
					t.Skipf("%s is not installed", tool)
				}
			}
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(cfg, []byte(`{"backend": "`+tt.backend+`", "stateDir": "`+filepath.Join(dir, "state")+`", "lockDir": "`+filepath.Join(dir, "lock")+`"}`), 0o600))
			hook := filepath.Join(dir, "hooks", "qemu")
			require.NoError(t, os.MkdirAll(filepath.Dir(hook), 0o755))
			require.NoError(t, os.Symlink(bin, hook))
			script := hook + " hooktest start begin - <" + xml + " && echo APPLIED && " + tt.list +
				" && " + hook + " hooktest release end destroyed <" + xml + " && echo REMOVED && " + tt.list
			out, err := exec.Command("unshare", "-n", "sh", "-c", script).CombinedOutput()
			require.NoError(t, err, "%s", out)
			applied, removed, ok := strings.Cut(string(out), "REMOVED")
			require.True(t, ok, "%s", out)
			for _, w := range tt.want {
				assert.Contains(t, applied, w)
			}
			assert.NotContains(t, removed, "hookkit", "everything is removed")
		})
	}
}
