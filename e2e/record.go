package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Record is what one hook call saw, as the e2e hook programs write it: what libvirt passed in argv and
// the environment, and what hookkit parsed from argv and stdin.
type Record struct {
	// Hook names the program that wrote the record: "recorder", "tagfilter" or "detached".
	Hook string `json:"hook"`
	// Route names the hookkit registration that ran, e.g. "OnDomainPrepare" or "CatchAll".
	Route string `json:"route,omitempty"`
	// PID is the hook process.
	PID int `json:"pid"`
	// Argv is the hook's whole argv; Argv[0] is the path libvirt executed.
	Argv []string `json:"argv"`
	// Executable is the binary behind Argv[0], symlinks resolved.
	Executable string `json:"executable,omitempty"`
	// Env and Cwd are the environment and working directory libvirt gave the hook.
	Env []string `json:"env,omitempty"`
	Cwd string   `json:"cwd,omitempty"`

	// Driver, Object, Op, SubOp and Extra are the invocation as hookkit parsed it ("-" arrives as "").
	Driver string `json:"driver"`
	Object string `json:"object,omitempty"`
	Op     string `json:"op"`
	SubOp  string `json:"subop,omitempty"`
	Extra  string `json:"extra,omitempty"`

	// Name, UUID, Type and ID are the domain's identity from stdin; ID is 0 when the domain has none.
	Name string `json:"name,omitempty"`
	UUID string `json:"uuid,omitempty"`
	Type string `json:"type,omitempty"`
	ID   int    `json:"id,omitempty"`
	// Description is the domain's <description> as it arrived; DescriptionOut what a filter replaced it with.
	Description    string `json:"description,omitempty"`
	DescriptionOut string `json:"descriptionOut,omitempty"`
	// Scenario is the name attribute of the domain's <metadata> element in MetadataNS.
	Scenario string `json:"scenario,omitempty"`

	// Network, NetworkUUID and Bridge identify the network of a network hook.
	Network     string `json:"network,omitempty"`
	NetworkUUID string `json:"networkUUID,omitempty"`
	Bridge      string `json:"bridge,omitempty"`
	// PortUUID, OwnerName, OwnerUUID, MAC, PlugType and PlugBridge come from a <networkport>.
	PortUUID   string `json:"portUUID,omitempty"`
	OwnerName  string `json:"ownerName,omitempty"`
	OwnerUUID  string `json:"ownerUUID,omitempty"`
	MAC        string `json:"mac,omitempty"`
	PlugType   string `json:"plugType,omitempty"`
	PlugBridge string `json:"plugBridge,omitempty"`

	// Output and Error report the result of detached work (Error also a payload the hook could not parse).
	Output string `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
	// Session and Stdio describe the process of detached work: its session id and where its file
	// descriptors 0, 1 and 2 point.
	Session int      `json:"session,omitempty"`
	Stdio   []string `json:"stdio,omitempty"`
}

// MetadataNS is the namespace of the per-scenario element the e2e domains carry in their <metadata>:
// <e2e:scenario xmlns:e2e="https://hookkit.dev/e2e" name="..."/>.
const MetadataNS = "https://hookkit.dev/e2e"

// DetachedTitle is the <title> the recorder's detached work gives the domain e2e-detach.
const DetachedTitle = "set by detached work"

// RestoredDescription is the <description> the recorder's restore filter gives the domain e2e-restore.
const RestoredDescription = "restored by the hookkit e2e recorder"

// Append writes r as one JSON line at the end of the file at path, creating it with mode 0600. The line
// goes out in a single write on a file opened with O_APPEND, so concurrent hooks do not interleave.
func Append(path string, r Record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open record file: %w", err)
	}
	_, werr := f.Write(append(line, '\n'))
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("write record: %w", werr)
	}
	if cerr != nil {
		return fmt.Errorf("close record file: %w", cerr)
	}
	return nil
}

// ReadRecords returns every complete record in the file at path, in the order they were written. A
// missing file holds no records; a line cut short by a writer still at work is left out.
func ReadRecords(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lines := bytes.Split(b, []byte("\n"))
	lines = lines[:len(lines)-1] // what follows the last newline is empty or still being written
	var out []Record
	for i, line := range lines {
		if len(line) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}
