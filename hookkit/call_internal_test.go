package hookkit

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestModel covers the lazily parsed model behind Config: built once, its error kept, and a build that
// panicked never followed by a nil model without an error (nor by a panic of model's own).
func TestModel(t *testing.T) {
	one := func() (*int, error) { x := 1; return &x, nil }
	for _, tc := range []struct {
		name    string
		first   func() (*int, error)
		panics  bool
		want    int
		wantErr error
	}{
		{name: "built once", first: one, want: 1},
		{name: "error kept", first: func() (*int, error) { return nil, errors.New("bad <vcpu>") }, wantErr: errors.New("bad <vcpu>")},
		{name: "panicked build", first: func() (*int, error) { panic("boom") }, panics: true, wantErr: errModelPanicked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l lazyModel
			if tc.panics {
				assert.Panics(t, func() { _, _ = model(&l, tc.first) })
			} else {
				_, _ = model(&l, tc.first)
			}
			// The second call never builds again, whatever its build function would return.
			v, err := model(&l, func() (*int, error) { x := 2; return &x, nil })
			if tc.wantErr != nil {
				assert.EqualError(t, err, tc.wantErr.Error())
				assert.Nil(t, v)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, *v)
		})
	}
}
