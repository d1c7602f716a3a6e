package emf

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPutParse: a line written by Put reads back with its namespace,
// dimension sets, metrics, units and properties; log lines that are not
// EMF are skipped; a nil writer writes nothing.
func TestPutParse(t *testing.T) {
	var buf bytes.Buffer
	w := &Writer{W: &buf}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	w.Put(context.Background(), now, [][]string{{DimFunction}, {DimFunction, DimRule}}, map[string]string{DimFunction: "detect", DimRule: "port-scan", "id": "x"},
		Metric{"Findings", Count, 2}, Metric{"Scanned", Bytes, 1024})
	buf.WriteString("START RequestId: 1 Version: $LATEST\n{\"level\":\"INFO\",\"msg\":\"not emf\"}\n")
	(*Writer)(nil).Put(context.Background(), now, nil, nil, Metric{"X", Count, 1})
	lines, err := Parse(strings.NewReader(buf.String()))
	if err != nil || len(lines) != 1 {
		t.Fatalf("Parse = %d lines, %v; want 1", len(lines), err)
	}
	l := lines[0]
	if l.Namespace != DefaultNamespace || !slices.EqualFunc(l.Dimensions, [][]string{{"Function"}, {"Function", "Rule"}}, slices.Equal) ||
		l.Metrics["Findings"] != 2 || l.Units["Scanned"] != Bytes || l.Props["Rule"] != "port-scan" || l.Props["id"] != "x" {
		t.Errorf("line = %+v", l)
	}
}
