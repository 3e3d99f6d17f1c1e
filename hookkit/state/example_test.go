package state_test

import (
	"fmt"
	"os"

	"github.com/hookkit-dev/hookkit/hookkit/state"
)

// A port-forward hook records what it set up at start and undoes exactly that at
// release, whatever the domain's XML says by then.
func Example() {
	dir, _ := os.MkdirTemp("", "state")
	defer os.RemoveAll(dir)
	s := state.Open(state.Options{Dir: dir}) // in a hook: state.Options{} uses /run/hookkit

	type forward struct {
		Bridge string
		Ports  []int
	}
	const uuid = "c7a5fdbd-edaf-9455-926a-d65c16db1809"

	// start handler
	if err := s.Save(uuid, "portforward", forward{Bridge: "virbr0", Ports: []int{22, 443}}); err != nil {
		fmt.Println(err)
	}

	// release handler, in another process, possibly after a libvirtd restart
	var fw forward
	found, err := s.Load(uuid, "portforward", &fw)
	fmt.Println(found, err, fw.Bridge, fw.Ports)
	if err := s.Clear(uuid); err != nil {
		fmt.Println(err)
	}
	keys, _ := s.List(uuid)
	fmt.Println(len(keys))
	// Output:
	// true <nil> virbr0 [22 443]
	// 0
}
