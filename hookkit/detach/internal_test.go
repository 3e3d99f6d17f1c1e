package detach

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStartNeedsMaybeRunChild(t *testing.T) {
	was := wired.Swap(false)
	defer wired.Store(was)
	_, err := Start(exec.Command("/bin/true"), Options{Immediate: true})
	assert.EqualError(t, err, "detach true: this program does not call detach.MaybeRunChild() at the start of main (hookkit's Router.Main does)")
}

func TestQuoteArgs(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"virsh", "start", "vm1"}, "virsh start vm1"},
		{[]string{"echo", "a b", ""}, `echo "a b" ""`},
		{[]string{"x", `$HOME`, "it's"}, `x "$HOME" "it's"`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, quoteArgs(tt.args))
	}
}
