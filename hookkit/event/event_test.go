package event_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/hookkit-dev/hookkit/hookkit/event"
)

func TestTableFacts(t *testing.T) {
	seen := map[event.Key]bool{}
	for _, s := range event.Table {
		assert.False(t, seen[s.Key()], "duplicate %v", s.Key())
		seen[s.Key()] = true
		assert.True(t, s.Driver.Valid(), s.Driver)
		assert.NotEmpty(t, s.Since, "%v", s.Key())
		assert.NotEmpty(t, s.FailureText, "%v", s.Key())
		assert.Contains(t, []string{"begin", "end", "-"}, s.SubOp, "%v", s.Key())
		assert.Equal(t, s.Filter, s.Op == "restore" || s.Op == "migrate", "only migrate and restore are filters: %v", s.Key())
		assert.Equal(t, s.Driver.IsDomain(), s.Payload == event.PayloadDomain, "%v", s.Key())
		assert.Same(t, event.Lookup(s.Driver, s.Op), event.Lookup(s.Driver, s.Op))
	}
	// The counts per driver, from libvirt-hooks.md.
	count := map[event.Driver]int{}
	for _, s := range event.Table {
		count[s.Driver]++
	}
	assert.Equal(t, map[event.Driver]int{event.Daemon: 3, event.QEMU: 9, event.LXC: 6, event.Network: 8, event.Libxl: 7, event.Bhyve: 5}, count)
	assert.Nil(t, event.Lookup(event.Bhyve, "reconnect"), "bhyve has no reconnect hook")
	assert.Equal(t, event.Kills, event.Lookup(event.QEMU, "reconnect").Failure)
}

func TestNames(t *testing.T) {
	want := map[event.Driver]string{event.Daemon: "Daemon", event.QEMU: "QEMU", event.LXC: "LXC",
		event.Network: "Network", event.Libxl: "Libxl", event.Bhyve: "Bhyve", "domain": "Domain"}
	for d, name := range want {
		assert.Equal(t, name, d.GoName())
	}
	assert.Equal(t, "OnQEMUPrepare", event.Lookup(event.QEMU, "prepare").MethodName())
	assert.Equal(t, "OnNetworkPortCreated", event.Lookup(event.Network, "port-created").MethodName())
	assert.Equal(t, "OnLibxlMigrate", event.Lookup(event.Libxl, "migrate").MethodName())
	assert.Equal(t, "OnDomainReconnect", event.DomainMethodName("reconnect"))
	assert.True(t, event.ReasonFromSnapshot.Known())
	assert.False(t, event.ShutoffReason("-").Known())
}
