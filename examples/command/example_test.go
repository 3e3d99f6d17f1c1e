package command_test

import (
	"context"
	"fmt"
	"os"

	"github.com/hookkit-dev/hookkit/examples/command"
)

func ExampleFormat() {
	fmt.Println(command.Format("nft", "add", "chain", "inet", "t", "c", "{", "type", "nat", ";", "}"))
	// Output: nft add chain inet t c "{" type nat ";" "}"
}

func ExampleDryRun() {
	var r command.Runner = &command.DryRun{W: os.Stdout}
	_ = r.Run(context.Background(), "tc", "qdisc", "del", "dev", "vnet0", "root")
	// Output: tc qdisc del dev vnet0 root
}
