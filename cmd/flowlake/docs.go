package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/lake"
)

// runDocs implements `flowlake docs schema|rules`: the README's generated
// sections, printed from the code so they cannot drift.
func runDocs(_ context.Context, sio stdio, args []string) int {
	if len(args) != 1 || docSections[args[0]] == nil {
		fmt.Fprintln(sio.err, "usage: flowlake docs schema|rules")
		return 2
	}
	io.WriteString(sio.out, docSections[args[0]]())
	return 0
}

// docSections are the README sections generated from the code, by the name
// of their markers (<!-- BEGIN GENERATED: name --> ... <!-- END GENERATED: name -->).
var docSections = map[string]func() string{
	"schema": schemaDoc,
	"rules":  rulesDoc,
}

// schemaDoc is the lake table: every column of lake.TableSchema with its
// Athena type and doc, then the partition keys.
func schemaDoc() string {
	var b strings.Builder
	b.WriteString("| column | type | description |\n|---|---|---|\n")
	for _, c := range lake.TableSchema.Columns() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.Name, c.Type, mdCell(c.Doc))
	}
	b.WriteString("\nPartition keys (Hive style, all `string`, projected — never crawled or repaired): ")
	for i, k := range lake.PartitionKeys() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "`%s`", k)
	}
	b.WriteString(".\n")
	return b.String()
}

// rulesDoc is the detection registry: id, title, window, thresholds and
// what each rule looks for.
func rulesDoc() string {
	var b strings.Builder
	b.WriteString("| id | title | window | defaults | MITRE | what fires |\n|---|---|---|---|---|---|\n")
	for i := range detect.Rules {
		r := &detect.Rules[i]
		d := r.Defaults
		var th []string
		if d.Threshold > 0 {
			th = append(th, fmt.Sprintf("%s ≥ %d", r.Measure, d.Threshold))
		}
		if d.FlowBytes > 0 {
			th = append(th, fmt.Sprintf("one flow ≥ %d bytes", d.FlowBytes))
		}
		if d.MaxPackets > 0 {
			th = append(th, fmt.Sprintf("≤ %d packets a flow", d.MaxPackets))
		}
		if len(d.Ports) > 0 {
			th = append(th, fmt.Sprintf("ports %s", strings.Trim(strings.ReplaceAll(fmt.Sprint(d.Ports), " ", ","), "[]")))
		}
		if d.MaxPort > 0 {
			th = append(th, fmt.Sprintf("dst ports < %d", d.MaxPort))
		}
		window := "-"
		if d.Window > 0 {
			window = d.Window.String()
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", r.ID, mdCell(r.Title), window,
			mdCell(strings.Join(th, "; ")), strings.Join(r.Mitre, ", "), mdCell(r.Summary))
	}
	return b.String()
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
