package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/jackc/pgx/v5"
)

// These tests run three replicas of the built binary on one PostgreSQL database (issue 16): a new
// database per test on $TRAILWATCH_TEST_DATABASE_URL's server (default the local one, trust
// authentication). An unreachable server fails them where TRAILWATCH_E2E_REQUIRE=1 or CI is set
// (as .ci/run does, after starting PostgreSQL), and skips them elsewhere.

// pgServerURL is the PostgreSQL server the replica tests create their databases on.
func pgServerURL() string {
	if u := os.Getenv("TRAILWATCH_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// pgDatabase creates a database of its own for t, dropped when t ends, and returns its URL.
func pgDatabase(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := pgServerURL()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("TRAILWATCH_E2E_REQUIRE") == "1" || os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required but unreachable at %s: %v", base, err)
		}
		t.Skipf("PostgreSQL unreachable at %s (set TRAILWATCH_TEST_DATABASE_URL): %v", base, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "tw_e2e_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop database: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// replicaSet is three replicas on one database, delivering mail to one mailbox.
type replicaSet struct {
	t     *testing.T
	dbURL string
	rs    []*server
	ids   []string
	alive []bool
}

// startReplicas starts n replicas named r0..r<n-1> without --data, with extra arguments.
func startReplicas(t *testing.T, dbURL string, mb *mailbox, n int, extra ...string) *replicaSet {
	t.Helper()
	set := &replicaSet{t: t, dbURL: dbURL}
	for i := range n {
		id := fmt.Sprint("r", i)
		args := append([]string{"--database-url", dbURL, "--replica-id", id,
			"--smtp-addr", mb.Addr, "--smtp-from", mailFrom, "--smtp-tls", "none"}, extra...)
		set.rs = append(set.rs, launch(t, "http", freeAddr(t), "", args))
		set.ids = append(set.ids, id)
		set.alive = append(set.alive, true)
	}
	return set
}

// live returns the replicas not killed, in order.
func (set *replicaSet) live() []*server {
	var out []*server
	for i, s := range set.rs {
		if set.alive[i] {
			out = append(out, s)
		}
	}
	return out
}

func (set *replicaSet) kill(i int) {
	set.rs[i].kill()
	set.alive[i] = false
}

// leader returns the index of the replica whose /readyz says it holds the alarm evaluation
// lease, or -1 when no live replica (or more than one) says so.
func (set *replicaSet) leader() int {
	found := -1
	for i, s := range set.rs {
		if !set.alive[i] {
			continue
		}
		resp, err := http.Get(s.URL + "/readyz")
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "alarm evaluation lease: held") {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}

// waitLeader polls leader until one replica leads, and returns it with how long that took.
func (set *replicaSet) waitLeader(limit time.Duration) (int, time.Duration) {
	set.t.Helper()
	start := time.Now()
	for {
		if l := set.leader(); l >= 0 {
			return l, time.Since(start)
		}
		if time.Since(start) > limit {
			set.t.Fatalf("no single replica holds the alarm lease after %v", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// confirmedTopic creates the topic "ha-alerts" with a confirmed email subscription through s.
func confirmedTopic(t *testing.T, ctx context.Context, s *server, mb *mailbox) string {
	t.Helper()
	c := snsClient(s)
	top, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("ha-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: top.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("oncall@example.com")}); err != nil {
		t.Fatal(err)
	}
	conf := mb.wait(10*time.Second, func(m received) bool { return slices.Contains(m.To, "oncall@example.com") })
	if code, _ := get(t, linkWith(t, conf.Body, "/confirmation.html?")); code != 200 {
		t.Fatal("confirmation failed")
	}
	return aws.ToString(top.TopicArn)
}

// loginAlarm sets up, through s, the log group, CIS root filter and alarm of root login name.
func loginAlarm(t *testing.T, ctx context.Context, s *server, name, topic string) {
	t.Helper()
	setupRootFilterMetric(t, ctx, logsClient(s), name, "s", "Root-"+name)
	putAlarmTo(t, ctx, cwClient(s), name, "Root-"+name, topic)
}

func alarmSubject(name string) string { return fmt.Sprintf("ALARM: %q in US East (N. Virginia)", name) }

// checkOnce checks, through s, that each login's event is stored once and its alarm went to
// ALARM once, and that the mailbox holds exactly one ALARM email per login.
func checkOnce(t *testing.T, ctx context.Context, s *server, mb *mailbox, names []string) {
	t.Helper()
	for _, name := range names {
		evs, err := logsClient(s).FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs.Events) != 1 {
			t.Errorf("%s: %d events stored, want 1", name, len(evs.Events))
		}
		hist, err := cwClient(s).DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String(name),
			HistoryItemType: cwtypes.HistoryItemTypeStateUpdate})
		if err != nil {
			t.Fatal(err)
		}
		toAlarm := 0
		for _, h := range hist.AlarmHistoryItems {
			if strings.HasSuffix(aws.ToString(h.HistorySummary), " to ALARM") {
				toAlarm++
			}
		}
		if toAlarm != 1 {
			t.Errorf("%s: %d transitions to ALARM, want 1", name, toAlarm)
		}
		mails := 0
		for _, m := range mb.all() {
			if m.Subject == alarmSubject(name) {
				mails++
			}
		}
		if mails != 1 {
			t.Errorf("%s: %d ALARM emails, want 1", name, mails)
		}
	}
}

// waitMails waits until every login has its ALARM email.
func waitMails(t *testing.T, mb *mailbox, names []string, limit time.Duration) {
	t.Helper()
	for _, name := range names {
		mb.wait(limit, func(m received) bool { return m.Subject == alarmSubject(name) })
	}
}

// TestReplicasKillLeaseHolder: three replicas on one database; root logins spread over them, each
// into a log group of its own with its own alarm; in the middle a login goes through the alarm
// lease holder, which is then killed with SIGKILL, and the logins go on through the survivors.
// Every login is stored once, its alarm goes to ALARM once, and its email arrives once. The
// takeover (the kill until a survivor's /readyz says it holds the lease) is logged; with the
// default lease (10 s, renewed every 10/3 s) it must stay under 15 s.
//
// The claim timeout is 5 s here instead of the default 5 minutes: the killed holder has usually
// just claimed the alarm action or the email of the login before the kill (it evaluated it), and
// with the default that email arrives, still exactly once, only five minutes later.
func TestReplicasKillLeaseHolder(t *testing.T) {
	dbURL := pgDatabase(t)
	mb := startMailbox(t, "")
	set := startReplicas(t, dbURL, mb, 3, "--claim-timeout", "5s")
	ctx := context.Background()
	topic := confirmedTopic(t, ctx, set.rs[0], mb)
	const logins = 9
	var names []string
	for i := range logins {
		names = append(names, fmt.Sprint("login-", i))
		loginAlarm(t, ctx, set.rs[i%3], names[i], topic)
	}
	lead, _ := set.waitLeader(15 * time.Second)
	var (
		killed   time.Time
		takeover = make(chan int, 1)
	)
	for i, name := range names {
		live := set.live()
		s := live[i%len(live)]
		if i == logins/2 {
			s = set.rs[lead]
		}
		now := time.Now()
		putEvent(t, ctx, logsClient(s), name, "s", rootLogin(t, now), now)
		if i == logins/2 {
			// The logins after this one go through the survivors while no replica holds the
			// lease: the successor must judge them when it takes over (alarm.Service.TakeOver).
			set.kill(lead)
			killed = time.Now()
			go func() {
				l := set.leader()
				for ; l < 0; l = set.leader() {
					time.Sleep(50 * time.Millisecond)
				}
				takeover <- l
			}()
			t.Logf("lease holder %s killed after acknowledging %s", set.ids[lead], name)
		}
		time.Sleep(300 * time.Millisecond)
	}
	var took time.Duration
	select {
	case next := <-takeover:
		took = time.Since(killed)
		t.Logf("%s took over the alarm lease about %v after the kill", set.ids[next], took)
	case <-time.After(30 * time.Second):
		t.Fatal("no replica took over the alarm lease within 30 s")
	}
	waitMails(t, mb, names, 30*time.Second)
	time.Sleep(2 * time.Second) // room for a duplicate to show
	checkOnce(t, ctx, set.live()[0], mb, names)
	if took >= 15*time.Second {
		t.Errorf("takeover took %v, want under 15 s with the default lease", took)
	}
}

// TestReplicasKillOutboxClaimHolder: the ALARM email of a root login is held at the SMTP server
// (DATA never acknowledged) while the replica that claimed its delivery sends it; that replica is
// killed with SIGKILL, and after its claim times out (--claim-timeout 3s here) another replica
// sends the email: it arrives exactly once, as do the emails of the logins before and after.
func TestReplicasKillOutboxClaimHolder(t *testing.T) {
	dbURL := pgDatabase(t)
	mb := startMailbox(t, "")
	set := startReplicas(t, dbURL, mb, 3, "--claim-timeout", "3s")
	ctx := context.Background()
	topic := confirmedTopic(t, ctx, set.rs[0], mb)
	names := []string{"claim-before", "claim-held", "claim-after"}
	for i, name := range names {
		loginAlarm(t, ctx, set.rs[i], name, topic)
	}
	now := time.Now()
	putEvent(t, ctx, logsClient(set.rs[0]), names[0], "s", rootLogin(t, now), now)
	waitMails(t, mb, names[:1], 10*time.Second)

	held, release := mb.holdOnce(alarmSubject(names[1]))
	now = time.Now()
	putEvent(t, ctx, logsClient(set.rs[1]), names[1], "s", rootLogin(t, now), now)
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("the held ALARM email never reached the SMTP server")
	}
	holder := claimHolder(t, dbURL)
	i := slices.Index(set.ids, holder)
	if i < 0 {
		t.Fatalf("delivery claimed by %q, not a replica of the test", holder)
	}
	set.kill(i)
	killed := time.Now()
	close(release)
	m := mb.wait(30*time.Second, func(m received) bool { return m.Subject == alarmSubject(names[1]) })
	t.Logf("replica %s killed while holding the claim on %q; another replica delivered it %v later", holder, names[1], m.At.Sub(killed))
	live := set.live()
	now = time.Now()
	putEvent(t, ctx, logsClient(live[0]), names[2], "s", rootLogin(t, now), now)
	waitMails(t, mb, names, 30*time.Second)
	time.Sleep(2 * time.Second)
	checkOnce(t, ctx, live[len(live)-1], mb, names)
}

// claimHolder returns the replica holding a claim on a pending SNS delivery.
func claimHolder(t *testing.T, dbURL string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var holders []string
	rows, err := conn.Query(ctx, `SELECT DISTINCT claimed_by FROM sns_deliveries WHERE status = 'pending' AND claimed_by <> ''`)
	if err == nil {
		holders, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(holders) != 1 {
		t.Fatalf("pending deliveries claimed by %v, want one replica", holders)
	}
	return holders[0]
}
