package dedup

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/flowlake/flowlake/shared/finding"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// ErrConflict is returned by Commit when the finding's state changed since
// Decide read it: another publisher committed first.
var ErrConflict = errors.New("dedup state changed since Decide")

// EscalationFactor is how many times the notified count a repeat must
// reach to be notified again.
const EscalationFactor = 10

// Store keeps dedup state in a DynamoDB table whose partition key is the
// string attribute "id" and whose TTL attribute is "expires_at".
type Store struct {
	Client API
	Table  string
	// TTL is how long state outlives the end of the finding's window
	// (default 48h): late repeats of a window within it are still
	// recognised.
	TTL time.Duration
	// MinSeverity is the lowest severity notified ("" is
	// finding.DefaultNotifySeverity).
	MinSeverity finding.Severity
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// State is what the store remembers of a finding.
type State struct {
	ID               string
	Rule             string
	Severity         finding.Severity // the highest seen
	Count            int64            // the sum of the committed findings' counts
	FirstSeen        time.Time
	LastSeen         time.Time
	NotifiedSeverity finding.Severity // "" if never notified
	NotifiedCount    int64            // Count when last notified
	Rev              int64            // bumped by every Commit
	ExpiresAt        time.Time
}

// Decision is what Decide concluded, to be passed to Commit.
type Decision struct {
	Notify bool
	// Reason is one of "new", "severity-escalated", "count-escalated",
	// "repeat" and "below-notify-severity".
	Reason string
	// Prev is the state Decide read; nil when there was none (or it had
	// expired).
	Prev *State
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) minSeverity() finding.Severity {
	if s.MinSeverity == "" {
		return finding.DefaultNotifySeverity
	}
	return s.MinSeverity
}

// Decide reads the finding's state and says whether to notify it.
func (s *Store) Decide(ctx context.Context, f finding.Finding) (Decision, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: f.ID}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Decision{}, fmt.Errorf("dedup get %s/%s: %w", s.Table, f.ID, err)
	}
	var prev *State
	if len(out.Item) > 0 {
		st, err := decode(out.Item)
		if err != nil {
			return Decision{}, fmt.Errorf("dedup get %s/%s: %w", s.Table, f.ID, err)
		}
		if st.ExpiresAt.After(s.now()) {
			prev = &st
		}
	}
	return s.decide(f, prev), nil
}

func (s *Store) decide(f finding.Finding, prev *State) Decision {
	d := Decision{Prev: prev}
	notifiable := f.Severity.AtLeast(s.minSeverity())
	switch {
	case !notifiable:
		d.Reason = "below-notify-severity"
	case prev == nil || prev.NotifiedSeverity == "":
		d.Notify, d.Reason = true, "new"
	case f.Severity.Rank() > prev.NotifiedSeverity.Rank():
		d.Notify, d.Reason = true, "severity-escalated"
	case prev.NotifiedCount > 0 && prev.Count+f.Count >= EscalationFactor*prev.NotifiedCount:
		d.Notify, d.Reason = true, "count-escalated"
	default:
		d.Reason = "repeat"
	}
	return d
}

// Next returns the state that committing f with decision d writes.
func (s *Store) next(f finding.Finding, d Decision) State {
	ttl := s.TTL
	if ttl <= 0 {
		ttl = 48 * time.Hour
	}
	st := State{
		ID: f.ID, Rule: f.Rule, Severity: f.Severity, Count: f.Count,
		FirstSeen: f.FirstSeen, LastSeen: f.LastSeen, Rev: 1,
		ExpiresAt: f.WindowEnd.Add(ttl),
	}
	if p := d.Prev; p != nil {
		st.Count += p.Count
		st.Rev = p.Rev + 1
		st.NotifiedSeverity, st.NotifiedCount = p.NotifiedSeverity, p.NotifiedCount
		if p.Severity.Rank() > st.Severity.Rank() {
			st.Severity = p.Severity
		}
		if p.FirstSeen.Before(st.FirstSeen) {
			st.FirstSeen = p.FirstSeen
		}
		if p.LastSeen.After(st.LastSeen) {
			st.LastSeen = p.LastSeen
		}
		if p.ExpiresAt.After(st.ExpiresAt) {
			st.ExpiresAt = p.ExpiresAt
		}
	}
	if d.Notify {
		st.NotifiedSeverity, st.NotifiedCount = f.Severity, st.Count
	}
	return st
}

// Commit records f as Decide decided it (after publishing it, when d.Notify
// says so). It returns ErrConflict when the state changed since Decide.
func (s *Store) Commit(ctx context.Context, f finding.Finding, d Decision) error {
	st := s.next(f, d)
	in := &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: encode(st)}
	if d.Prev == nil {
		in.ConditionExpression = aws.String("attribute_not_exists(id) OR expires_at < :now")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":now": num(s.now().Unix())}
	} else {
		in.ConditionExpression = aws.String("rev = :rev")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":rev": num(d.Prev.Rev)}
	}
	if _, err := s.Client.PutItem(ctx, in); err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return fmt.Errorf("dedup put %s/%s: %w", s.Table, f.ID, ErrConflict)
		}
		return fmt.Errorf("dedup put %s/%s: %w", s.Table, f.ID, err)
	}
	return nil
}

// Get returns the live state of a finding ID, or false.
func (s *Store) Get(ctx context.Context, id string) (State, bool, error) {
	d, err := s.Decide(ctx, finding.Finding{ID: id, Severity: finding.Low})
	if err != nil || d.Prev == nil {
		return State{}, false, err
	}
	return *d.Prev, true, nil
}

// CreateTableAPI is the DynamoDB call EnsureTable makes.
type CreateTableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

// EnsureTable creates the table (on-demand, key "id") unless it exists, for
// local runs and tests; in AWS the infrastructure creates it, with TTL on
// expires_at.
func EnsureTable(ctx context.Context, c CreateTableAPI, table string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	return nil
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func encode(st State) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		"id": str(st.ID), "rule": str(st.Rule), "severity": str(string(st.Severity)),
		"count": num(st.Count), "first_seen": num(st.FirstSeen.Unix()), "last_seen": num(st.LastSeen.Unix()),
		"notified_count": num(st.NotifiedCount), "rev": num(st.Rev), "expires_at": num(st.ExpiresAt.Unix()),
	}
	if st.NotifiedSeverity != "" {
		item["notified_severity"] = str(string(st.NotifiedSeverity))
	}
	return item
}

func decode(item map[string]types.AttributeValue) (State, error) {
	var st State
	var err error
	s := func(k string) string {
		if v, ok := item[k].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	n := func(k string) int64 {
		v, ok := item[k].(*types.AttributeValueMemberN)
		if !ok {
			return 0
		}
		x, perr := strconv.ParseInt(v.Value, 10, 64)
		if perr != nil && err == nil {
			err = fmt.Errorf("attribute %s = %q: %w", k, v.Value, perr)
		}
		return x
	}
	st.ID, st.Rule = s("id"), s("rule")
	st.Severity, st.NotifiedSeverity = finding.Severity(s("severity")), finding.Severity(s("notified_severity"))
	st.Count, st.NotifiedCount, st.Rev = n("count"), n("notified_count"), n("rev")
	st.FirstSeen, st.LastSeen = time.Unix(n("first_seen"), 0).UTC(), time.Unix(n("last_seen"), 0).UTC()
	st.ExpiresAt = time.Unix(n("expires_at"), 0).UTC()
	return st, err
}
