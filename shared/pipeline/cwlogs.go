package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
)

// CloudWatch Logs subscription message types.
const (
	MessageData    = "DATA_MESSAGE"
	MessageControl = "CONTROL_MESSAGE"
)

// CloudWatchHandler ingests CloudWatch Logs subscription batches of a
// flow-log log group. Each log event's message is one record with no
// header, in Format: the format the flow log was created with.
type CloudWatchHandler struct {
	Pipeline *Pipeline
	Format   *flowlog.Format // nil: the default (v2) format
	// Region is the partition region of records that carry none: the
	// function's own (AWS_REGION), since a log group delivers to a
	// subscription in its own region. "": the record's, else "unknown".
	Region string
}

// CloudWatchResult is what a CloudWatch Logs invocation did.
type CloudWatchResult struct {
	MessageType string   `json:"messageType"`
	LogGroup    string   `json:"logGroup,omitempty"`
	LogStream   string   `json:"logStream,omitempty"`
	Events      int      `json:"events"`
	Records     int64    `json:"records"`
	Rejected    int64    `json:"rejected"`
	Keys        []string `json:"keys,omitempty"`
	RejectsKey  string   `json:"rejectsKey,omitempty"`
	Ignored     string   `json:"ignored,omitempty"` // why nothing was written
	Result      *Result  `json:"-"`
}

// Handle decodes the subscription payload (base64, gzip, JSON), ignores a
// CONTROL_MESSAGE, and writes the batch's records to the lake. The objects
// are named after the batch's log group, stream and first and last event
// ids, so CloudWatch's retries (for up to 24 h) overwrite them. An error
// makes CloudWatch Logs retry the batch.
func (h *CloudWatchHandler) Handle(ctx context.Context, ev events.CloudwatchLogsEvent) (CloudWatchResult, error) {
	p := h.Pipeline
	data, err := decodeSubscription(ev.AWSLogs.Data)
	if err != nil {
		return CloudWatchResult{}, fmt.Errorf("decode awslogs payload: %w", err)
	}
	out := CloudWatchResult{MessageType: data.MessageType, LogGroup: data.LogGroup, LogStream: data.LogStream, Events: len(data.LogEvents)}
	switch {
	case data.MessageType == MessageControl:
		out.Ignored = "control message"
		p.log().InfoContext(ctx, "control message acknowledged", "logGroup", data.LogGroup, "logStream", data.LogStream)
		return out, nil
	case data.MessageType != MessageData:
		out.Ignored = "unknown message type " + data.MessageType
		p.log().WarnContext(ctx, "unknown message type ignored", "messageType", data.MessageType, "logGroup", data.LogGroup)
		return out, nil
	case len(data.LogEvents) == 0:
		out.Ignored = "no log events"
		return out, nil
	}
	evs := data.LogEvents
	src := lake.CloudWatchSource(data.Owner, data.LogGroup, data.LogStream, evs[0].ID, evs[len(evs)-1].ID)
	src.Time = time.UnixMilli(evs[0].Timestamp).UTC()
	src.FallbackRegion = h.Region
	fm := h.Format
	if fm == nil {
		fm = flowlog.MustParseFormat(flowlog.DefaultFormat)
	}
	er := newEventReader(evs, fm)
	res, err := p.Process(ctx, src, er)
	res.InputBytes, res.TextBytes = er.bytes, er.bytes
	if err != nil {
		return out, fmt.Errorf("ingest %s: %w", src.ID, err)
	}
	p.report(ctx, res, "logGroup", data.LogGroup, "logStream", data.LogStream, "events", len(evs))
	out.Records, out.Rejected, out.Keys, out.RejectsKey, out.Result = res.Records, res.Rejected, res.Keys, res.RejectsKey, &res
	return out, nil
}

// ErrHeaderMessage is the reason a CloudWatch Logs message that is a
// header line (bare field names) is rejected: there, every message must be
// a record.
var ErrHeaderMessage = errors.New("a header line, not a record")

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// eventReader reads the records of a batch of log events: one record per
// message, in a fixed format. A rejected message's line number is its
// 1-based position in the batch.
type eventReader struct {
	evs   []events.CloudwatchLogsLogEvent
	fm    *flowlog.Format
	i     int
	sr    strings.Reader
	rd    *flowlog.Reader
	bytes int64
}

func newEventReader(evs []events.CloudwatchLogsLogEvent, fm *flowlog.Format) *eventReader {
	er := &eventReader{evs: evs, fm: fm}
	er.rd = flowlog.NewReader(&er.sr)
	return er
}

// Format returns the format of every record: the lake uses it to know the
// columns.
func (er *eventReader) Format() *flowlog.Format { return er.fm }

// ReadInto implements lake.RecordReader.
func (er *eventReader) ReadInto(rec *flowlog.Record) error {
	for er.i < len(er.evs) {
		msg := er.evs[er.i].Message
		er.i++
		er.bytes += int64(len(msg))
		// One message, one record: a message that looks like a header
		// line must not change the format of the next ones.
		er.sr.Reset(msg)
		er.rd.Reset(&er.sr)
		er.rd.SetFormat(er.fm)
		err := er.rd.ReadInto(rec)
		if err == io.EOF {
			if strings.TrimSpace(msg) == "" {
				continue
			}
			// A header line: never a record in CloudWatch Logs.
			return &flowlog.ParseError{Line: er.i, Err: ErrHeaderMessage, Value: truncate(msg, 64)}
		}
		if pe, ok := err.(*flowlog.ParseError); ok {
			pe.Line = er.i
			return pe
		}
		return err
	}
	return io.EOF
}
