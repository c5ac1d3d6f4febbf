package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/jackc/pgx/v5"

	"github.com/trailwatch/trailwatch/internal/awsclient"
	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/store/postgres"
)

// pgSchemaURL creates a schema of its own for t on the test PostgreSQL server
// ($TRAILWATCH_TEST_DATABASE_URL, else 127.0.0.1:5432 with trust authentication), dropped when t
// ends, and returns the database URL with it as the search path. Without a server it skips t,
// unless CI or TRAILWATCH_E2E_REQUIRE=1 require one (as internal/store/postgres's tests do).
func pgSchemaURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("TRAILWATCH_TEST_DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("TRAILWATCH_E2E_REQUIRE") == "1" {
			t.Fatalf("PostgreSQL is required but unreachable at %s: %v", base, err)
		}
		t.Skipf("PostgreSQL unreachable at %s: %v", base, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "tw_app_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// replica is one running server of a replica test.
type replica struct {
	srv    *Server
	stdout *bytes.Buffer
	stop   context.CancelFunc
	done   chan error
}

func startReplica(t *testing.T, dbURL, id string) *replica {
	t.Helper()
	opts := DefaultOptions()
	opts.Listen, opts.DataDir, opts.DatabaseURL, opts.ReplicaID = "127.0.0.1:0", "", dbURL, id
	opts.AccountID = "111122223333"
	opts.AccessKeyID, opts.SecretAccessKey = "", ""
	opts.LeaseTTL = 3 * time.Second
	out := new(bytes.Buffer)
	opts.Stdout = &lockedWriter{w: out}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{srv: srv, stdout: out, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-r.done:
		t.Fatalf("replica %s: %v", id, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("replica %s did not start", id)
	}
	t.Cleanup(r.shutdown)
	eventually(t, 10*time.Second, "replica "+id+" ready", func() bool { code, _ := r.get(t, "/readyz"); return code == http.StatusOK })
	return r
}

func (r *replica) shutdown() {
	r.stop()
	<-r.done
	r.done <- nil // later shutdowns return at once
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (r *replica) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + r.srv.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *replica) logs(cred Credential) *cloudwatchlogs.Client {
	return cloudwatchlogs.NewFromConfig(aws.Config{
		Region:           DefaultRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, ""),
		BaseEndpoint:     aws.String("http://" + r.srv.Addr()),
		RetryMaxAttempts: 1,
		HTTPClient:       awsclient.HTTPClient(),
	})
}

func (r *replica) cloudwatch(cred Credential) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(aws.Config{
		Region:           DefaultRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, ""),
		BaseEndpoint:     aws.String("http://" + r.srv.Addr()),
		RetryMaxAttempts: 1,
		HTTPClient:       awsclient.HTTPClient(),
	})
}

// eventually polls cond every 100 ms until it holds or limit passes.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

var credLine = regexp.MustCompile(`AWS_ACCESS_KEY_ID=(\S+)\n  export AWS_SECRET_ACCESS_KEY=(\S+)`)

// Two replicas on one database: one set of generated credentials (announced by one replica,
// accepted by both), one SNS signing certificate, one alarm evaluator at a time; an alarm put
// through one replica is described by the other, and a datapoint put through the replica that
// does not evaluate moves the alarm to ALARM early; when the evaluator stops, the other takes over.
func TestReplicasShareOneDatabase(t *testing.T) {
	dbURL := pgSchemaURL(t)
	t.Setenv("TRAILWATCH_DATABASE_URL", "")
	a := startReplica(t, dbURL, "replica-a")
	b := startReplica(t, dbURL, "replica-b")

	// Credentials: generated once, printed by exactly one replica.
	outs := a.stdout.String() + b.stdout.String()
	if n := strings.Count(outs, "trailwatch generated API credentials (kept in the database"); n != 1 {
		t.Fatalf("credential notices: %d, want 1:\n%s", n, outs)
	}
	m := credLine.FindStringSubmatch(outs)
	if m == nil {
		t.Fatalf("no credentials in %q", outs)
	}
	cred := Credential{AccessKeyID: m[1], SecretAccessKey: m[2]}

	// One signing certificate, served alike by both.
	certA, certB := certPage(t, a), certPage(t, b)
	if certA == "" || certA != certB {
		t.Fatalf("signing certificates differ between replicas: %q vs %q", certA, certB)
	}

	// /readyz: both ready once their lease state is known, exactly one evaluates alarms.
	leader := func() (lead, other *replica) {
		_, ba := a.get(t, "/readyz")
		_, bb := b.get(t, "/readyz")
		ha := strings.Contains(ba, "alarm evaluation lease: held")
		hb := strings.Contains(bb, "alarm evaluation lease: held")
		switch {
		case ha && !hb:
			return a, b
		case hb && !ha:
			return b, a
		}
		return nil, nil
	}
	eventually(t, 10*time.Second, "exactly one replica holds the alarm lease", func() bool { l, _ := leader(); return l != nil })
	lead, other := leader()
	for _, r := range []*replica{a, b} {
		if code, body := r.get(t, "/healthz"); code != 200 || body != "ok\n" {
			t.Errorf("/healthz: %d %q", code, body)
		}
	}

	// An alarm put through the leader is seen by the other replica (LISTEN/NOTIFY refresh).
	ctx := context.Background()
	ns, name := "Test/Replicas", "root-login"
	_, err := lead.cloudwatch(cred).PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String(ns), MetricName: aws.String("RootLogins"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching"),
	})
	if err != nil {
		t.Fatal(err)
	}
	state := func(r *replica) cwtypes.StateValue {
		out, err := r.cloudwatch(cred).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
		if err != nil || len(out.MetricAlarms) != 1 {
			return ""
		}
		return out.MetricAlarms[0].StateValue
	}
	eventually(t, 5*time.Second, "the other replica describes the alarm", func() bool { return state(other) != "" })

	// A datapoint put through the replica that does not evaluate moves the alarm to ALARM early
	// (NotifySamples to the leader), well before the next minute's round could.
	_, err = other.cloudwatch(cred).PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(ns),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("RootLogins"), Value: aws.Float64(1), Timestamp: aws.Time(time.Now())}}})
	if err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 5*time.Second, "alarm in ALARM on both replicas", func() bool {
		return state(lead) == cwtypes.StateValueAlarm && state(other) == cwtypes.StateValueAlarm
	})
	t.Logf("cross-replica early evaluation: ALARM seen on both replicas %v after PutMetricData", took)

	// The same through CloudWatch Logs: a root login put into a log group through the replica
	// that does not evaluate, counted by a metric filter (its samples commit with the event and
	// are announced by that replica), moves an alarm on the filter's metric to ALARM within a
	// second. The log group, its filter and its event are the database's, so the leader reads them.
	cwl := other.logs(cred)
	mustDo := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustDo(lead.logs(cred).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("ct")}))
	mustDo(cwl.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("ct"), LogStreamName: aws.String("s")}))
	mustDo(cwl.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String("ct"), FilterName: aws.String("root"),
		FilterPattern:         aws.String(`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`),
		MetricTransformations: []cwltypes.MetricTransformation{{MetricName: aws.String("RootAccountUsage"), MetricNamespace: aws.String("CloudTrailMetrics"), MetricValue: aws.String("1")}}}))
	logAlarm := "root-login-logs"
	mustDo(lead.cloudwatch(cred).PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(logAlarm), Namespace: aws.String("CloudTrailMetrics"), MetricName: aws.String("RootAccountUsage"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching"),
	}))
	logState := func(r *replica) cwtypes.StateValue {
		out, err := r.cloudwatch(cred).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{logAlarm}})
		if err != nil || len(out.MetricAlarms) != 1 {
			return ""
		}
		return out.MetricAlarms[0].StateValue
	}
	eventually(t, 5*time.Second, "the leader describes the log alarm", func() bool {
		st := logState(lead)
		return st != "" && st != cwtypes.StateValueAlarm
	})
	put := time.Now()
	mustDo(cwl.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("ct"), LogStreamName: aws.String("s"),
		LogEvents: []cwltypes.InputLogEvent{{Timestamp: aws.Int64(put.UnixMilli()),
			Message: aws.String(`{"eventVersion":"1.08","userIdentity":{"type":"Root"},"eventType":"AwsConsoleSignIn","eventName":"ConsoleLogin"}`)}}}))
	took = eventually(t, time.Second, "the log alarm in ALARM within a second", func() bool { return logState(lead) == cwtypes.StateValueAlarm })
	t.Logf("cross-replica early evaluation of a log-filter alarm: ALARM %v after PutLogEvents through the non-leader", took)
	evs, err := lead.logs(cred).GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("ct"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})
	if err != nil || len(evs.Events) != 1 {
		t.Fatalf("the leader reads %v events, %v; want the one put through the other replica", evs, err)
	}

	// The leader stops (releasing its lease): the other takes over.
	lead.shutdown()
	took = eventually(t, 10*time.Second, "the survivor holds the alarm lease", func() bool {
		_, body := other.get(t, "/readyz")
		return strings.Contains(body, "alarm evaluation lease: held")
	})
	t.Logf("takeover after a clean shutdown: %v", took)
}

// certPage returns the SNS signing certificate a replica serves.
func certPage(t *testing.T, r *replica) string {
	t.Helper()
	for p := range r.srv.sns.pages {
		if strings.HasSuffix(p, ".pem") {
			_, body := r.get(t, strings.TrimPrefix(p, "GET "))
			return body
		}
	}
	t.Fatal("no certificate page")
	return ""
}

// Of two backends (two pools) on one database, exactly one runs each round of a periodic job,
// through the server's claimRound.
func TestSweepRoundsRunOnce(t *testing.T) {
	dbURL := pgSchemaURL(t)
	s := &Server{logger: discardLogger()}
	var bs []backend
	for _, id := range []string{"a", "b"} {
		b, err := openPostgres(context.Background(), dbURL, postgres.Options{}, id, s.logger)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		bs = append(bs, b)
	}
	slot := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for i, slot := range []time.Time{slot, slot.Add(time.Minute), slot.Add(2 * time.Minute)} {
		var wg sync.WaitGroup
		ran := make([]bool, len(bs))
		for j, b := range bs {
			wg.Go(func() { ran[j] = s.claimRound(context.Background(), b, roundRetention, slot) })
		}
		wg.Wait()
		if ran[0] == ran[1] {
			t.Errorf("round %d: replicas ran %v, want exactly one", i, ran)
		}
	}
	// SQLite's single process runs every round.
	if !s.claimRound(context.Background(), sqliteBackend{}, roundRetention, slot) {
		t.Error("SQLite skipped a round")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// The outbox each backend hands the SNS worker claims for its replica: of two backends on one
// database, each gets its own deliveries, and a delivery claimed by one is not the other's until
// the claim ends (the default claim timeout when none is set).
func TestBackendsClaimTheOutbox(t *testing.T) {
	dbURL := pgSchemaURL(t)
	ctx := context.Background()
	var bs []*postgresBackend
	for _, id := range []string{"a", "b"} {
		b, err := openPostgres(ctx, dbURL, postgres.Options{}, id, discardLogger())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		if b.claimFor != DefaultClaimTimeout {
			t.Fatalf("claim timeout %v, want the default", b.claimFor)
		}
		bs = append(bs, b)
	}
	at := time.Now().Add(-time.Second)
	ds := make([]sns.Delivery, 10)
	for i := range ds {
		ds[i] = sns.Delivery{MessageID: fmt.Sprintf("m%d", i), SubscriptionARN: "arn:sub", Protocol: "email", NextAttempt: at, Created: at}
	}
	if _, err := bs[0].Enqueue(ctx, "", "m", ds); err != nil {
		t.Fatal(err)
	}
	gotA, err := bs[0].DeliveryOutbox().DueDeliveries(ctx, time.Now(), 6)
	if err != nil {
		t.Fatal(err)
	}
	gotB, err := bs[1].DeliveryOutbox().DueDeliveries(ctx, time.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, d := range append(gotA, gotB...) {
		if seen[d.ID] {
			t.Fatalf("delivery %d handed to both replicas", d.ID)
		}
		seen[d.ID] = true
	}
	if len(gotA) != 6 || len(gotB) != 4 {
		t.Fatalf("replica a got %d, b %d; want 6 and 4", len(gotA), len(gotB))
	}
	if again, _ := bs[0].DeliveryOutbox().DueDeliveries(ctx, time.Now(), 10); len(again) != 0 {
		t.Fatalf("claimed deliveries handed out again: %d", len(again))
	}
	// The alarm action queue is claimed alike.
	if _, ok := bs[0].ActionQueue().(postgres.ClaimingActionQueue); !ok {
		t.Fatalf("action queue %T does not claim", bs[0].ActionQueue())
	}
}
