package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/ingest"
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
