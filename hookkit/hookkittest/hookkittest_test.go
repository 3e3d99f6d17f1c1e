package hookkittest_test

import (
	"encoding/xml"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

func TestEveryEventHasAFixture(t *testing.T) {
	for _, s := range event.Table {
		c := hookkittest.Event(s.Driver, s.Op)
		args := c.Args()
		require.Len(t, args, 5)
		assert.Equal(t, "/etc/libvirt/hooks/"+string(s.Driver), args[0])
		assert.Equal(t, s.Op, args[2])
		assert.Equal(t, s.SubOp, args[3])
		if s.Payload == event.PayloadNone {
			assert.Nil(t, c.Stdin, "%s %s: daemon hooks get /dev/null", s.Driver, s.Op)
			assert.Equal(t, "-", args[1])
			continue
		}
		var root struct {
			XMLName xml.Name
			Type    string `xml:"type,attr"`
		}
		require.NoError(t, xml.Unmarshal(c.Stdin, &root), "%s %s", s.Driver, s.Op)
		assert.Equal(t, s.Payload.Root(), root.XMLName.Local, "%s %s", s.Driver, s.Op)
		assert.NotEqual(t, "-", args[1], "%s %s: object from the fixture's <name>", s.Driver, s.Op)
		if s.Driver == event.Libxl {
			assert.Equal(t, "xen", root.Type)
		}
	}
}

func TestEventPanicsOnUnknown(t *testing.T) {
	assert.Panics(t, func() { hookkittest.Event(event.Bhyve, "migrate") })
}
