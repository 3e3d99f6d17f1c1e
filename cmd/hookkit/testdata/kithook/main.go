// Command kithook is a hook built with hookkit for the CLI tests: it refuses to prepare a domain whose name
// starts with "deny", and on restore renames the domain's title.
package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/hookkit-dev/hookkit/hookkit"
)

func main() {
	r := hookkit.New(hookkit.WithName("kithook"))
	r.OnDomainPrepare(func(dom *hookkit.Domain) error {
		if strings.HasPrefix(dom.Name(), "deny") {
			return fmt.Errorf("%s has no owner", dom.Name())
		}
		return nil
	})
	r.OnDomainRestore(func(dom *hookkit.Domain) error {
		return dom.ReplaceXML(bytes.Replace(dom.XML(), []byte("</name>"), []byte("</name>\n  <title>restored by kithook</title>"), 1))
	})
	r.Main()
}
