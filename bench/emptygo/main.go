// Command emptygo is the floor of every Go hook: it reads stdin whole and exits 0, nothing more.
package main

import (
	"io"
	"os"
)

func main() {
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
		os.Exit(1)
	}
}
