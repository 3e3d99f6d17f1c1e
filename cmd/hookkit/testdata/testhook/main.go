// Command testhook is a hook program for the CLI tests. It reads its behaviour from <real path>.json, next to
// the binary it resolves through symlinks (libvirt clears the environment, so it cannot come from there):
//
//	{"record": "/path/calls.jsonl", "fail": {"prepare": "message"}, "replace": {"old": "new"}}
//
// It appends one JSON line per call to record (argv, env, cwd, stdin), fails with the message on stderr and
// exit 1 for the ops in fail, and for migrate and restore prints stdin with the replacements applied.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

type config struct {
	Record  string            `json:"record"`
	Fail    map[string]string `json:"fail"`
	Replace map[string]string `json:"replace"`
}

// Record is one call, as the tests read it back.
type Record struct {
	Argv  []string `json:"argv"`
	Env   []string `json:"env"`
	Cwd   string   `json:"cwd"`
	Stdin string   `json:"stdin"`
}

func main() {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testhook:", err)
		os.Exit(3)
	}
	var cfg config
	if raw, err := os.ReadFile(exe + ".json"); err == nil {
		if err := json.Unmarshal(raw, &cfg); err != nil {
			fmt.Fprintln(os.Stderr, "testhook: config:", err)
			os.Exit(3)
		}
	}
	stdin, _ := io.ReadAll(os.Stdin)
	cwd, _ := os.Getwd()
	if cfg.Record != "" {
		line, _ := json.Marshal(Record{Argv: os.Args, Env: os.Environ(), Cwd: cwd, Stdin: string(stdin)})
		f, err := os.OpenFile(cfg.Record, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			f.Write(append(line, '\n'))
			f.Close()
		}
	}
	op := ""
	if len(os.Args) > 2 {
		op = os.Args[2]
	}
	if msg, ok := cfg.Fail[op]; ok {
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(1)
	}
	if (op == "migrate" || op == "restore") && len(cfg.Replace) > 0 {
		out := string(stdin)
		for old, repl := range cfg.Replace {
			out = strings.ReplaceAll(out, old, repl)
		}
		fmt.Print(out)
	}
}
