// Command tagfilter is a restore and migrate filter for the end-to-end tests of <driver>.d chaining. It
// is installed twice, as qemu.d/20-tag-a and qemu.d/30-tag-b: for the domain e2e-chain it appends
// " +<its own file name>" to the <description> it received, so the final description shows which filters
// ran and whether each one got the previous one's output. It records every call it handles.
//
// Build it with -ldflags "-X main.recordFile=/tmp/x/records.jsonl".
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hookkit-dev/hookkit/e2e"
	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/xmldoc"
)

// Set at build time with -ldflags -X.
var recordFile string

func main() {
	if recordFile == "" {
		fmt.Fprintln(os.Stderr, "tagfilter: built without -ldflags \"-X main.recordFile=...\"")
		os.Exit(hookkit.ExitFailure)
	}
	r := hookkit.New()
	tag := func(route string) func(*hookkit.Domain) error {
		return xmldoc.Filter(func(dom *hookkit.Domain, doc *xmldoc.Document) error {
			rec := e2e.NewRecord("tagfilter", route, dom.Call)
			e2e.FillDomain(&rec, dom)
			in, err := doc.Description()
			if err != nil {
				return err
			}
			rec.DescriptionOut = in + " +" + filepath.Base(dom.Program)
			if err := doc.SetDescription(rec.DescriptionOut); err != nil {
				return err
			}
			return e2e.Append(recordFile, rec)
		})
	}
	chain := r.Match(hookkit.Name("e2e-chain"))
	chain.OnDomainRestore(tag("OnDomainRestore"))
	chain.OnDomainMigrate(tag("OnDomainMigrate"))
	r.Main()
}
