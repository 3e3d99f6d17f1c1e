package portforward_test

import (
	"fmt"

	"github.com/hookkit-dev/hookkit/examples/portforward/portforward"
)

func ExampleConfig_Rules() {
	cfg := portforward.Config{Forwards: []portforward.Forward{
		{Proto: "tcp", HostPort: "2222", Guest: "192.168.122.10", GuestPort: "22"},
		{Proto: "udp", HostPort: "5353", Guest: "fd00::10", GuestPort: "53", Interface: "eth0"},
	}}
	rules, err := cfg.Rules()
	fmt.Println(rules, err)

	cfg.Forwards[0].HostPort = "22; reboot"
	_, err = cfg.Rules()
	fmt.Println(err)
	// Output:
	// [tcp 2222 -> 192.168.122.10:22 udp 5353 -> [fd00::10]:53 (in eth0)] <nil>
	// forward 1: host-port: "22; reboot" is not a port number (1-65535)
}
