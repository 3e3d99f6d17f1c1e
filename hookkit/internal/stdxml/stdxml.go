// Package stdxml tells whether encoding/xml accepts a document that one of hookkit's hand-written
// scanners accepted. The fuzz targets of package hookkit and package xmldoc use it as their oracle.
package stdxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// Refusal returns the error encoding/xml's tokenizer reports for doc, or nil when it reads doc to the end.
//
// One difference is not an error: hookkit's scanners follow XML 1.0 fifth edition for names, as libxml2
// does, while encoding/xml keeps the fourth edition's tables, which refuse some non-ASCII name characters
// (e.g. CJK Extension A). For ASCII the two editions agree, so the difference is forgiven only when doc
// holds a non-ASCII byte.
func Refusal(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if strings.Contains(err.Error(), "invalid XML name") && bytes.ContainsFunc(doc, func(r rune) bool { return r >= 0x80 }) {
				return nil
			}
			return err
		}
	}
}
