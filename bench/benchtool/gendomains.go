package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

var (
	nameElem = regexp.MustCompile(`<name>[^<]*</name>`)
	uuidElem = regexp.MustCompile(`<uuid>[^<]*</uuid>`)
)

// stormDomain returns the template domain with the name vm-NNN and a UUID of its own for index i. Only
// the first <name> and <uuid> (the domain's own, which come first in libvirt's output) are replaced.
func stormDomain(tmpl []byte, i int) ([]byte, error) {
	name := fmt.Sprintf("vm-%03d", i)
	uuid := fmt.Sprintf("6b6f6f6b-0000-4000-8000-%012x", i)
	out, ok := replaceFirst(tmpl, nameElem, "<name>"+name+"</name>")
	if !ok {
		return nil, errors.New("the template has no <name>")
	}
	out, ok = replaceFirst(out, uuidElem, "<uuid>"+uuid+"</uuid>")
	if !ok {
		return nil, errors.New("the template has no <uuid>")
	}
	return out, nil
}

func replaceFirst(b []byte, re *regexp.Regexp, repl string) ([]byte, bool) {
	loc := re.FindIndex(b)
	if loc == nil {
		return nil, false
	}
	return bytes.Join([][]byte{b[:loc[0]], []byte(repl), b[loc[1]:]}, nil), true
}

func runGenDomains(args []string) error {
	fs := flag.NewFlagSet("gendomains", flag.ContinueOnError)
	in := fs.String("in", "", "template domain XML")
	out := fs.String("out", "", "directory for vm-NNN.xml")
	n := fs.Int("n", 200, "how many domains")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tmpl, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for i := 1; i <= *n; i++ {
		dom, err := stormDomain(tmpl, i)
		if err != nil {
			return fmt.Errorf("%s: %w", *in, err)
		}
		if err := os.WriteFile(filepath.Join(*out, fmt.Sprintf("vm-%03d.xml", i)), dom, 0o644); err != nil {
			return err
		}
	}
	return nil
}
