package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/finding"
)

// AthenaAPI is the part of the Athena client the handler uses.
type AthenaAPI interface {
	StartQueryExecution(ctx context.Context, in *athena.StartQueryExecutionInput, opts ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error)
	GetQueryExecution(ctx context.Context, in *athena.GetQueryExecutionInput, opts ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error)
	GetQueryResults(ctx context.Context, in *athena.GetQueryResultsInput, opts ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error)
}

// Handler runs the lake engine in Athena on each scheduled event.
type Handler struct {
	Athena         AthenaAPI
	Workgroup      string
	Database       string
	OutputLocation string // "" leaves it to the workgroup
	Set            *detect.Set
	Lookback       time.Duration // how many hours each run covers
	Lag            time.Duration // how far behind now the last window ends
	Samples        bool
	Poll           time.Duration // GetQueryExecution interval (default 1s)
	Now            func() time.Time
}

// Result is what a run returns (and logs).
type Result struct {
	Since    time.Time         `json:"since"`
	Until    time.Time         `json:"until"`
	Findings []finding.Finding `json:"findings"`
}

// Handle evaluates the rules over [until-Lookback, until), until being the
// schedule's time less Lag, truncated to the hour.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) (Result, error) {
	now := ev.Time
	if now.IsZero() {
		now = time.Now()
		if h.Now != nil {
			now = h.Now()
		}
	}
	until := now.Add(-h.Lag).UTC().Truncate(time.Hour)
	since := until.Add(-h.Lookback)
	l := detect.Lake{Set: h.Set, Querier: h, Dialect: detect.Athena, Samples: h.Samples}
	fs, err := l.Run(ctx, since, until)
	if err != nil {
		return Result{}, fmt.Errorf("detect %s to %s: %w", since.Format(time.RFC3339), until.Format(time.RFC3339), err)
	}
	for _, f := range fs {
		slog.InfoContext(ctx, "finding", "id", f.ID, "rule", f.Rule, "severity", f.Severity, "account", f.AccountID,
			"entity", f.Entity, "window", f.WindowStart, "count", f.Count)
	}
	slog.InfoContext(ctx, "detect done", "since", since, "until", until, "findings", len(fs))
	return Result{Since: since, Until: until, Findings: fs}, nil
}

// ErrQueryFailed is returned when Athena reports a query FAILED or
// CANCELLED.
var ErrQueryFailed = errors.New("athena query did not succeed")

// Query implements detect.Querier with Athena: start, poll, then read every
// page of results (the first row of the first page is the header).
func (h *Handler) Query(ctx context.Context, sql string) ([]detect.Row, error) {
	in := &athena.StartQueryExecutionInput{
		QueryString:           aws.String(sql),
		WorkGroup:             aws.String(h.Workgroup),
		QueryExecutionContext: &types.QueryExecutionContext{Database: aws.String(h.Database)},
	}
	if h.OutputLocation != "" {
		in.ResultConfiguration = &types.ResultConfiguration{OutputLocation: aws.String(h.OutputLocation)}
	}
	start, err := h.Athena.StartQueryExecution(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("athena start: %w", err)
	}
	id := aws.ToString(start.QueryExecutionId)
	poll := h.Poll
	if poll <= 0 {
		poll = time.Second
	}
	for {
		out, err := h.Athena.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			return nil, fmt.Errorf("athena query %s: %w", id, err)
		}
		st := out.QueryExecution.Status
		switch st.State {
		case types.QueryExecutionStateSucceeded:
			return h.results(ctx, id)
		case types.QueryExecutionStateFailed, types.QueryExecutionStateCancelled:
			return nil, fmt.Errorf("athena query %s %s: %s: %w", id, st.State, aws.ToString(st.StateChangeReason), ErrQueryFailed)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("athena query %s: %w", id, ctx.Err())
		case <-time.After(poll):
		}
	}
}

func (h *Handler) results(ctx context.Context, id string) ([]detect.Row, error) {
	var cols []string
	var rows []detect.Row
	var token *string
	for {
		out, err := h.Athena.GetQueryResults(ctx, &athena.GetQueryResultsInput{QueryExecutionId: aws.String(id), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("athena results %s: %w", id, err)
		}
		if cols == nil && out.ResultSet != nil && out.ResultSet.ResultSetMetadata != nil {
			for _, c := range out.ResultSet.ResultSetMetadata.ColumnInfo {
				cols = append(cols, aws.ToString(c.Name))
			}
		}
		data := out.ResultSet.Rows
		if token == nil && len(data) > 0 {
			data = data[1:] // the header row
		}
		for _, r := range data {
			row := detect.Row{}
			for i, d := range r.Data {
				if i < len(cols) && d.VarCharValue != nil {
					row[cols[i]] = *d.VarCharValue
				}
			}
			rows = append(rows, row)
		}
		if out.NextToken == nil {
			return rows, nil
		}
		token = out.NextToken
	}
}

// configFromEnv builds the handler (without its client) from the
// environment.
func configFromEnv(getenv func(string) string) (*Handler, error) {
	h := &Handler{
		Workgroup: getenv("ATHENA_WORKGROUP"), Database: getenv("ATHENA_DATABASE"),
		OutputLocation: getenv("ATHENA_OUTPUT"), Lookback: time.Hour, Lag: 15 * time.Minute, Samples: true,
	}
	if h.Workgroup == "" || h.Database == "" {
		return nil, errors.New("ATHENA_WORKGROUP and ATHENA_DATABASE are required")
	}
	cfg, err := detect.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	for name, d := range map[string]*time.Duration{"DETECT_LOOKBACK": &h.Lookback, "DETECT_LAG": &h.Lag} {
		if v := getenv(name); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil || x < 0 {
				return nil, fmt.Errorf("%s=%q: want a duration", name, v)
			}
			*d = x
		}
	}
	if v := getenv("DETECT_SAMPLES"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("DETECT_SAMPLES: %w", err)
		}
		h.Samples = b
	}
	if h.Set, err = detect.Compile(cfg); err != nil {
		return nil, err
	}
	return h, nil
}
