package rewrite_test

import (
	"fmt"

	"github.com/hookkit-dev/hookkit/examples/migrate-rewrite/rewrite"
)

func ExampleRules_Map() {
	rules := rewrite.Rules{Disks: []rewrite.DiskRule{
		{Prefix: "/var/lib/libvirt/images", Replacement: "/srv/nfs/images"},
		{Prefix: "/var/lib/libvirt/images/base", Replacement: "/srv/nfs/base"},
	}}
	for _, p := range []string{
		"/var/lib/libvirt/images/db1.qcow2",
		"/var/lib/libvirt/images/base/debian12.qcow2",
		"/var/lib/libvirt/images2/other.qcow2",
	} {
		fmt.Println(rules.Map(p))
	}
	// Output:
	// /srv/nfs/images/db1.qcow2 true
	// /srv/nfs/base/debian12.qcow2 true
	// /var/lib/libvirt/images2/other.qcow2 false
}
