package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/hookkit-dev/hookkit/hookkit/event"
)

func init() {
	register(&command{
		name:    "events",
		args:    "[--format table|json] [--driver DRIVER]",
		summary: "list every hook call libvirt makes (driver, op, subop, extra, stdin, filter, failure effect, since)",
		help: `The table comes from package github.com/hookkit-dev/hookkit/hookkit/event, the single source of truth
of hookkit. FILTER "yes" means the hook's stdout replaces the XML; LEGACY "yes" means current libvirt no
longer makes the call.`,
		run: runEvents,
	})
}

// eventJSON is the JSON form of one event.Spec.
type eventJSON struct {
	Driver      string `json:"driver"`
	Op          string `json:"op"`
	SubOp       string `json:"subop"`
	Extra       string `json:"extra"`
	Object      string `json:"object"`
	Stdin       string `json:"stdin"`
	Filter      bool   `json:"filter"`
	Failure     string `json:"failure"`
	FailureText string `json:"failure_text"`
	Since       string `json:"since"`
	Legacy      bool   `json:"legacy"`
	When        string `json:"when"`
}

func runEvents(e *env, args []string) error {
	fs := e.flags()
	format := fs.String("format", "table", "output format: table or json")
	driver := fs.String("driver", "", "only the events of this driver")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *driver != "" && !event.Driver(*driver).Valid() {
		return usagef("unknown driver %q", *driver)
	}
	var specs []event.Spec
	for _, s := range event.Table {
		if *driver == "" || s.Driver == event.Driver(*driver) {
			specs = append(specs, s)
		}
	}
	switch *format {
	case "json":
		out := make([]eventJSON, 0, len(specs))
		for _, s := range specs {
			out = append(out, eventJSON{Driver: string(s.Driver), Op: s.Op, SubOp: s.SubOp, Extra: s.Extra,
				Object: s.Object, Stdin: s.Payload.String(), Filter: s.Filter, Failure: s.Failure.String(),
				FailureText: s.FailureText, Since: s.Since, Legacy: s.Legacy, When: s.When})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "table":
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DRIVER\tOP\tSUBOP\tEXTRA\tSTDIN\tFILTER\tON FAILURE\tSINCE\tLEGACY")
		for _, s := range specs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Driver, s.Op, s.SubOp, s.Extra, s.Payload,
				yesNo(s.Filter), s.FailureText, s.Since, yesNo(s.Legacy))
		}
		return tw.Flush()
	}
	return usagef("unknown --format %q (table or json)", *format)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
