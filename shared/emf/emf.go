package emf

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// DefaultNamespace is the namespace of every flowlake metric unless the
// functions are told otherwise (EnvNamespace).
const DefaultNamespace = "flowlake"

// EnvNamespace is the environment variable that names the functions' EMF
// namespace (default DefaultNamespace).
const EnvNamespace = "FLOWLAKE_METRICS_NAMESPACE"

// Dimension names.
const (
	DimFunction = "Function" // the function that emits: its folder under functions/
	DimRule     = "Rule"     // a detection rule id
	DimSeverity = "Severity" // a finding's severity
)

// Units, as CloudWatch names them.
const (
	Count        = "Count"
	Bytes        = "Bytes"
	Seconds      = "Seconds"
	Milliseconds = "Milliseconds"
)

// Metric is one value of a line.
type Metric struct {
	Name  string
	Unit  string
	Value float64
}

// Writer writes EMF lines to W, one Put at a time. A nil Writer, or one
// with no W, writes nothing.
type Writer struct {
	W         io.Writer
	Namespace string // "": DefaultNamespace

	mu sync.Mutex
}

type directive struct {
	Namespace  string     `json:"Namespace"`
	Dimensions [][]string `json:"Dimensions"`
	Metrics    []metric   `json:"Metrics"`
}

type metric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type meta struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

// Put writes one line: the metrics ms, aggregated by each of the dimension
// sets dims (each a list of dimension names; an empty set aggregates over
// everything), whose values are in props with any other properties the
// line carries (a finding id, a source). The Lambda request id is added
// when ctx has one.
func (w *Writer) Put(ctx context.Context, now time.Time, dims [][]string, props map[string]string, ms ...Metric) {
	if w == nil || w.W == nil || len(ms) == 0 {
		return
	}
	ns := w.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	d := directive{Namespace: ns, Dimensions: dims}
	doc := make(map[string]any, len(props)+len(ms)+2)
	for k, v := range props {
		doc[k] = v
	}
	for _, m := range ms {
		d.Metrics = append(d.Metrics, metric{m.Name, m.Unit})
		doc[m.Name] = m.Value
	}
	doc["_aws"] = meta{Timestamp: now.UnixMilli(), CloudWatchMetrics: []directive{d}}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		doc["requestId"] = lc.AwsRequestID
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return
	}
	b = append(b, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	w.W.Write(b)
}

// Line is one EMF line read back: its namespace, dimension sets, metric
// names and values, and its other properties.
type Line struct {
	Namespace  string
	Dimensions [][]string
	Metrics    map[string]float64 // name → value
	Units      map[string]string  // name → unit
	Props      map[string]any
}

// Parse reads the EMF lines of r (a function's log output), skipping the
// lines that are not EMF, as CloudWatch Logs does.
func Parse(r io.Reader) ([]Line, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var out []Line
	for sc.Scan() {
		if l, ok := parseLine(sc.Bytes()); ok {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// ParseLine reads one line of log output as EMF; ok is false when it is
// not an EMF line.
func ParseLine(b []byte) (Line, bool) { return parseLine(b) }

func parseLine(b []byte) (Line, bool) {
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return Line{}, false
	}
	awsRaw, ok := doc["_aws"]
	if !ok {
		return Line{}, false
	}
	var m meta
	mb, _ := json.Marshal(awsRaw)
	if err := json.Unmarshal(mb, &m); err != nil || len(m.CloudWatchMetrics) == 0 {
		return Line{}, false
	}
	d := m.CloudWatchMetrics[0]
	l := Line{Namespace: d.Namespace, Dimensions: d.Dimensions, Metrics: map[string]float64{}, Units: map[string]string{}, Props: map[string]any{}}
	for _, x := range d.Metrics {
		v, _ := doc[x.Name].(float64)
		l.Metrics[x.Name] = v
		l.Units[x.Name] = x.Unit
	}
	for k, v := range doc {
		if _, isMetric := l.Metrics[k]; !isMetric && k != "_aws" {
			l.Props[k] = v
		}
	}
	return l, true
}
