package why

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/flowlake/flowlake/shared/detect"
)

// Verdict is the one word of an answer. The words are a stable
// vocabulary: scripts match them, so they never change meaning.
type Verdict string

// The verdicts.
const (
	// Connected: the destination's interface accepted the request and the
	// reply was accepted (with tcp-flags, the reply shows SYN-ACK).
	Connected Verdict = "connected"
	// Reset: the reply carries RST and no SYN-ACK: the port is closed or
	// the host's stack refused the connection.
	Reset Verdict = "reset"
	// BlockedInbound: the request was rejected entering the destination's
	// interface.
	BlockedInbound Verdict = "blocked-inbound"
	// BlockedOutbound: the request was rejected leaving the source's
	// interface.
	BlockedOutbound Verdict = "blocked-outbound"
	// ReplyBlocked: the request was accepted, the reply rejected: a
	// stateless network ACL on the ephemeral ports.
	ReplyBlocked Verdict = "reply-blocked"
	// Unanswered: the request was accepted at the destination and no reply
	// was recorded.
	Unanswered Verdict = "unanswered"
	// LostInPath: the request left the source's interface accepted and was
	// never recorded at the destination's, which is logged.
	LostInPath Verdict = "lost-in-path"
	// NeverSent: the source's interface is logged and shows no flow to the
	// destination.
	NeverSent Verdict = "never-sent"
	// BlockedByBPA: a record of the pair has reject-reason BPA (VPC Block
	// Public Access).
	BlockedByBPA Verdict = "blocked-by-bpa"
	// NotLogged: flow logs never record this traffic (the instance
	// metadata service, the Amazon DNS resolver, DHCP, ...).
	NotLogged Verdict = "not-logged"
	// LogGap: SKIPDATA on an interface that matters: the records that
	// would decide may be the ones skipped.
	LogGap Verdict = "log-gap"
	// NoCoverage: no interface of either address is in the lake in the
	// window.
	NoCoverage Verdict = "no-coverage"
)

// Verdicts lists every verdict.
var Verdicts = []Verdict{
	Connected, Reset, BlockedInbound, BlockedOutbound, ReplyBlocked, Unanswered,
	LostInPath, NeverSent, BlockedByBPA, NotLogged, LogGap, NoCoverage,
}

// The likely causes, where the flow records can narrow one.
const (
	LikelySecurityGroup = "security-group"
	LikelyNetworkACL    = "network-acl"
	LikelyEither        = "either"
)

// Question is what Ask answers.
type Question struct {
	Src, Dst netip.Addr
	// Port is the destination port of the request; 0 is any.
	Port int
	// Protocol is the IANA protocol number (6 TCP, 17 UDP, 1 ICMP, 58
	// ICMPv6); 0 is any.
	Protocol int
	// Since and Until bound the window (start times in [Since, Until)).
	// Both zero: the DefaultWindow of whole hours that ends with the hour
	// of the newest record that involves Src or Dst (within Lookback
	// before Now). One zero: DefaultWindow from the other.
	Since, Until time.Time
	// Now ends the search for the default window; zero is time.Now(). The
	// CLI gives a local lake's newest hour.
	Now time.Time
	// Newest, when known without a query (a local lake's newest hour
	// partition), is tried first as the end of the default window, which
	// then often takes one query in place of two.
	Newest time.Time
	// Lookback is how far before Now the default window is searched for;
	// zero is DefaultLookback, negative the whole lake (for a local lake,
	// where DuckDB reads every file anyway; never for Athena).
	Lookback time.Duration
	// VPCCIDRs are the VPCs' address blocks, for their reserved addresses
	// (the Amazon DNS resolver is the base + 2), which are never logged.
	VPCCIDRs []netip.Prefix
}

// Defaults of a Question.
const (
	DefaultWindow   = 24 * time.Hour
	DefaultLookback = 7 * 24 * time.Hour
)

// Answer is the verdict with what it rests on.
type Answer struct {
	Verdict Verdict `json:"verdict"`
	// Summary is one sentence.
	Summary string `json:"summary"`
	// Likely is security-group, network-acl or either, where the records
	// can narrow the cause; "" otherwise.
	Likely   string `json:"likely,omitempty"`
	Src      string `json:"src"`
	Dst      string `json:"dst"`
	Port     int    `json:"port,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	Window   Window `json:"window"`
	// Evidence is the pair's records, grouped by direction, interface,
	// action and protocol: requests first.
	Evidence []Evidence `json:"evidence"`
	// Interfaces are the network interfaces of Src and Dst seen in the
	// window.
	Interfaces []Interface `json:"interfaces"`
	Caveats    []string    `json:"caveats,omitempty"`
	// Next are the next checks, as aws CLI commands with the ids filled in.
	Next []string `json:"next,omitempty"`
}

// Window is the time range an answer read.
type Window struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Default is set when the window was chosen from the records.
	Default bool `json:"default,omitempty"`
}

// Evidence is one group of the pair's records.
type Evidence struct {
	// Direction is "request" (SRC to DST) or "reply" (DST to SRC).
	Direction string `json:"direction"`
	Interface string `json:"interface"`
	// Owner is whose interface logged it, "src" or "dst"; "" unknown.
	Owner  string `json:"owner,omitempty"`
	Subnet string `json:"subnet,omitempty"`
	// FlowDirection is how the interface logged it, ingress or egress.
	FlowDirection string `json:"flow_direction,omitempty"`
	Action        string `json:"action"`
	RejectReason  string `json:"reject_reason,omitempty"`
	Protocol      int    `json:"protocol"`
	Records       int64  `json:"records"`
	Packets       int64  `json:"packets"`
	// Bytes is nil when the records carry none (VPC Block Public Access's
	// records never do).
	Bytes *int64    `json:"bytes"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// TCPFlags are the flags seen (syn, syn-ack, fin, rst); nil when the
	// records carry none (no tcp-flags field, or not TCP).
	TCPFlags []string `json:"tcp_flags,omitempty"`

	flagged     bool  // some record had tcp-flags
	flags       int64 // the OR of its tcp-flags values
	syn, synAck bool  // some value had SYN without ACK, SYN with ACK
}

// Interface is a network interface that owns Src or Dst.
type Interface struct {
	ID string `json:"id"`
	// Role is "src" or "dst": the address it owns.
	Role           string   `json:"role"`
	Addr           string   `json:"addr"`
	Subnet         string   `json:"subnet,omitempty"`
	VPC            string   `json:"vpc,omitempty"`
	Instance       string   `json:"instance,omitempty"`
	SecurityGroups []string `json:"security_groups,omitempty"`
	Account        string   `json:"account,omitempty"`
	Region         string   `json:"region,omitempty"`
	// Record counts in the window, by log-status and action.
	OK       int64 `json:"ok"`
	NoData   int64 `json:"nodata"`
	SkipData int64 `json:"skipdata"`
	Accepted int64 `json:"accepted"`
	Rejected int64 `json:"rejected"`
	// SkipFirst and SkipLast bound its SKIPDATA records, when any.
	SkipFirst *time.Time `json:"skip_first,omitempty"`
	SkipLast  *time.Time `json:"skip_last,omitempty"`

	inferred bool // the role comes from the addresses alone
}

// ErrQuestion is wrapped by the error of a question Ask cannot ask.
var ErrQuestion = errors.New("bad question")

// Ask answers q from the lake behind db, in one to three queries: the
// newest record of the pair's addresses (for the default window, unless
// q.Newest spares it), the answer's (AnswerSQL), and for a blocked request
// what the other interfaces of its subnet did (NeighboursSQL).
func Ask(ctx context.Context, db detect.Querier, q Question) (*Answer, error) {
	if !q.Src.IsValid() || !q.Dst.IsValid() {
		return nil, fmt.Errorf("source and destination must be IP addresses: %w", ErrQuestion)
	}
	q.Src, q.Dst = q.Src.Unmap(), q.Dst.Unmap()
	if q.Src == q.Dst {
		return nil, fmt.Errorf("source and destination are both %s: %w", q.Src, ErrQuestion)
	}
	if q.Port < 0 || q.Port > 65535 || q.Protocol < 0 || q.Protocol > 255 {
		return nil, fmt.Errorf("port %d or protocol %d out of range: %w", q.Port, q.Protocol, ErrQuestion)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return nil, fmt.Errorf("window %s to %s is empty: %w", q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339), ErrQuestion)
	}
	w, rows, err := answerRows(ctx, db, q)
	if err != nil {
		return nil, err
	}
	a := &Answer{Src: q.Src.String(), Dst: q.Dst.String(), Port: q.Port, Protocol: ProtocolName(q.Protocol), Window: w}
	a.Interfaces, a.Evidence = parseAnswer(rows, q)
	f := assign(a)
	decide(a, f, q)
	if n := f.askNeighbours(a, q); n != nil {
		rows, err := db.Query(ctx, NeighboursSQL(q, w, *n))
		if err != nil {
			return nil, fmt.Errorf("why %s %s: %w", q.Src, q.Dst, err)
		}
		f.neighbours(a, *n, rows)
	}
	caveats(a, f, q)
	a.Next = next(a, f, q)
	return a, nil
}

// answerRows resolves q's window and runs AnswerSQL over it. The default
// window is the 24 whole hours that end with the hour of the newest record
// involving Src or Dst: found first (WindowSQL), or, when q.Newest is
// known, tried first as the 24 hours that end with it and kept when such a
// record starts in its last hour (one query in place of two).
func answerRows(ctx context.Context, db detect.Querier, q Question) (Window, []detect.Row, error) {
	run := func(w Window) ([]detect.Row, error) {
		rows, err := db.Query(ctx, AnswerSQL(q, w))
		if err != nil {
			return nil, fmt.Errorf("why %s %s: %w", q.Src, q.Dst, err)
		}
		return rows, nil
	}
	var w Window
	switch {
	case !q.Since.IsZero() && !q.Until.IsZero():
		w = Window{Since: q.Since.UTC(), Until: q.Until.UTC()}
	case !q.Since.IsZero():
		w = Window{Since: q.Since.UTC(), Until: q.Since.Add(DefaultWindow).UTC()}
	case !q.Until.IsZero():
		w = Window{Since: q.Until.Add(-DefaultWindow).UTC(), Until: q.Until.UTC()}
	case !q.Newest.IsZero():
		w = hoursTo(q.Newest)
		rows, err := run(w)
		if err != nil {
			return w, nil, err
		}
		last := lastInvolved(rows)
		switch {
		case !last.Before(w.Until.Add(-time.Hour)):
			return w, rows, nil
		case !last.IsZero():
			w = hoursTo(last)
			rows, err := run(w)
			return w, rows, err
		}
		// No record of the two in that day: search further back.
		fallthrough
	default:
		var err error
		if w, err = defaultWindow(ctx, db, q); err != nil {
			return w, nil, err
		}
	}
	rows, err := run(w)
	return w, rows, err
}

// hoursTo is the default window that ends with the hour of t.
func hoursTo(t time.Time) Window {
	until := t.UTC().Truncate(time.Hour).Add(time.Hour)
	return Window{Since: until.Add(-DefaultWindow), Until: until, Default: true}
}

// lastInvolved is the newest start of a record involving Src or Dst in
// AnswerSQL's rows, zero when none.
func lastInvolved(rows []detect.Row) time.Time {
	var last time.Time
	for _, r := range rows {
		if t := unix(r, "last_involved"); t.After(last) {
			last = t
		}
	}
	return last
}

// defaultWindow queries for the newest record of q's addresses within
// q.Lookback before q.Now and returns the window that ends with its hour.
func defaultWindow(ctx context.Context, db detect.Querier, q Question) (Window, error) {
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	lookback := q.Lookback
	if lookback <= 0 {
		lookback = DefaultLookback
	}
	from := now.Add(-lookback)
	if q.Lookback < 0 {
		from = time.Time{}
	}
	rows, err := db.Query(ctx, WindowSQL(q, from, now))
	if err != nil {
		return Window{}, fmt.Errorf("why %s %s: newest record: %w", q.Src, q.Dst, err)
	}
	last := now
	if len(rows) == 1 {
		for _, col := range []string{"last_start", "newest"} {
			if t, err := strconv.ParseInt(rows[0][col], 10, 64); err == nil {
				last = time.Unix(t, 0)
				break
			}
		}
	}
	return hoursTo(last), nil
}

// ProtocolName returns tcp, udp, icmp or ipv6-icmp for their numbers, the
// number otherwise, and "" for 0 (any).
func ProtocolName(p int) string {
	switch p {
	case 0:
		return ""
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "ipv6-icmp"
	}
	return strconv.Itoa(p)
}
