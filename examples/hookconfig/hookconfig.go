// Package hookconfig loads the optional JSON configuration file of an example hook.
//
// A hook cannot take flags, because libvirt owns its argv (<object> <op> <subop> <extra>), and it gets
// almost no environment (LC_ALL=C, PATH, HOME). So the examples take their settings from a JSON file
// whose path is a package-level variable of main, set at build time:
//
//	var configFile = "/etc/hookkit/portforward.json" // go build -ldflags "-X main.configFile=/opt/pf.json"
//
// A missing file means the defaults; a file that does not parse, or that holds an unknown key, fails
// every call of the hook with the reason, so a typo never turns into a silently ignored setting.
package hookconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/hookkit-dev/hookkit/hookkit"
)

// Load decodes the JSON file at path into v, leaving v untouched when the file does not exist. Unknown
// keys are errors.
func Load(path string, v any) (found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return true, fmt.Errorf("config %s: %w", path, err)
	}
	// One document, nothing after it: a stray "}" or a second object appended by mistake must fail
	// like any other typo, not be silently ignored.
	if _, err := dec.Token(); err != io.EOF {
		return true, fmt.Errorf("config %s: more after the JSON document at byte %d", path, dec.InputOffset())
	}
	return true, nil
}

// FailAll returns middleware that fails every call with err: install it on the router when the
// configuration is unusable, so that every operation reports why instead of the hook doing nothing.
func FailAll(err error) hookkit.Middleware {
	return func(hookkit.Handler) hookkit.Handler {
		return hookkit.HandlerFunc(func(*hookkit.Call) error { return err })
	}
}
