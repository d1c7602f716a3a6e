package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/flowlake/flowlake/shared/detect"
	detectathena "github.com/flowlake/flowlake/shared/detect/athena"
	"github.com/flowlake/flowlake/shared/finding"
)

type (
	startFunc   func(context.Context, *athena.StartQueryExecutionInput, ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error)
	getFunc     func(context.Context, *athena.GetQueryExecutionInput, ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error)
	resultsFunc func(context.Context, *athena.GetQueryResultsInput, ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error)
)

// fakeAthena is the Athena client as three functions.
type fakeAthena struct {
	start   startFunc
	get     getFunc
	results resultsFunc
}

func (f fakeAthena) StartQueryExecution(ctx context.Context, in *athena.StartQueryExecutionInput, o ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error) {
	return f.start(ctx, in, o...)
}
func (f fakeAthena) GetQueryExecution(ctx context.Context, in *athena.GetQueryExecutionInput, o ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error) {
	return f.get(ctx, in, o...)
}
func (f fakeAthena) GetQueryResults(ctx context.Context, in *athena.GetQueryResultsInput, o ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error) {
	return f.results(ctx, in, o...)
}

func resultRows(cols []string, rows ...[]string) *types.ResultSet {
	rs := &types.ResultSet{ResultSetMetadata: &types.ResultSetMetadata{}}
	for _, c := range cols {
		rs.ResultSetMetadata.ColumnInfo = append(rs.ResultSetMetadata.ColumnInfo, types.ColumnInfo{Name: aws.String(c)})
	}
	for _, r := range rows {
		var row types.Row
		for _, v := range r {
			d := types.Datum{}
			if v != "NULL" {
				d.VarCharValue = aws.String(v)
			}
			row.Data = append(row.Data, d)
		}
		rs.Rows = append(rs.Rows, row)
	}
	return rs
}

var aggCols = []string{"rule", "account", "window_start", "key_src", "key_dst", "part_account", "part_region", "interface_id",
	"src", "dst", "protocol", "flows", "accepted", "bytes", "packets", "max_bytes", "ports", "hosts", "sources", "conns",
	"port_list", "first_seen", "last_seen"}

// TestHandlerPortScan runs one scheduled event against a fake Athena that
// finds a port scan: the handler queries the last complete hour in the
// workgroup, polls until the query succeeds, reads paginated results, and
// returns the same finding the batch engine gives for the same flows.
func TestHandlerPortScan(t *testing.T) {
	ws := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC).Unix()
	var queries []string
	polls := map[string]int{}
	fake := fakeAthena{
		start: func(_ context.Context, in *athena.StartQueryExecutionInput, _ ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error) {
			if aws.ToString(in.WorkGroup) != "flowlake" || aws.ToString(in.QueryExecutionContext.Database) != "flowlake_db" {
				t.Errorf("StartQueryExecution workgroup %q database %q", aws.ToString(in.WorkGroup), aws.ToString(in.QueryExecutionContext.Database))
			}
			queries = append(queries, aws.ToString(in.QueryString))
			return &athena.StartQueryExecutionOutput{QueryExecutionId: aws.String(fmt.Sprint("q", len(queries)-1))}, nil
		},
		get: func(_ context.Context, in *athena.GetQueryExecutionInput, _ ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error) {
			id := aws.ToString(in.QueryExecutionId)
			polls[id]++
			state := types.QueryExecutionStateRunning
			if polls[id] > 1 {
				state = types.QueryExecutionStateSucceeded
			}
			return &athena.GetQueryExecutionOutput{QueryExecution: &types.QueryExecution{Status: &types.QueryExecutionStatus{State: state}}}, nil
		},
		results: func(_ context.Context, in *athena.GetQueryResultsInput, _ ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error) {
			var i int
			fmt.Sscanf(aws.ToString(in.QueryExecutionId), "q%d", &i)
			q := queries[i]
			switch {
			case strings.HasPrefix(q, "SELECT 'port-scan'") && in.NextToken == nil:
				// page 1: the header only, then a token
				return &athena.GetQueryResultsOutput{ResultSet: resultRows(aggCols, aggCols), NextToken: aws.String("p2")}, nil
			case strings.HasPrefix(q, "SELECT 'port-scan'"):
				return &athena.GetQueryResultsOutput{ResultSet: resultRows(aggCols, []string{
					"port-scan", "111122223333", fmt.Sprint(ws), "45.155.205.10", "10.0.1.5", "111122223333", "us-east-1",
					"eni-0c0ffee0000000001", "45.155.205.10", "10.0.1.5", "6", "12", "0", "1200", "12", "100", "12", "1", "1", "1",
					"[1000, 1007, 1014, 1021, 1028, 1035, 1042, 1049, 1056, 1063, 1070, 1077]", fmt.Sprint(ws), fmt.Sprint(ws + 690),
				})}, nil
			case strings.HasPrefix(q, "SELECT interface_id"): // the sample flows
				cols := []string{"interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end", "action", "log_status", "flow_direction"}
				return &athena.GetQueryResultsOutput{ResultSet: resultRows(cols, cols,
					[]string{"eni-0c0ffee0000000001", "45.155.205.10", "10.0.1.5", "40000", "1000", "6", "1", "100", fmt.Sprint(ws), fmt.Sprint(ws + 30), "REJECT", "OK", "NULL"})}, nil
			}
			return &athena.GetQueryResultsOutput{ResultSet: resultRows(aggCols, aggCols)}, nil
		},
	}
	pub := &recorder{}
	h := handler(t, fake, pub, map[string]string{"ATHENA_WORKGROUP": "flowlake", "ATHENA_DATABASE": "flowlake_db", "DETECT_ACCOUNTS": "111122223333"})
	// The scheduled event as EventBridge sends it (events/).
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "eventbridge-scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	res, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC); !res.Since.Equal(want) || !res.Until.Equal(want.Add(time.Hour)) {
		t.Errorf("window %s to %s; want the hour from %s", res.Since, res.Until, want)
	}
	if len(queries) != len(detect.Rules)+1 {
		t.Errorf("%d queries; want one per rule and one for samples", len(queries))
	}
	if !strings.Contains(queries[0], `("day" = '2026-11-24' AND "hour" IN ('06'))`) || !strings.Contains(queries[0], "aws_account IN ('111122223333')") {
		t.Errorf("query does not prune to the hour and account:\n%s", queries[0])
	}
	if len(res.Findings) != 1 {
		t.Fatalf("%d findings; want 1", len(res.Findings))
	}
	f := res.Findings[0]
	want := detect.Rules[0].Sample() // the same flows through the batch engine
	if f.ID != want.ID || f.Severity != want.Severity || f.Count != want.Count || f.Description != want.Description {
		t.Errorf("finding %+v\nwant like %+v", f, want)
	}
	if err := f.Validate(); err != nil || len(f.Evidence.Samples) != 1 {
		t.Errorf("finding: %v, %d samples", err, len(f.Evidence.Samples))
	}
	if len(pub.calls) != 1 || len(pub.calls[0]) != 1 || pub.calls[0][0].ID != f.ID || !res.Published {
		t.Errorf("published %v (Published %v); want the one finding, once", pub.calls, res.Published)
	}

	// A publisher that fails fails the invocation, so that the schedule
	// retries it; the findings are still in the result.
	queries, polls = nil, map[string]int{}
	h.Publisher = &recorder{err: errors.New("sns: throttled")}
	res, err = h.Handle(context.Background(), events.EventBridgeEvent{Time: time.Date(2026, 11, 24, 7, 20, 0, 0, time.UTC)})
	if err == nil || !strings.Contains(err.Error(), "sns: throttled") || len(res.Findings) != 1 || res.Published {
		t.Errorf("Handle with a failing publisher = %+v, %v; want the error and the finding, unpublished", res, err)
	}
}

// recorder is a Publisher that keeps what it is given, and fails with err.
type recorder struct {
	calls [][]finding.Finding
	err   error
}

func (r *recorder) Publish(_ context.Context, fs []finding.Finding) error {
	r.calls = append(r.calls, fs)
	return r.err
}

// handler builds the handler from env, as functions/detect does, with the
// fake Athena client polled every millisecond.
func handler(t *testing.T, fake fakeAthena, pub Publisher, env map[string]string) *Handler {
	t.Helper()
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	h, err := cfg.Handler(fake, pub, nil, nil, "detect")
	if err != nil {
		t.Fatal(err)
	}
	h.Querier.(*detectathena.Querier).Poll = time.Millisecond
	return h
}

func TestHandlerQueryFailed(t *testing.T) {
	h := handler(t, fakeAthena{
		start: func(context.Context, *athena.StartQueryExecutionInput, ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error) {
			return &athena.StartQueryExecutionOutput{QueryExecutionId: aws.String("q")}, nil
		},
		get: func(context.Context, *athena.GetQueryExecutionInput, ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error) {
			return &athena.GetQueryExecutionOutput{QueryExecution: &types.QueryExecution{Status: &types.QueryExecutionStatus{
				State: types.QueryExecutionStateFailed, StateChangeReason: aws.String("SYNTAX_ERROR")}}}, nil
		},
	}, nil, map[string]string{"ATHENA_WORKGROUP": "w", "ATHENA_DATABASE": "d"})
	if _, err := h.Handle(context.Background(), events.EventBridgeEvent{Time: time.Now()}); !errors.Is(err, detectathena.ErrQueryFailed) {
		t.Errorf("Handle = %v; want ErrQueryFailed", err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"no workgroup":    {"ATHENA_DATABASE": "d"},
		"bad setting":     {"ATHENA_WORKGROUP": "w", "ATHENA_DATABASE": "d", "DETECT_SETTINGS": "port-scan.nope=1"},
		"bad lag":         {"ATHENA_WORKGROUP": "w", "ATHENA_DATABASE": "d", "DETECT_LAG": "soon"},
		"dedup, no topic": {"ATHENA_WORKGROUP": "w", "ATHENA_DATABASE": "d", "FLOWLAKE_DEDUP_TABLE": "t"},
	} {
		if _, err := ConfigFromEnv(func(k string) string { return env[k] }); err == nil {
			t.Errorf("%s: ConfigFromEnv succeeded", name)
		}
	}
	h := handler(t, fakeAthena{}, nil, map[string]string{"ATHENA_WORKGROUP": "w", "ATHENA_DATABASE": "d", "DETECT_SETTINGS": "port-scan.threshold=20;ssh-brute-force.window=5m"})
	if s, _ := h.Set.Settings("port-scan"); s.Threshold != 20 {
		t.Errorf("port-scan threshold = %d; want 20", s.Threshold)
	}
}
