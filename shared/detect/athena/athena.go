package athena

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/flowlake/flowlake/shared/detect"
)

// API is the part of the Athena client the Querier uses. *athena.Client
// implements it.
type API interface {
	StartQueryExecution(ctx context.Context, in *athena.StartQueryExecutionInput, opts ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error)
	GetQueryExecution(ctx context.Context, in *athena.GetQueryExecutionInput, opts ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error)
	GetQueryResults(ctx context.Context, in *athena.GetQueryResultsInput, opts ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error)
}

// Querier runs detect's SQL in Athena: it starts the query in Workgroup
// with Database as the default, polls until it ends, and reads every page
// of results. It implements detect.Querier.
type Querier struct {
	Client         API
	Workgroup      string
	Database       string
	OutputLocation string        // "": the workgroup's
	Poll           time.Duration // GetQueryExecution interval (default 1 s)

	scanned atomic.Int64
}

// Scanned returns the bytes Athena reports scanned by the queries this
// Querier ran (each execution's Statistics.DataScannedInBytes), the cost
// of detection.
func (q *Querier) Scanned() int64 { return q.scanned.Load() }

// ErrQueryFailed is wrapped by the error of a query Athena reports FAILED
// or CANCELLED.
var ErrQueryFailed = errors.New("athena query did not succeed")

// Query implements detect.Querier. The first row of the first page of
// results is the header, as Athena returns it for a SELECT.
func (q *Querier) Query(ctx context.Context, sql string) ([]detect.Row, error) {
	in := &athena.StartQueryExecutionInput{
		QueryString:           aws.String(sql),
		WorkGroup:             aws.String(q.Workgroup),
		QueryExecutionContext: &types.QueryExecutionContext{Database: aws.String(q.Database)},
	}
	if q.OutputLocation != "" {
		in.ResultConfiguration = &types.ResultConfiguration{OutputLocation: aws.String(q.OutputLocation)}
	}
	start, err := q.Client.StartQueryExecution(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("athena start: %w", err)
	}
	id := aws.ToString(start.QueryExecutionId)
	poll := q.Poll
	if poll <= 0 {
		poll = time.Second
	}
	for {
		out, err := q.Client.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			return nil, fmt.Errorf("athena query %s: %w", id, err)
		}
		if out.QueryExecution == nil || out.QueryExecution.Status == nil {
			return nil, fmt.Errorf("athena query %s: no status", id)
		}
		st := out.QueryExecution.Status
		switch st.State {
		case types.QueryExecutionStateSucceeded:
			if st := out.QueryExecution.Statistics; st != nil && st.DataScannedInBytes != nil {
				q.scanned.Add(*st.DataScannedInBytes)
			}
			return q.results(ctx, id)
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

func (q *Querier) results(ctx context.Context, id string) ([]detect.Row, error) {
	var cols []string
	var rows []detect.Row
	var token *string
	for {
		out, err := q.Client.GetQueryResults(ctx, &athena.GetQueryResultsInput{QueryExecutionId: aws.String(id), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("athena results %s: %w", id, err)
		}
		if out.ResultSet == nil {
			return nil, fmt.Errorf("athena results %s: no result set", id)
		}
		if cols == nil && out.ResultSet.ResultSetMetadata != nil {
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
