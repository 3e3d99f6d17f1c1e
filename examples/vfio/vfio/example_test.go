package vfio_test

import (
	"fmt"

	"github.com/hookkit-dev/hookkit/examples/vfio/vfio"
)

func ExampleParseAddr() {
	a, err := vfio.ParseAddr("0000:01:00.1")
	fmt.Println(a, err)
	_, err = vfio.ParseAddr("0000:01:00.1/../../../kernel")
	fmt.Println(err)
	// Output:
	// 0000:01:00.1 <nil>
	// invalid PCI address "0000:01:00.1/../../../kernel": want dddd:bb:ss.f
}
