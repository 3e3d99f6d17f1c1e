package stdxml

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRefusal(t *testing.T) {
	tests := []struct {
		name, doc string
		refused   bool
	}{
		{"well-formed", `<domain type="kvm"><name>vm1</name></domain>`, false},
		{"unclosed", `<domain><name>vm1</name>`, true},
		{"fifth-edition name (CJK Extension A)", "<\u4a50/>", false},
		{"ASCII name error is not forgiven", `<a 1b="x"/>`, true},
		{"bad name forgiven only for non-ASCII input", "<a><1b/></a>", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Refusal([]byte(tt.doc))
			if tt.refused {
				assert.Error(t, err)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}
