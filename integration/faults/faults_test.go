package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// TestFaults runs each fault against the deployed loop (see the package
// doc), then the load tests, and logs the closing table.
func TestFaults(t *testing.T) {
	t0 := time.Now()
	s := start(t)
	t.Run("Damaged", func(t *testing.T) { s.damaged(t) })
	big := s.bigObject(t)
	t.Run("S3StoppedDuringRawRead", func(t *testing.T) { s.stoppedDuringRead(t, big) })
	t.Run("S3StoppedDuringLakeWrite", func(t *testing.T) { s.stoppedDuringWrite(t, big) })
	t.Run("IngestKilledMidObject", func(t *testing.T) { s.killedMidObject(t, big) })
	var published []delivery
	t.Run("SNSStoppedDuringPublish", func(t *testing.T) { published = s.snsStopped(t) })
	t.Run("SNSStoppedPastTheRetries", func(t *testing.T) { s.snsStoppedPastRetries(t) })
	t.Run("SlackWebhook500Then429", func(t *testing.T) { s.slackFaults(t, published) })
	t.Run("DynamoDBStoppedBeforePublish", func(t *testing.T) { s.dedupStoppedBefore(t) })
	t.Run("DynamoDBStoppedBeforeCommit", func(t *testing.T) { s.dedupStoppedBeforeCommit(t) })
	// Over the fault cases: every finding delivered once.
	faulted := s.sub.all()
	perID := map[string]int{}
	for _, d := range faulted {
		perID[d.Finding.ID]++
	}
	for id, n := range perID {
		if n != 1 {
			t.Errorf("finding %s delivered %d times over the fault cases; want 1", id, n)
		}
	}
	t.Logf("the fault cases delivered %d findings, each once", len(perID))

	t.Run("Load", func(t *testing.T) { s.load(t) })
	loadIDs := map[string]int{}
	for _, d := range s.sub.all()[len(faulted):] {
		loadIDs[d.Finding.ID]++
	}
	t.Logf("the load delivered %d findings of %d IDs (not asserted: a count ten times the notified one is notified again, and concurrent publishers of a new finding can both publish it)",
		len(s.sub.all())-len(faulted), len(loadIDs))
	t.Logf("fault suite in %s\n%s", time.Since(t0).Round(time.Second), s.table())
}

// damaged: a gzip object cut in half (the issue's: 50,000 records), one
// with a bad checksum, one with a bad header, and an intact one, each
// delivered twice. The damaged ones keep their records before the damage
// and succeed; nothing is retried, nothing doubled.
func (s *suite) damaged(t *testing.T) {
	const acct = "100000000001"
	cfg := func(seed uint64, n int) flowgen.Config {
		return flowgen.Config{Seed: seed, Records: n, Start: s.hour, Span: time.Hour, Accounts: 1, ENIs: 4}
	}
	var objs []*object
	var kept [][]byte
	for i, tc := range []struct {
		name    string
		records int
		damage  func(gz []byte) []byte
	}{
		{"cut-in-half", 50000, func(gz []byte) []byte { return gz[:len(gz)/2] }},
		{"bad-checksum", 20000, func(gz []byte) []byte { b := bytes.Clone(gz); b[len(b)-6] ^= 0xff; return b }},
		{"bad-header", 20000, func(gz []byte) []byte { b := bytes.Clone(gz); b[2] = 9; return b }},
		{"intact", 10000, func(gz []byte) []byte { return gz }},
	} {
		text, lines := generate(t, cfg(uint64(100+i), tc.records), "benign")
		o := &object{key: key(acct, s.hour, tc.name), text: text, gz: tc.damage(gzipped(t, text))}
		o.lines = wholeLines(t, o.gz)
		if tc.name == "bad-checksum" && !bytes.Equal(o.lines, lines) {
			t.Fatal("a bad checksum in the trailer: the inflater should give the whole text before it")
		}
		objs = append(objs, o)
		kept = append(kept, o.lines)
	}
	cut := objs[0]
	logsBefore := len(s.ingestFn().Logs.String())
	s.deliver(t, objs...)
	d := s.drain(t, time.Minute, nil)
	for _, o := range objs { // SQS delivers at least once: again
		s.notify(t, o.key, o.etag, len(o.gz))
	}
	d2 := s.drain(t, time.Minute, nil)
	if d.failed+d2.failed != 0 {
		t.Errorf("%d and %d messages failed; want none: damage is not retried (%v)", d.failed, d2.failed, append(d.errors, d2.errors...))
	}
	want := writeLines(t, "damaged.lines", bytes.Join(kept, nil))
	lost, doubled, got := s.rows(t, acct, want)
	logs := s.ingestFn().Logs.String()[logsBefore:]
	n, damaged := emfCount(logs, pipeline.MetricDamagedObjects)
	if damaged != 6 || n != 8 {
		t.Errorf("DamagedObjects: %v over %d EMF lines; want 6 (3 damaged objects, twice) over 8", damaged, n)
	}
	damageLines := lineWith(logs, "object damaged")
	for _, o := range objs[:3] {
		if n := len(lineWith(strings.Join(damageLines, "\n"), o.key)); n != 2 {
			t.Errorf("%d damage log lines for %s; want 2 (one per delivery)", n, o.key)
		}
	}
	samples := 0
	for _, k := range s.listKeys(t, lakeBucket, pipeline.DefaultRejectsPrefix+"/") {
		if b := s.get(t, lakeBucket, k); bytes.Contains(b, []byte(`"damaged":true`)) && bytes.Contains(b, []byte(acct)) {
			samples++
		}
	}
	if samples != 3 {
		t.Errorf("%d rejects samples with a damage entry; want 3", samples)
	}
	cutRecords := bytes.Count(cut.lines, []byte("\n"))
	if cutRecords < 20000 || cutRecords > 30000 {
		t.Errorf("the object cut in half kept %d records; want about half its 50,000", cutRecords)
	}
	if !strings.Contains(logs, fmt.Sprintf(`"offset":%d`, len(cut.gz))) {
		t.Errorf("the cut object's damage is not logged at byte %d", len(cut.gz))
	}
	s.record(t, row{fault: "damaged objects on versitygw (gzip cut in half, bad checksum, bad header), each delivered twice",
		did: fmt.Sprintf("no message failed; kept %d of 50,000 records before the cut (damage at byte %d), all 20,000 before the bad checksum, none of the bad header's; %d rows in the lake; %d damage samples, DamagedObjects %v",
			cutRecords, len(cut.gz), got, samples, damaged),
		rowsLost: lost, rowsDoubled: doubled})
}

// bigObject is a benign day's six hours of 1.6 million records (about 30
// MB of gzip, more than loopback's socket buffers hold), so that a server
// or the function can be stopped in the middle of it.
func (s *suite) bigObject(t *testing.T) *object {
	text, lines := generate(t, flowgen.Config{Seed: 200, Records: 1_600_000, Start: s.hour, Span: 6 * time.Hour, Accounts: 1, ENIs: 12}, "benign")
	return &object{gz: gzipped(t, text), lines: lines}
}

// as returns big under account's key.
func (big *object) as(account string) *object {
	o := *big
	o.key = key(account, time.Now().UTC().Truncate(time.Hour), "big")
	return &o
}

// watch polls cond every 2 ms in the background until it is true, then
// runs act once. stop ends the polling, waits for an act in progress, and
// reports whether act ran.
func watch(cond func() bool, act func()) (stop func() bool) {
	quit, exited := make(chan struct{}), make(chan struct{})
	var fired atomic.Bool
	go func() {
		defer close(exited)
		for {
			select {
			case <-quit:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if cond() {
				fired.Store(true)
				act()
				return
			}
		}
	}()
	var once sync.Once
	return func() bool {
		once.Do(func() { close(quit) })
		<-exited
		return fired.Load()
	}
}

// readDelta returns a function that tells how many bytes versitygw has
// read since it was called.
func (s *suite) readDelta() func() int64 {
	r0, _, _ := s.s3.IO()
	return func() int64 {
		r, _, err := s.s3.IO()
		if err != nil {
			return 0
		}
		return r - r0
	}
}

// stoppedDuringRead: versitygw is killed once it has sent a part of the
// raw object's body to the function (rchar of its process, which reads
// the object's file as it sends it, grown by 12 MiB: under the object's
// size, so the body is not all sent). The read fails (not damage: the
// message fails), the retry while versitygw is down fails too; versitygw
// back, the next retry lands the object once.
func (s *suite) stoppedDuringRead(t *testing.T, big *object) {
	const acct = "100000000002"
	o := big.as(acct)
	s.deliver(t, o)
	delta := s.readDelta()
	var at int64
	stop := watch(func() bool { at = delta(); return at >= 12<<20 }, s.s3.Stop)
	d := s.drain(t, 3*time.Minute, func(inv, _ int, err error) {
		if !stop() {
			t.Fatal("versitygw was not stopped during the read")
		}
		if inv == 2 {
			s.s3.Start(t)
		}
	})
	if at >= int64(len(o.gz)) {
		t.Fatalf("versitygw had read %d bytes of a %d-byte object when stopped: not mid-read", at, len(o.gz))
	}
	logs := s.ingestFn().Logs.String()
	if len(lineWith(strings.Join(lineWith(logs, "object failed"), "\n"), o.key)) < 2 || len(lineWith(strings.Join(lineWith(logs, "object damaged"), "\n"), o.key)) != 0 {
		t.Error("the read cut by the stop was not a failed object, or was taken for damage")
	}
	lost, doubled, got := s.rows(t, acct, writeLines(t, "big.lines", o.lines))
	s.record(t, row{fault: "S3 (versitygw) stopped during a raw read",
		did: fmt.Sprintf("killed after serving %s of a %s object: %d invocations (%d message failures: the cut read, then S3 down), versitygw back after the 2nd; %d rows landed once",
			mib(at), mib(int64(len(o.gz))), d.invocations, d.failed, got),
		rowsLost: lost, rowsDoubled: doubled})
}

// stoppedDuringWrite: versitygw is killed once the function has written
// the first of the object's lake objects (six partitions: the first PUT
// to the lake logged). The message fails on every retry until the
// queue's redrive policy moves it to the DLQ; versitygw back, flowlake
// redrive moves it back, and it lands once, over the objects the failed
// attempt had committed.
func (s *suite) stoppedDuringWrite(t *testing.T, big *object) {
	const acct = "100000000003"
	o := big.as(acct)
	s.deliver(t, o)
	logsAt := len(s.s3.Logs())
	lakeWrite := "/" + lakeBucket + "/" + pipeline.DefaultLakePrefix + "/aws_account=" + acct + "/"
	stop := watch(func() bool {
		l := s.s3.Logs()[logsAt:]
		return strings.Contains(l, "| PUT | "+lakeWrite) || strings.Contains(l, "| POST | "+lakeWrite)
	}, s.s3.Stop)
	d := s.drain(t, 3*time.Minute, func(int, int, error) {
		if !stop() {
			t.Fatal("versitygw was not stopped during the lake write")
		}
	})
	committed := strings.Count(s.s3.Logs()[logsAt:], "| PUT | "+lakeWrite)
	if v, _ := s.sqs.Depth(dlqName); v != 1 || d.failed != s.receives {
		t.Fatalf("after %d failures the DLQ holds %d; want the message after %d", d.failed, v, s.receives)
	}
	s.s3.Start(t)
	out := s.flowlake(t, 0, "redrive", "--dlq", s.sqs.ARN(dlqName), "--endpoint", s.sqs.URL, "--poll", "50ms")
	if !strings.Contains(out, "moved 1 messages") {
		t.Errorf("flowlake redrive: %s", out)
	}
	again := s.flowlake(t, 0, "redrive", "--dlq", dlqName, "--endpoint", s.sqs.URL)
	d2 := s.drain(t, 2*time.Minute, nil)
	if d2.failed != 0 || !strings.Contains(again, "no messages to move") {
		t.Errorf("after the redrive: %d failures; a second redrive said %q", d2.failed, again)
	}
	lost, doubled, got := s.rows(t, acct, writeLines(t, "big.lines", o.lines))
	s.record(t, row{fault: "S3 (versitygw) stopped during a lake write",
		did: fmt.Sprintf("killed after the 1st lake PUT (%d committed before the kill): %d failed receives, then the DLQ; versitygw back, flowlake redrive moved 1 message back (a 2nd redrive: nothing); %d rows landed once",
			committed, d.failed, got),
		rowsLost: lost, rowsDoubled: doubled})
}

// killedMidObject: the ingest function's environment (the emulator and
// its bootstrap) is killed in the middle of reading the raw object. The
// invocation fails, and the message comes back after its visibility
// timeout to a new environment, which lands it once.
func (s *suite) killedMidObject(t *testing.T, big *object) {
	const acct = "100000000008"
	o := big.as(acct)
	s.deliver(t, o)
	delta := s.readDelta()
	var at int64
	stop := watch(func() bool { at = delta(); return at >= 12<<20 }, func() { s.ingestFn().Kill() })
	killed := 0
	d := s.drain(t, 3*time.Minute, func(inv, _ int, err error) {
		if !stop() {
			t.Fatal("the function was not killed mid-object")
		}
		if errors.Is(err, errKilled) {
			killed++
			s.restartIngest()
		}
	})
	if killed != 1 || at >= int64(len(o.gz)) {
		t.Fatalf("%d invocations killed, versitygw had served %d of %d bytes; want 1, mid-object", killed, at, len(o.gz))
	}
	lost, doubled, got := s.rows(t, acct, writeLines(t, "big.lines", o.lines))
	s.record(t, row{fault: "ingest function killed mid-object (the RIE process and its bootstrap)",
		did: fmt.Sprintf("killed after %s of %s had been served: the invocation failed, the message came back after its visibility timeout to a new environment (%d invocations); %d rows landed once",
			mib(at), mib(int64(len(o.gz))), d.invocations, got),
		rowsLost: lost, rowsDoubled: doubled})
}

// attack returns an object of a scenario of findings, its hour s.hour.
func (s *suite) attack(t *testing.T, acct string, seed uint64, scenario string) (*object, []string) {
	t.Helper()
	sc, _ := flowgen.LookupScenario(scenario)
	text, lines := generate(t, flowgen.Config{Seed: seed, Records: 3000, Start: s.hour, Span: time.Hour, Accounts: 1, ENIs: 4}, scenario)
	return &object{key: key(acct, s.hour, scenario), text: text, gz: gzipped(t, text), lines: lines}, sc.Expect
}

// snsStopped: goaws is stopped while ingest-s3 publishes an object's
// findings. They are dead-lettered and the message fails; the retry while
// SNS is down dead-letters them again; SNS back, the next retry publishes
// them, and flowlake replay-findings finds every dead letter not news
// (the dedup table) and removes it: a second replay finds none.
func (s *suite) snsStopped(t *testing.T) []delivery {
	const acct = "100000000004"
	o, want := s.attack(t, acct, 401, "ssh-brute-force")
	skip := len(s.sub.all())
	lettersBefore := len(s.deadLetters(t))
	s.sns.Stop()
	s.deliver(t, o)
	d := s.drain(t, 3*time.Minute, func(inv, _ int, err error) {
		if inv == 2 {
			s.sns.Start(t)
		}
	})
	letters := len(s.deadLetters(t)) - lettersBefore
	if d.failed != 2 || letters != 2*len(want) {
		t.Errorf("%d message failures and %d dead letters; want 2 and %d (each finding, each failed attempt)", d.failed, letters, 2*len(want))
	}
	replay := []string{"replay-findings", "--bucket", lakeBucket, "--endpoint", s.s3.Endpoint, "--topic", s.topicARN, "--dedup-table", dedupTable, "--single"}
	out := s.flowlake(t, 0, replay...)
	if !strings.Contains(out, fmt.Sprintf("%d dead letters of %d findings: 0 published, %d not news", letters, len(want), len(want))) {
		t.Errorf("flowlake replay-findings: %s", out)
	}
	out2 := s.flowlake(t, 0, replay...)
	if !strings.Contains(out2, "0 dead letters") || len(s.deadLetters(t)) != lettersBefore {
		t.Errorf("a second replay: %s; %d dead letters left", out2, len(s.deadLetters(t))-lettersBefore)
	}
	lost, doubled, got := s.rows(t, acct, writeLines(t, "sns.lines", o.lines))
	flost, fdup := s.findingCounts(t, skip, want)
	s.record(t, row{fault: "SNS (goaws) stopped during publishing",
		did: fmt.Sprintf("%d failed attempts dead-lettered %d letters of %d findings, SNS back, the 3rd attempt published them; flowlake replay-findings: %s; again: nothing; %d rows",
			d.failed, letters, len(want), strings.TrimSpace(strings.SplitN(out, "\n", 2)[0]), got),
		rowsLost: lost, rowsDoubled: doubled, findingsLost: flost, findingsDups: fdup})
	return s.sub.all()[skip:]
}

// snsStoppedPastRetries: goaws is down for every receive of the message,
// so it reaches the DLQ with a dead letter per finding per attempt. SNS
// back, flowlake replay-findings publishes each finding once (the dead
// letters of one finding are one finding) and removes the letters; then
// flowlake redrive brings the message back: its rows land over the same
// objects and its findings are not news. Replaying and redriving again
// find nothing.
func (s *suite) snsStoppedPastRetries(t *testing.T) {
	const acct = "100000000005"
	o, want := s.attack(t, acct, 501, "ssh-brute-force")
	skip := len(s.sub.all())
	lettersBefore := len(s.deadLetters(t))
	s.sns.Stop()
	s.deliver(t, o)
	d := s.drain(t, 3*time.Minute, nil)
	s.sns.Start(t)
	letters := len(s.deadLetters(t)) - lettersBefore
	if v, _ := s.sqs.Depth(dlqName); v != 1 || d.failed != s.receives || letters != s.receives*len(want) {
		t.Fatalf("%d message failures, %d in the DLQ, %d dead letters; want %d, 1 and %d", d.failed, v, letters, s.receives, s.receives*len(want))
	}
	if n := len(s.sub.all()) - skip; n != 0 {
		t.Fatalf("%d findings delivered while SNS was down", n)
	}
	replay := []string{"replay-findings", "--bucket", lakeBucket, "--endpoint", s.s3.Endpoint, "--topic", s.topicARN, "--dedup-table", dedupTable, "--single"}
	out := s.flowlake(t, 0, replay...)
	if !strings.Contains(out, fmt.Sprintf("%d dead letters of %d findings: %d published, 0 not news", letters, len(want), len(want))) {
		t.Errorf("flowlake replay-findings: %s", out)
	}
	afterReplay := len(s.sub.all()) - skip
	s.flowlake(t, 0, "redrive", "--dlq", dlqName, "--endpoint", s.sqs.URL, "--poll", "50ms")
	d2 := s.drain(t, time.Minute, nil)
	out2 := s.flowlake(t, 0, replay...)
	again := s.flowlake(t, 0, "redrive", "--dlq", dlqName, "--endpoint", s.sqs.URL)
	if d2.failed != 0 || !strings.Contains(out2, "0 dead letters") || !strings.Contains(again, "no messages to move") || len(s.deadLetters(t)) != lettersBefore {
		t.Errorf("after the replay and the redrive: %d failures; a second replay %q, a second redrive %q; %d dead letters left",
			d2.failed, out2, again, len(s.deadLetters(t))-lettersBefore)
	}
	if n := len(s.sub.all()) - skip; afterReplay != len(want) || n != len(want) {
		t.Errorf("%d findings delivered by the replay, %d after the redrive; want %d and %d", afterReplay, n, len(want), len(want))
	}
	lost, doubled, got := s.rows(t, acct, writeLines(t, "sns-past.lines", o.lines))
	flost, fdup := s.findingCounts(t, skip, want)
	s.record(t, row{fault: "SNS (goaws) stopped past every retry",
		did: fmt.Sprintf("%d failed receives, then the DLQ, %d dead letters of %d findings; SNS back, flowlake replay-findings: %s; flowlake redrive moved the message back: it succeeded, its findings not news; a 2nd replay and redrive: nothing; %d rows",
			d.failed, letters, len(want), strings.TrimSpace(strings.SplitN(out, "\n", 2)[0]), got),
		rowsLost: lost, rowsDoubled: doubled, findingsLost: flost, findingsDups: fdup})
}

// slackFaults: notify-slack gets the SNS events of the findings; the
// webhook answers 500 to every attempt of the first invocation (which
// fails, so SNS retries it), then 429 with Retry-After, then 200. Each
// finding is posted once.
func (s *suite) slackFaults(t *testing.T, published []delivery) {
	if len(published) == 0 {
		t.Fatal("no SNS deliveries to give notify-slack")
	}
	before := len(s.hook.Accepted())
	s.hook.Fail(500, 500, 500, 500, 500, 429)
	invocations, failures := 0, 0
	for _, d := range published {
		for attempt := 1; ; attempt++ { // SNS → Lambda: asynchronous, retried twice
			invocations++
			body, err := s.slack.Post(d.Event)
			if err == nil && stack.ErrorType(body) == "" {
				break
			}
			failures++
			if attempt == 3 {
				t.Fatalf("notify-slack failed 3 times for %s: %s %v", d.Finding.ID, body, err)
			}
		}
	}
	accepted := s.hook.Accepted()[before:]
	answers := s.hook.Answers()
	perFinding := map[string]int{} // the findings' rules differ: a post names its rule
	for _, m := range accepted {
		js, _ := json.Marshal(m)
		for _, d := range published {
			if bytes.Contains(js, []byte(d.Finding.Rule)) {
				perFinding[d.Finding.ID]++
			}
		}
	}
	var lost, dup int64
	for _, d := range published {
		switch n := perFinding[d.Finding.ID]; {
		case n == 0:
			lost++
		case n > 1:
			dup += int64(n - 1)
		}
	}
	if failures != 1 || len(accepted) != len(published) {
		t.Errorf("%d failed invocations, %d posts accepted (webhook answers %v); want 1 and %d", failures, len(accepted), answers, len(published))
	}
	s.record(t, row{fault: "Slack webhook answering 500, then 429 with Retry-After",
		did: fmt.Sprintf("webhook answers %v: the 1st invocation failed after its 5 attempts, SNS's retry waited out the 429 and posted; %d invocations for %d findings, %d posts",
			answers, invocations, len(published), len(accepted)),
		findingsLost: lost, findingsDups: dup})
}

// dedupStoppedBefore: dynalite (the dedup table, on disk) is stopped
// before the ingest function publishes: it cannot decide, publishes
// nothing, and the message fails; dynalite back with its items, the retry
// publishes each finding once.
func (s *suite) dedupStoppedBefore(t *testing.T) {
	const acct = "100000000006"
	o, want := s.attack(t, acct, 601, "port-scan")
	skip := len(s.sub.all())
	s.ddb.Stop()
	s.deliver(t, o)
	var deliveredWhileDown int
	d := s.drain(t, 3*time.Minute, func(inv, _ int, err error) {
		if inv == 2 {
			deliveredWhileDown = len(s.sub.all()) - skip
			s.ddb.Start(t)
		}
	})
	lost, doubled, got := s.rows(t, acct, writeLines(t, "port-scan.lines", o.lines))
	flost, fdup := s.findingCounts(t, skip, want)
	if deliveredWhileDown != 0 || d.failed != 2 {
		t.Errorf("%d findings delivered while the dedup table was down, %d failures; want 0 and 2", deliveredWhileDown, d.failed)
	}
	s.record(t, row{fault: "dedup table (dynalite) stopped during a publish: before the decision",
		did:      fmt.Sprintf("%d attempts failed deciding (nothing published), dynalite back (its items on disk), the 3rd published %d finding(s); %d rows", d.failed, len(want), got),
		rowsLost: lost, rowsDoubled: doubled, findingsLost: flost, findingsDups: fdup})
}

// dedupStoppedBeforeCommit: dynalite is stopped the moment SNS delivers a
// finding (goaws delivers during the Publish call): the publish succeeded
// and its commit cannot be made. The Notifier retries the commit (200 ms,
// then doubled), and dynalite is started again 300 ms later: the commit
// lands, the message succeeds, and no retry notifies the finding again.
func (s *suite) dedupStoppedBeforeCommit(t *testing.T) {
	const acct = "100000000007"
	o, want := s.attack(t, acct, 701, "rdp-brute-force")
	skip := len(s.sub.all())
	var once sync.Once
	restarted := make(chan error, 1)
	var down time.Duration
	s.sub.setOnDeliver(func(f finding.Finding) {
		once.Do(func() {
			s.ddb.Stop()
			stopped := time.Now()
			go func() {
				time.Sleep(300 * time.Millisecond)
				err := s.ddb.StartErr()
				down = time.Since(stopped)
				restarted <- err
			}()
		})
	})
	logsAt := len(s.ingestFn().Logs.String())
	defer s.sub.setOnDeliver(nil)
	s.deliver(t, o)
	d := s.drain(t, 3*time.Minute, nil)
	select {
	case err := <-restarted:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dynalite was never stopped: no finding delivered")
	}
	logs := s.ingestFn().Logs.String()[logsAt:]
	retried := strings.Count(logs, "dedup commit of a published finding failed: retrying")
	lost, doubled, got := s.rows(t, acct, writeLines(t, "rdp.lines", o.lines))
	flost, fdup := s.findingCounts(t, skip, want)
	if retried == 0 || d.failed != 0 {
		t.Errorf("%d commit retries logged, %d message failures; want retries and no failure", retried, d.failed)
	}
	s.record(t, row{fault: "dedup table (dynalite) stopped during a publish: between SNS accepting it and the commit",
		did: fmt.Sprintf("killed as SNS delivered the finding, listening again %s later; the Notifier retried the commit %d times until it landed, the message succeeded; %d rows",
			down.Round(10*time.Millisecond), retried, got),
		rowsLost: lost, rowsDoubled: doubled, findingsLost: flost, findingsDups: fdup})
}

// lineWith returns the lines of logs that contain sub.
func lineWith(logs, sub string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

// listKeys returns the keys below prefix in bucket.
func (s *suite) listKeys(t *testing.T, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.s3.Client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// get returns an object's bytes.
func (s *suite) get(t *testing.T, bucket, key string) []byte {
	t.Helper()
	out, err := s.s3.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
