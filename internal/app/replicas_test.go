package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alarm/alarmtest"
	"github.com/trailwatch/trailwatch/internal/ingest"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/metrics/metricstest"
	"github.com/trailwatch/trailwatch/internal/store/postgres"
	"github.com/trailwatch/trailwatch/internal/trail"
)

// fakeLeases grants a lease while free is true, as the leases table would with one other replica
// that takes it whenever this one lets it go.
type fakeLeases struct {
	mu   sync.Mutex
	free bool
}

func (f *fakeLeases) TryLease(context.Context, string, string, time.Duration) (postgres.Grant, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return postgres.Grant{Token: 1}, f.free, nil
}

func (f *fakeLeases) ReleaseLease(context.Context, string, string) error { return nil }

func (f *fakeLeases) set(free bool) {
	f.mu.Lock()
	f.free = free
	f.mu.Unlock()
}

// The trail sources run on the ingest lease's holder only: started with every stored trail when
// the lease is gained, following trail changes made on other replicas (resync), stopped when the
// lease is lost, and a change made on this replica while another holds the lease is left to the
// holder.
func TestTrailSourcesFollowTheIngestLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()

		sc := trail.Scope{AccountID: "111122223333", Region: "us-east-1"}
		logging := func(name string) trail.Trail {
			return trail.Trail{Name: name, Logging: true, S3BucketName: "b", CloudWatchLogsLogGroupArn: "arn:aws:logs:us-east-1:111122223333:log-group:g:*"}
		}
		var mu sync.Mutex
		stored := []scopedTrail{{Scope: sc, Trail: logging("one")}}
		built := map[string]int{}
		s := &Server{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		ts := &trailSources{
			// A source that cannot be built is recorded as the trail's delivery error: the
			// runner's Status shows that it was applied, without S3.
			newSource: func(_ trail.Scope, tr trail.Trail) (*ingest.S3Source, error) {
				mu.Lock()
				built[tr.Name]++
				mu.Unlock()
				return nil, errors.New("built " + tr.Name)
			},
			load: func(context.Context) ([]scopedTrail, error) {
				mu.Lock()
				defer mu.Unlock()
				return append([]scopedTrail(nil), stored...), nil
			},
			ctx: ctx, wg: &wg, s: s,
		}
		leases := &fakeLeases{}
		lease := &postgres.Leader{DB: leases, Name: leaseIngest, Holder: "a", TTL: 3 * time.Second}
		wg.Go(func() { lease.Run(ctx) })
		wg.Go(func() { ts.follow(ctx, lease, time.Second) })
		status := func(name string) string { return ts.Status(sc, name).LatestDeliveryError }

		time.Sleep(5 * time.Second)
		synctest.Wait()
		if got := status("one"); got != "" {
			t.Fatalf("without the lease the sources ran: status %q", got)
		}
		ts.Apply(sc, "local", &trail.Trail{Name: "local", Logging: true, S3BucketName: "b", CloudWatchLogsLogGroupArn: "arn:aws:logs:us-east-1:111122223333:log-group:g:*"})
		if built["local"] != 0 {
			t.Fatal("a change applied without the lease built a source")
		}

		leases.set(true)
		time.Sleep(3 * time.Second) // a renewal (TTL/3) and a check (1 s)
		synctest.Wait()
		if got := status("one"); got != "built one" {
			t.Fatalf("holding the lease: status %q, want the stored trail applied", got)
		}

		// A trail created through another replica reaches the holder at its next resync.
		mu.Lock()
		stored = append(stored, scopedTrail{Scope: sc, Trail: logging("two")})
		mu.Unlock()
		time.Sleep(resyncEvery + time.Second)
		synctest.Wait()
		if got := status("two"); got != "built two" {
			t.Fatalf("after a resync: status %q", got)
		}

		leases.set(false)
		time.Sleep(3 * time.Second) // the renewal fails: the lease is lost at once
		synctest.Wait()
		if got := status("one"); got != "" {
			t.Fatalf("after losing the lease the sources still run: status %q", got)
		}
		mu.Lock()
		before := built["one"] + built["two"]
		mu.Unlock()
		time.Sleep(2 * resyncEvery)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if after := built["one"] + built["two"]; after != before {
			t.Errorf("sources built %d times after the lease was lost", after-before)
		}
	})
}

// On PostgreSQL, /readyz waits until the database has answered this replica's first request for
// the alarm lease and both LISTEN connections are in place, then names the leases held; /healthz fails when the database does not answer.
func TestProbesOfAReplica(t *testing.T) {
	srv, err := New(Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Region: "us-east-1", AccountID: "111122223333", ReplicaID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	srv.live.Store(true)
	var dbErr error
	srv.storeReady = func(context.Context) error { return dbErr }
	leases := &fakeLeases{free: true}
	srv.leases = srv.newLeases(fakeReplicas{leases})
	probe := func(h func(http.ResponseWriter, *http.Request)) (int, string) {
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest("GET", "/", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := probe(srv.readyz); code != http.StatusServiceUnavailable || body != "lease state not yet known\n" {
		t.Errorf("before the first lease answer: %d %q", code, body)
	}
	srv.leases.alarms.Step(context.Background())
	if code, body := probe(srv.readyz); code != http.StatusServiceUnavailable || body != "not yet listening to the other replicas\n" {
		t.Errorf("before listening: %d %q", code, body)
	}
	srv.listening.listened(postgres.ChannelSamples)
	srv.listening.listened(postgres.ChannelAlarms)
	if code, body := probe(srv.readyz); code != http.StatusOK || body != "ok\nreplica r1\nalarm evaluation lease: held\ningest lease: not held\n" {
		t.Errorf("after it: %d %q", code, body)
	}
	srv.shared = fakeReplicas{leases}
	if code, body := probe(srv.healthz); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz with the database answering: %d %q", code, body)
	}
	dbErr = errors.New("connection refused")
	if code, body := probe(srv.healthz); code != http.StatusServiceUnavailable || body != "database unreachable\n" {
		t.Errorf("/healthz with the database down: %d %q", code, body)
	}
}

// fakeReplicas is replicas with leases from fakeLeases and nothing else.
type fakeReplicas struct{ *fakeLeases }

func (fakeReplicas) SharedValue(context.Context, string, func() ([]byte, error)) ([]byte, bool, error) {
	return nil, false, errors.New("not in this test")
}

func (fakeReplicas) ListenSamples(ctx context.Context, _ func(metrics.Scope, []metrics.Metric)) error {
	<-ctx.Done()
	return ctx.Err()
}

func (fakeReplicas) NotifySamples(context.Context, []metrics.Sample) error { return nil }

func (fakeReplicas) ListenAlarms(ctx context.Context, _ func(alarm.AlarmKey)) error {
	<-ctx.Done()
	return ctx.Err()
}

// sharedAlarms is an alarm store two services (two replicas) share, with LoadAlarm.
type sharedAlarms struct{ *alarmtest.Memory }

func (m sharedAlarms) LoadAlarm(ctx context.Context, k alarm.AlarmKey) (*alarm.Record, error) {
	recs, err := m.LoadAlarms(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Scope == k.Scope && r.Name == k.Name {
			return r, nil
		}
	}
	return nil, nil
}

// A replica whose LISTEN connection for alarm changes was down (or not yet in place) missed the
// changes announced meanwhile: once it listens again, it reloads the alarms, so an alarm created
// through another replica in the gap is in its view (and evaluated once it leads).
func TestListeningAgainCatchesUpOnAlarms(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	srv, err := New(Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Region: "us-east-1", AccountID: "111122223333", ReplicaID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	st := sharedAlarms{alarmtest.NewMemory()}
	msvc := metrics.NewService(metricstest.NewMemory(), nil)
	here, err := alarm.NewService(ctx, st, msvc, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := alarm.NewService(ctx, st, msvc, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.wireAlarmReplicas(ctx, fakeReplicas{&fakeLeases{}}, here, &wg)
	sc := alarm.Scope{AccountID: "111122223333", Region: "us-east-1"}
	if err := other.PutMetricAlarm(ctx, sc, alarm.MetricAlarm{AlarmName: "root", Namespace: "CloudTrailMetrics", MetricName: "RootLogin",
		Statistic: "Sum", Period: new(int32(60)), EvaluationPeriods: new(int32(1)), Threshold: new(1.0), ComparisonOperator: "GreaterThanOrEqualToThreshold"}, nil); err != nil {
		t.Fatal(err)
	}
	if here.Get(sc, "root") != nil {
		t.Fatal("the alarm is in view before any catch-up: the test proves nothing")
	}
	srv.listening.listened(postgres.ChannelAlarms)
	if here.Get(sc, "root") == nil {
		t.Fatal("listening again did not reload the alarm created meanwhile")
	}
}
