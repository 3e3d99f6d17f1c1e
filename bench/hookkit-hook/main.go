// Command hookkit-hook is the hookkit hook the benchmark suite measures: for qemu prepare, start, started
// and reconnect it reads the domain's name, its UUID and one value of its <metadata>, the work the
// bash+xmllint and python3 hooks of the suite do too. Called with "verify" as the extra argument (argv[4])
// it prints "name|uuid|owner" to stdout so that run.sh can check every hook read the same values: an
// argument rather than an environment variable, because the first os.Getenv copies the whole environment
// into a map, work that is the benchmark's, not the hook's.
package main

import (
	"errors"
	"os"

	"github.com/hookkit-dev/hookkit/hookkit"
)

// benchNS is the namespace of the metadata element of the benchmark domains.
const benchNS = "https://hookkit.dev/bench/1"

type benchConfig struct {
	Owner string `xml:"owner,attr"`
}

func main() {
	read := func(d *hookkit.Domain) error {
		var cfg benchConfig
		if _, err := d.Metadata(benchNS, &cfg); err != nil {
			return err
		}
		if d.Name() == "" || d.UUID() == "" || cfg.Owner == "" {
			return errors.New("the domain lacks a name, a UUID or the bench metadata")
		}
		if d.Extra == "verify" {
			os.Stdout.WriteString(d.Name() + "|" + d.UUID() + "|" + cfg.Owner + "\n")
		}
		return nil
	}
	r := hookkit.New()
	r.OnDomainPrepare(read)
	r.OnDomainStart(read)
	r.OnDomainStarted(read)
	r.OnDomainReconnect(read)
	r.Main()
}
