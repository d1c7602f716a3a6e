package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify"
	"github.com/flowlake/flowlake/shared/notify/email"
	"github.com/flowlake/flowlake/shared/notify/slack"
)

// runNotify implements `flowlake notify --render email|slack|sns FILE`:
// it prints what would be sent for each finding in FILE, and sends
// nothing.
func runNotify(_ context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("notify", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	render := fs.String("render", "email", "what to print: email (subject and text), slack (the webhook's JSON) or sns (the Publish request)")
	digest := fs.Bool("digest", false, "slack: one digest message for all the findings")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: flowlake notify --render email|slack|sns [--digest] FINDING.json\n\n"+
			"Prints what would be sent for each finding in FINDING.json (one finding, or\n"+
			"one per line as `flowlake detect --json` prints them; - reads stdin). Nothing\n"+
			"is sent.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || (*render != "email" && *render != "slack" && *render != "sns") {
		fs.Usage()
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(sio.err, "flowlake notify: "+format+"\n", a...)
		return 1
	}
	in := sio.in
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fail("%v", err)
		}
		defer f.Close()
		in = f
	}
	findings, err := readFindings(in)
	if err != nil {
		return fail("%s: %v", fs.Arg(0), err)
	}
	if len(findings) == 0 {
		return fail("%s: no findings", fs.Arg(0))
	}
	enc := json.NewEncoder(sio.out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	switch *render {
	case "email":
		for i := range findings {
			if i > 0 {
				fmt.Fprintln(sio.out, "\n"+strings.Repeat("=", 72)+"\n")
			}
			fmt.Fprintf(sio.out, "Subject: %s\n\n%s", email.Subject(&findings[i]), email.Render(&findings[i]))
		}
	case "slack":
		if *digest {
			if err := enc.Encode(slack.Digest(findings)); err != nil {
				return fail("%v", err)
			}
			break
		}
		for i := range findings {
			if err := enc.Encode(slack.Render(&findings[i])); err != nil {
				return fail("%v", err)
			}
		}
	case "sns":
		for _, f := range findings {
			m, err := notify.BuildMessage(f)
			if err != nil {
				return fail("%v", err)
			}
			if err := enc.Encode(snsPreview(m)); err != nil {
				return fail("%v", err)
			}
		}
	}
	return 0
}

// snsPreview is the Publish request of a message, with the message's keys
// decoded so they read as text.
func snsPreview(m notify.Message) any {
	var body map[string]string
	json.Unmarshal([]byte(m.Body), &body)
	attrs := map[string]string{}
	for k, v := range m.Attributes {
		attrs[k] = aws.ToString(v.DataType) + ":" + aws.ToString(v.StringValue)
	}
	return map[string]any{
		"Subject": m.Subject, "MessageStructure": "json", "Message": body,
		"MessageAttributes": attrs, "Bytes": m.Size(), "SamplesLeftOut": m.Trimmed,
	}
}

// readFindings reads one or more findings (JSON values one after
// another) and checks each.
func readFindings(r io.Reader) ([]finding.Finding, error) {
	dec := json.NewDecoder(r)
	var out []finding.Finding
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("finding %d: %w", len(out)+1, err)
		}
		f, err := finding.Unmarshal(raw)
		if err != nil {
			return nil, fmt.Errorf("finding %d: %w", len(out)+1, err)
		}
		if err := f.Validate(); err != nil {
			return nil, fmt.Errorf("finding %d: %w", len(out)+1, err)
		}
		out = append(out, f)
	}
}
