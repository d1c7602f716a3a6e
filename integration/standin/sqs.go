package standin

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SQS is the stand-in for Amazon SQS: an HTTP server speaking the SQS JSON
// protocol (AWS JSON 1.0, the one the current SDK's client speaks) for the
// calls flowlake and its tests make: CreateQueue, GetQueueUrl,
// GetQueueAttributes, SendMessage, ReceiveMessage, DeleteMessage,
// ChangeMessageVisibility, StartMessageMoveTask and ListMessageMoveTasks.
//
// It keeps SQS's delivery rules that the fault suite depends on: a
// received message is invisible for the visibility timeout and comes back
// unless deleted; a queue's RedrivePolicy moves a message to its
// dead-letter queue once it has been received maxReceiveCount times and
// comes up again; a message move task moves the messages of a dead-letter
// queue to a destination queue, or back to the queues they came from when
// none is given, and refuses a source that is no queue's dead-letter
// queue, as SQS does. It is not SQS: no long polling beyond returning
// what is there, no FIFO queues, no attributes beyond those listed, no
// rate limits on move tasks, in-memory only.
type SQS struct {
	URL     string // the endpoint, for BaseEndpoint or AWS_ENDPOINT_URL_SQS
	Account string
	Region  string

	mu     sync.Mutex
	queues map[string]*queue // by name
	tasks  []*moveTask
	seq    int
}

type queue struct {
	name, arn, url string
	visibility     time.Duration
	redrive        *redrivePolicy
	msgs           []*message
}

type redrivePolicy struct {
	DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	MaxReceiveCount     any    `json:"maxReceiveCount"` // SQS takes a string or a number
}

func (r *redrivePolicy) max() int {
	switch v := r.MaxReceiveCount.(type) {
	case float64:
		return int(v)
	case string:
		n, _ := strconv.Atoi(v)
		return n
	}
	return 0
}

type message struct {
	id, body, receipt string
	receives          int
	sent, firstRecv   time.Time
	visibleAt         time.Time
	dlqSource         string // the ARN of the queue it was moved from into a DLQ
}

type moveTask struct {
	handle, source, dest, status string
	moved, toMove                int64
	started                      time.Time
}

// StartSQS serves the stand-in on loopback; queue URLs are
// URL/<account>/<name>. It is closed when the test ends.
func StartSQS(t interface {
	Cleanup(func())
	Helper()
}, account, region string) *SQS {
	t.Helper()
	q := &SQS{Account: account, Region: region, queues: map[string]*queue{}}
	srv := httptest.NewServer(q)
	q.URL = srv.URL
	t.Cleanup(srv.Close)
	return q
}

// ARN returns the ARN of queue name.
func (q *SQS) ARN(name string) string {
	return "arn:aws:sqs:" + q.Region + ":" + q.Account + ":" + name
}

// Depth returns the messages of queue name: visible and in flight.
func (q *SQS) Depth(name string) (visible, inFlight int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	qu := q.queues[name]
	if qu == nil {
		return 0, 0
	}
	now := time.Now()
	for _, m := range qu.msgs {
		if m.visibleAt.After(now) {
			inFlight++
		} else {
			visible++
		}
	}
	return visible, inFlight
}

type sqsError struct {
	status int
	code   string // the SDK's error code, such as QueueDoesNotExist
	msg    string
}

func (q *SQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		q.fail(w, &sqsError{http.StatusBadRequest, "InvalidParameterValue", err.Error()})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		q.fail(w, &sqsError{http.StatusForbidden, "UnrecognizedClientException", "request not signed with SigV4"})
		return
	}
	handlers := map[string]func([]byte) (any, *sqsError){
		"CreateQueue": q.createQueue, "GetQueueUrl": q.getQueueURL, "GetQueueAttributes": q.getQueueAttributes,
		"SendMessage": q.sendMessage, "ReceiveMessage": q.receiveMessage, "DeleteMessage": q.deleteMessage,
		"ChangeMessageVisibility": q.changeVisibility, "StartMessageMoveTask": q.startMove, "ListMessageMoveTasks": q.listMoves,
	}
	h, ok := handlers[target]
	if !ok {
		q.fail(w, &sqsError{http.StatusBadRequest, "UnsupportedOperation", "the stand-in does not serve " + target})
		return
	}
	q.mu.Lock()
	out, serr := h(body)
	q.mu.Unlock()
	if serr != nil {
		q.fail(w, serr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	json.NewEncoder(w).Encode(out)
}

func (q *SQS) fail(w http.ResponseWriter, e *sqsError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Query-Error", e.code+";Sender")
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + e.code, "message": e.msg})
}

func decodeIn(body []byte, v any) *sqsError {
	if err := json.Unmarshal(body, v); err != nil {
		return &sqsError{http.StatusBadRequest, "InvalidParameterValue", err.Error()}
	}
	return nil
}

// byURL returns the queue of a queue URL.
func (q *SQS) byURL(u string) (*queue, *sqsError) {
	pu, err := url.Parse(u)
	if err == nil {
		if qu := q.queues[pathBase(pu.Path)]; qu != nil {
			return qu, nil
		}
	}
	return nil, &sqsError{http.StatusBadRequest, "QueueDoesNotExist", "The specified queue does not exist."}
}

func pathBase(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// byARN returns the queue of an ARN.
func (q *SQS) byARN(arn string) *queue {
	for _, qu := range q.queues {
		if qu.arn == arn {
			return qu
		}
	}
	return nil
}

func (q *SQS) createQueue(body []byte) (any, *sqsError) {
	var in struct {
		QueueName  string
		Attributes map[string]string
	}
	if err := decodeIn(body, &in); err != nil {
		return nil, err
	}
	if qu := q.queues[in.QueueName]; qu != nil {
		return map[string]string{"QueueUrl": qu.url}, nil
	}
	qu := &queue{name: in.QueueName, arn: q.ARN(in.QueueName), url: q.URL + "/" + q.Account + "/" + in.QueueName, visibility: 30 * time.Second}
	if v, ok := in.Attributes["VisibilityTimeout"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, &sqsError{http.StatusBadRequest, "InvalidAttributeValue", "VisibilityTimeout: " + v}
		}
		qu.visibility = time.Duration(n) * time.Second
	}
	if v, ok := in.Attributes["RedrivePolicy"]; ok {
		qu.redrive = &redrivePolicy{}
		if err := json.Unmarshal([]byte(v), qu.redrive); err != nil || qu.redrive.max() < 1 {
			return nil, &sqsError{http.StatusBadRequest, "InvalidAttributeValue", "RedrivePolicy: " + v}
		}
	}
	q.queues[in.QueueName] = qu
	return map[string]string{"QueueUrl": qu.url}, nil
}

func (q *SQS) getQueueURL(body []byte) (any, *sqsError) {
	var in struct{ QueueName string }
	if err := decodeIn(body, &in); err != nil {
		return nil, err
	}
	qu := q.queues[in.QueueName]
	if qu == nil {
		return nil, &sqsError{http.StatusBadRequest, "QueueDoesNotExist", "The specified queue does not exist."}
	}
	return map[string]string{"QueueUrl": qu.url}, nil
}

func (q *SQS) getQueueAttributes(body []byte) (any, *sqsError) {
	var in struct{ QueueUrl string }
	if err := decodeIn(body, &in); err != nil {
		return nil, err
	}
	qu, serr := q.byURL(in.QueueUrl)
	if serr != nil {
		return nil, serr
	}
	q.expire(qu)
	now := time.Now()
	visible, inFlight := 0, 0
	for _, m := range qu.msgs {
		if m.visibleAt.After(now) {
			inFlight++
		} else {
			visible++
		}
	}
	attrs := map[string]string{
		"QueueArn": qu.arn, "VisibilityTimeout": strconv.Itoa(int(qu.visibility / time.Second)),
		"ApproximateNumberOfMessages": strconv.Itoa(visible), "ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inFlight),
	}
	if qu.redrive != nil {
		b, _ := json.Marshal(map[string]any{"deadLetterTargetArn": qu.redrive.DeadLetterTargetArn, "maxReceiveCount": qu.redrive.max()})
		attrs["RedrivePolicy"] = string(b)
	}
	return map[string]any{"Attributes": attrs}, nil
}

func md5Hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func (q *SQS) newID() string {
	q.seq++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", q.seq)
}

func (q *SQS) sendMessage(body []byte) (any, *sqsError) {
	var in struct{ QueueUrl, MessageBody string }
	if err := decodeIn(body, &in); err != nil {
		return nil, err
	}
	qu, serr := q.byURL(in.QueueUrl)
	if serr != nil {
		return nil, serr
	}
	m := &message{id: q.newID(), body: in.MessageBody, sent: time.Now()}
	qu.msgs = append(qu.msgs, m)
	return map[string]string{"MessageId": m.id, "MD5OfMessageBody": md5Hex(m.body)}, nil
}

// expire moves the messages of qu that have been received maxReceiveCount
// times and are visible again to its dead-letter queue, as SQS does when
// they come up for their next receive.
func (q *SQS) expire(qu *queue) {
	if qu.redrive == nil {
		return
	}
	dlq := q.byARN(qu.redrive.DeadLetterTargetArn)
	if dlq == nil {
		return
	}
	now := time.Now()
	keep := qu.msgs[:0]
	for _, m := range qu.msgs {
		if m.receives >= qu.redrive.max() && !m.visibleAt.After(now) {
			dlq.msgs = append(dlq.msgs, &message{id: m.id, body: m.body, sent: m.sent, dlqSource: qu.arn})
			continue
		}
		keep = append(keep, m)
	}
	clear(qu.msgs[len(keep):])
	qu.msgs = keep
}

func (q *SQS) receiveMessage(body []byte) (any, *sqsError) {
	var in struct {
		QueueUrl            string
		MaxNumberOfMessages int
		VisibilityTimeout   *int
	}
	if err := decodeIn(body, &in); err != nil {
		return nil, err
	}
	qu, serr := q.byURL(in.QueueUrl)
	if serr != nil {
		return nil, serr
	}
	q.expire(qu)
	vis := qu.visibility
	if in.VisibilityTimeout != nil {
		vis = time.Duration(*in.VisibilityTimeout) * time.Second
	}
	limit := min(max(in.MaxNumberOfMessages, 1), 10)
	now := time.Now()
	out := []map[string]any{}
	for _, m := range qu.msgs {
		if len(out) == limit {
			break
		}
		if m.visibleAt.After(now) {
			continue
		}
		m.receives++
		if m.firstRecv.IsZero() {
			m.firstRecv = now
		}
		m.visibleAt = now.Add(vis)
		m.receipt = fmt.Sprintf("%s#%d", m.id, m.receives)
		attrs := map[string]string{
			"ApproximateReceiveCount": strconv.Itoa(m.receives), "SentTimestamp": strconv.FormatInt(m.sent.UnixMilli(), 10),
			"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstRecv.UnixMilli(), 10), "SenderId": q.Account,
		}
		if m.dlqSource != "" {
			attrs["DeadLetterQueueSourceArn"] = m.dlqSource
		}
		out = append(out, map[string]any{"MessageId": m.id, "ReceiptHandle": m.receipt, "Body": m.body, "MD5OfBody": md5Hex(m.body), "Attributes": attrs})
	}
	return map[string]any{"Messages": out}, nil
}

// byReceipt returns the index of the message of a receipt handle: the
// latest receive's only.
func byReceipt(qu *queue, receipt string) int {
	return slices.IndexFunc(qu.msgs, func(m *message) bool { return m.receipt == receipt })
}

func (q *SQS) deleteMessage(body []byte) (any, *sqsError) {
	var in struct{ QueueUrl, ReceiptHandle string }
	if err := decodeIn(body, &in); err != nil {
		return nil, err
	}
	qu, serr := q.byURL(in.QueueUrl)
	if serr != nil {
		return nil, serr
	}
	if i := byReceipt(qu, in.ReceiptHandle); i >= 0 {
		qu.msgs = slices.Delete(qu.msgs, i, i+1)
	}
	return map[string]any{}, nil // SQS ignores a stale handle too
}

func (q *SQS) changeVisibility(body []byte) (any, *sqsError) {
	var in struct {
		QueueUrl, ReceiptHandle string
		VisibilityTimeout       int
	}
	if err := decodeIn(body, &in); err != nil {
		return nil, err
	}
	qu, serr := q.byURL(in.QueueUrl)
	if serr != nil {
		return nil, serr
	}
	i := byReceipt(qu, in.ReceiptHandle)
	if i < 0 {
		return nil, &sqsError{http.StatusBadRequest, "ReceiptHandleIsInvalid", "The receipt handle is not valid."}
	}
	qu.msgs[i].visibleAt = time.Now().Add(time.Duration(in.VisibilityTimeout) * time.Second)
	return map[string]any{}, nil
}

// isDLQ reports whether qu is the dead-letter queue of some queue.
func (q *SQS) isDLQ(qu *queue) bool {
	for _, o := range q.queues {
		if o.redrive != nil && o.redrive.DeadLetterTargetArn == qu.arn {
			return true
		}
	}
	return false
}

// startMove runs a message move task at once: the stand-in has no rate
// limit to honour, so the task is COMPLETED when ListMessageMoveTasks
// first reports it (RUNNING is never seen).
func (q *SQS) startMove(body []byte) (any, *sqsError) {
	var in struct {
		SourceArn, DestinationArn string
	}
	if err := decodeIn(body, &in); err != nil {
		return nil, err
	}
	src := q.byARN(in.SourceArn)
	if src == nil {
		return nil, &sqsError{http.StatusBadRequest, "ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist."}
	}
	if !q.isDLQ(src) {
		return nil, &sqsError{http.StatusBadRequest, "InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue."}
	}
	var dest *queue
	if in.DestinationArn != "" {
		if dest = q.byARN(in.DestinationArn); dest == nil {
			return nil, &sqsError{http.StatusBadRequest, "ResourceNotFoundException", "The resource that you specified for the DestinationArn parameter doesn't exist."}
		}
	}
	now := time.Now()
	task := &moveTask{handle: fmt.Sprintf("task-%d", len(q.tasks)+1), source: src.arn, dest: in.DestinationArn, status: "COMPLETED", started: now}
	keep := src.msgs[:0]
	for _, m := range src.msgs {
		if m.visibleAt.After(now) { // in flight: SQS moves what is visible
			keep = append(keep, m)
			continue
		}
		to := dest
		if to == nil {
			to = q.byARN(m.dlqSource)
		}
		if to == nil {
			keep = append(keep, m)
			continue
		}
		to.msgs = append(to.msgs, &message{id: m.id, body: m.body, sent: m.sent})
		task.moved++
	}
	clear(src.msgs[len(keep):])
	src.msgs = keep
	task.toMove = task.moved
	q.tasks = append(q.tasks, task)
	return map[string]string{"TaskHandle": task.handle}, nil
}

func (q *SQS) listMoves(body []byte) (any, *sqsError) {
	var in struct{ SourceArn string }
	if err := decodeIn(body, &in); err != nil {
		return nil, err
	}
	if q.byARN(in.SourceArn) == nil {
		return nil, &sqsError{http.StatusBadRequest, "ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist."}
	}
	out := []map[string]any{}
	for i := len(q.tasks) - 1; i >= 0; i-- { // newest first, as SQS lists them
		t := q.tasks[i]
		if t.source != in.SourceArn {
			continue
		}
		r := map[string]any{"TaskHandle": t.handle, "Status": t.status, "SourceArn": t.source,
			"ApproximateNumberOfMessagesMoved": t.moved, "ApproximateNumberOfMessagesToMove": t.toMove, "StartedTimestamp": t.started.UnixMilli()}
		if t.dest != "" {
			r["DestinationArn"] = t.dest
		}
		out = append(out, r)
	}
	return map[string]any{"Results": out}, nil
}
