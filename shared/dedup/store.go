package dedup

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// ErrConflict is returned by Commit when the finding's state changed since
// Decide read it: another publisher committed first.
var ErrConflict = errors.New("dedup state changed since Decide")

// ReasonClaimed is the Reason of a Decision that would notify, but another
// publisher claimed the finding and is publishing it now.
const ReasonClaimed = "claimed"

// DefaultLease is how long a claim keeps other publishers from notifying
// a finding (Store.Lease): longer than a publish with its retries takes,
// short enough that a publisher that died holding one delays the
// notification by little (its trigger's retry publishes it anyway).
const DefaultLease = time.Minute

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
	// Lease is how long a claim lasts (default DefaultLease).
	Lease time.Duration
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
	// ClaimedUntil is when the claim of a publisher that is publishing
	// the finding ends (zero: none).
	ClaimedUntil time.Time
	// Sources are the newest MaxSources finding.Finding.Source values
	// committed: a finding of one of them is a redelivery.
	Sources []string
}

// MaxSources bounds State.Sources: a redelivery of a source older than
// the newest MaxSources of its finding is counted again (an item holds at
// most a few KiB of them).
const MaxSources = 32

// ReasonRedelivered is the Reason of a Decision on a finding whose Source
// was committed already: a retry or a redelivery of what raised it. It is
// neither notified nor counted, and its Commit writes nothing, unless the
// caller published it all the same (a Notifier whose commit lost to a
// concurrent delivery of the same source) and set Notify: that
// notification is recorded.
const ReasonRedelivered = "redelivered"

// Decision is what Decide concluded, to be passed to Commit.
type Decision struct {
	Notify bool
	// Reason is one of "new", "severity-escalated", "count-escalated",
	// "repeat", "below-notify-severity" and "claimed" (ReasonClaimed: it
	// would notify, but another publisher holds a claim and will).
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
	case f.Source != "" && prev != nil && slices.Contains(prev.Sources, f.Source):
		d.Reason = ReasonRedelivered
	case !notifiable:
		d.Reason = "below-notify-severity"
	case prev != nil && prev.ClaimedUntil.After(s.now()) && s.wouldNotify(f, prev):
		d.Reason = ReasonClaimed
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

// wouldNotify reports whether f is news against prev, claims aside.
func (s *Store) wouldNotify(f finding.Finding, prev *State) bool {
	p := *prev
	p.ClaimedUntil = time.Time{}
	return s.decide(f, &p).Notify
}

// Next returns the state that committing f with decision d writes.
func (s *Store) next(f finding.Finding, d Decision) State {
	ttl := s.TTL
	if ttl <= 0 {
		ttl = 48 * time.Hour
	}
	// A redelivery's count and source were committed with its source.
	redelivered := d.Reason == ReasonRedelivered
	count := f.Count
	if redelivered {
		count = 0
	}
	st := State{
		ID: f.ID, Rule: f.Rule, Severity: f.Severity, Count: count,
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
		st.Sources = slices.Clone(p.Sources)
	}
	if f.Source != "" && !redelivered {
		st.Sources = append(st.Sources, f.Source)
		if n := len(st.Sources); n > MaxSources {
			st.Sources = st.Sources[n-MaxSources:]
		}
	}
	if d.Notify {
		st.NotifiedSeverity, st.NotifiedCount = f.Severity, st.Count
	} else if d.Prev != nil {
		st.ClaimedUntil = d.Prev.ClaimedUntil // the claimant's to clear
	}
	return st
}

// Commit records f as Decide decided it (after publishing it, when d.Notify
// says so). It returns ErrConflict when the state changed since Decide.
func (s *Store) Commit(ctx context.Context, f finding.Finding, d Decision) error {
	if d.Reason == ReasonRedelivered && !d.Notify {
		return nil // counted when its source was first committed
	}
	return s.put(ctx, f, s.next(f, d), d.Prev)
}

// Claim takes the finding for this publisher before it publishes a
// decision to notify, so that publishers deciding at once do not all
// publish it: until Commit (or Release, or the lease's end) every other
// Decide that would notify it says ReasonClaimed instead, and their
// Commits add their counts but leave the notifying to the claimant. It
// returns the decision to publish and then Commit or Release, or
// ErrConflict when the state changed since Decide (decide again).
func (s *Store) Claim(ctx context.Context, f finding.Finding, d Decision) (Decision, error) {
	if !d.Notify {
		return d, fmt.Errorf("dedup claim %s/%s: the decision is not to notify (%s)", s.Table, f.ID, d.Reason)
	}
	lease := s.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	var st State
	if d.Prev != nil {
		st = *d.Prev
		st.Rev++
	} else {
		// What Commit of a repeat would add to: nothing counted or
		// notified yet.
		st = s.next(finding.Finding{ID: f.ID, Rule: f.Rule, Severity: f.Severity, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen, WindowEnd: f.WindowEnd}, Decision{})
	}
	st.ClaimedUntil = s.now().Add(lease)
	if err := s.put(ctx, f, st, d.Prev); err != nil {
		return d, err
	}
	return Decision{Notify: true, Reason: d.Reason, Prev: &st}, nil
}

// Release gives up the claim of d (a decision Claim returned) after its
// publish failed, so that the trigger's retry, or any other publisher,
// notifies the finding without waiting for the lease. The claim of a new
// finding is deleted: a failed publish leaves no state behind.
// ErrConflict means the state changed since (another publisher's count):
// the claim then ends with its lease.
func (s *Store) Release(ctx context.Context, f finding.Finding, d Decision) error {
	if d.Prev == nil {
		return nil
	}
	if d.Prev.Count == 0 && d.Prev.NotifiedSeverity == "" {
		_, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 aws.String(s.Table),
			Key:                       map[string]types.AttributeValue{"id": str(f.ID)},
			ConditionExpression:       aws.String("rev = :rev"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":rev": num(d.Prev.Rev)},
		})
		return s.writeErr(f, "delete", err)
	}
	st := *d.Prev
	st.Rev++
	st.ClaimedUntil = time.Time{}
	return s.put(ctx, f, st, d.Prev)
}

// put writes st if the item is still prev (absent or expired when prev is
// nil), else returns ErrConflict.
func (s *Store) put(ctx context.Context, f finding.Finding, st State, prev *State) error {
	in := &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: encode(st)}
	if prev == nil {
		in.ConditionExpression = aws.String("attribute_not_exists(id) OR expires_at < :now")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":now": num(s.now().Unix())}
	} else {
		in.ConditionExpression = aws.String("rev = :rev")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":rev": num(prev.Rev)}
	}
	_, err := s.Client.PutItem(ctx, in)
	return s.writeErr(f, "put", err)
}

// writeErr wraps the error of a conditional write: ErrConflict when its
// condition failed.
func (s *Store) writeErr(f finding.Finding, op string, err error) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("dedup %s %s/%s: %w", op, s.Table, f.ID, ErrConflict)
	}
	return fmt.Errorf("dedup %s %s/%s: %w", op, s.Table, f.ID, err)
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
	if !st.ClaimedUntil.IsZero() {
		item["claimed_until"] = num(st.ClaimedUntil.UnixMilli())
	}
	if len(st.Sources) > 0 {
		l := make([]types.AttributeValue, len(st.Sources))
		for i, src := range st.Sources {
			l[i] = str(src)
		}
		item["sources"] = &types.AttributeValueMemberL{Value: l}
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
	if l, ok := item["sources"].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if sv, ok := v.(*types.AttributeValueMemberS); ok {
				st.Sources = append(st.Sources, sv.Value)
			}
		}
	}
	if _, ok := item["claimed_until"]; ok {
		st.ClaimedUntil = time.UnixMilli(n("claimed_until")).UTC()
	}
	return st, err
}
