package simulate

import (
	"bytes"
	"embed"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/hookkit-dev/hookkit/hookkit/event"
)

// samples are real stdin captures from libvirtd 9.0 (see testdata/embedded/README.md).
//
//go:embed testdata/embedded/*.xml
var samples embed.FS

// Sample returns the built-in stdin for a call of driver d with op, and the name of the sample it comes from.
// It returns nil data for calls whose stdin is /dev/null (daemon hooks) and for unknown calls.
func Sample(d event.Driver, op string) (name string, data []byte) {
	spec := event.Lookup(d, op)
	if spec == nil || spec.Payload == event.PayloadNone {
		return "", nil
	}
	candidates := []string{fmt.Sprintf("%s-%s-%s.xml", d, op, spec.SubOp)}
	switch spec.Payload {
	case event.PayloadDomain:
		candidates = append(candidates, fmt.Sprintf("qemu-%s-%s.xml", op, spec.SubOp))
		if op == "migrate" {
			candidates = append(candidates, "qemu-restore-begin.xml")
		}
		candidates = append(candidates, fmt.Sprintf("%s-started-begin.xml", d), "qemu-prepare-begin.xml")
	case event.PayloadNetwork:
		candidates = append(candidates, "network-start-begin.xml")
	case event.PayloadNetworkPort:
		candidates = append(candidates, "network-port-created-begin.xml")
	case event.PayloadNetworkDomain:
		candidates = append(candidates, "network-plugged-begin.xml")
	}
	for _, c := range candidates {
		if data, err := samples.ReadFile("testdata/embedded/" + c); err == nil {
			return c, data
		}
	}
	return "", nil
}

// ObjectName returns what libvirt passes as argv[1] for a payload: the <name> of the root <domain>, or of the
// <network> inside <hookData>; "" when the document has none.
func ObjectName(doc []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var path []string
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			p := strings.Join(path, "/")
			if p == "domain/name" || p == "hookData/network/name" {
				var name string
				if err := dec.DecodeElement(&name, &t); err != nil {
					return ""
				}
				return strings.TrimSpace(name)
			}
		case xml.EndElement:
			path = path[:len(path)-1]
		}
	}
}

// checkOutput says why libvirt would reject the output of a filter hook, or "" when it is a well-formed
// document with the same root element as the input.
func checkOutput(input, output []byte) string {
	root := func(doc []byte) (string, error) {
		dec := xml.NewDecoder(bytes.NewReader(doc))
		name := ""
		depth := 0
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				if name == "" {
					return "", fmt.Errorf("no root element")
				}
				return name, nil
			}
			if err != nil {
				return "", err
			}
			switch t := tok.(type) {
			case xml.StartElement:
				if depth == 0 {
					if name != "" {
						return "", fmt.Errorf("more than one root element")
					}
					name = t.Name.Local
				}
				depth++
			case xml.EndElement:
				depth--
			}
		}
	}
	want, err := root(input)
	if err != nil {
		return ""
	}
	got, err := root(output)
	if err != nil {
		return "the output is not well-formed XML (" + err.Error() + "): libvirt would abort the operation"
	}
	if got != want {
		return fmt.Sprintf("the output's root element is <%s>, not <%s>: libvirt would abort the operation", got, want)
	}
	return ""
}
