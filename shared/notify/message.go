package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify/email"
)

// MaxMessageBytes is the most SNS takes in one message (256 KiB, message
// attributes and subject included), and in one PublishBatch call.
const MaxMessageBytes = 256 * 1024

// ErrTooLarge is the reason for a finding whose message exceeds
// MaxMessageBytes even without its sample flows.
var ErrTooLarge = errors.New("message too large for SNS")

// Message is what the topic gets for one finding.
type Message struct {
	// Body is the JSON object SNS sends with MessageStructure=json: the
	// finding JSON under "default", "sqs" and "lambda", and the plain
	// text of email.Render under "email". Other protocols (http, https,
	// email-json) get "default", as SNS does for a protocol without its
	// own key; each copy counts against the size limit.
	Body string
	// Subject is the email subject (email.Subject).
	Subject string
	// Attributes are "severity", "rule" and "account_id" (String), and
	// "severity_rank" (Number, 1 low to 4 critical), for subscription
	// filter policies.
	Attributes map[string]types.MessageAttributeValue
	// Trimmed says the sample flows were left out to fit the size limit.
	Trimmed bool
}

// Size is what the message counts against MaxMessageBytes.
func (m *Message) Size() int {
	n := len(m.Body) + len(m.Subject)
	for k, v := range m.Attributes {
		n += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue))
	}
	return n
}

// BuildMessage returns the SNS message of f. When it would exceed
// MaxMessageBytes it leaves the sample flows out of both the JSON and the
// email (and sets Trimmed); if it is still too large it returns
// ErrTooLarge.
func BuildMessage(f finding.Finding) (Message, error) {
	m, err := buildMessage(f)
	if err != nil || m.Size() <= MaxMessageBytes {
		return m, err
	}
	f.Evidence.Samples = nil
	m, err = buildMessage(f)
	if err != nil {
		return m, err
	}
	m.Trimmed = true
	if m.Size() > MaxMessageBytes {
		return m, fmt.Errorf("finding %s: %d bytes: %w", f.ID, m.Size(), ErrTooLarge)
	}
	return m, nil
}

func buildMessage(f finding.Finding) (Message, error) {
	js, err := f.Marshal()
	if err != nil {
		return Message{}, fmt.Errorf("encode finding %s: %w", f.ID, err)
	}
	doc := string(js)
	body, err := json.Marshal(map[string]string{
		"default": doc,
		"sqs":     doc,
		"lambda":  doc,
		"email":   email.Render(&f),
	})
	if err != nil {
		return Message{}, fmt.Errorf("encode message of %s: %w", f.ID, err)
	}
	return Message{Body: string(body), Subject: email.Subject(&f), Attributes: Attributes(&f)}, nil
}

// Attributes returns the message attributes of f.
func Attributes(f *finding.Finding) map[string]types.MessageAttributeValue {
	str := func(v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	attrs := map[string]types.MessageAttributeValue{}
	// SNS rejects an attribute with an empty value.
	for k, v := range map[string]string{"severity": string(f.Severity), "rule": f.Rule, "account_id": f.AccountID} {
		if v != "" {
			attrs[k] = str(v)
		}
	}
	if r := f.Severity.Rank(); r > 0 {
		attrs["severity_rank"] = types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(r))}
	}
	return attrs
}
