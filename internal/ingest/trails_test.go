package ingest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwatch/trailwatch/internal/trail"
)

// blockingBucket is an S3 stand-in whose listing waits until its caller gives up: a source
// polling it stays in ListObjectsV2, so active counts the sources running.
type blockingBucket struct{ active *atomic.Int32 }

func (b blockingBucket) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, errors.New("NoSuchKey")
}

func (b blockingBucket) ListObjectsV2(ctx context.Context, _ *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	b.active.Add(1)
	defer b.active.Add(-1)
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestTrailRunnerApplyIsIdempotent is issue 11's orphaned source: Applies of the same trail at
// once leave exactly one source running, applying the running configuration again neither adds
// nor restarts one, a changed configuration replaces it, and a stopped trail's source stops.
func TestTrailRunnerApplyIsIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var active, created atomic.Int32
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()
		r := NewTrailRunner(ctx, &wg, func(_ trail.Scope, tr trail.Trail) (*S3Source, error) {
			created.Add(1)
			// Building a source takes time (AWS clients): every concurrent Apply gets this far
			// before any of them finishes.
			time.Sleep(time.Millisecond)
			return &S3Source{Name: tr.Name, Bucket: tr.S3BucketName, S3: blockingBucket{&active},
				Log: &memLog{done: map[string]bool{}}, Sink: &countingSink{}}, nil
		}, nil)
		sc := trail.Scope{AccountID: "111122223333", Region: "us-east-1"}
		on := trail.Trail{Name: "main", S3BucketName: "b", Logging: true,
			CloudWatchLogsLogGroupArn: "arn:aws:logs:us-east-1:111122223333:log-group:ct"}
		check := func(step string, wantActive, wantCreated int32) {
			t.Helper()
			synctest.Wait()
			if a, c := active.Load(), created.Load(); a != wantActive || c != wantCreated {
				t.Fatalf("%s: %d sources running, %d built; want %d running, %d built", step, a, c, wantActive, wantCreated)
			}
		}
		var applies sync.WaitGroup
		for range 8 {
			applies.Go(func() { tr := on; r.Apply(sc, "main", &tr) })
		}
		applies.Wait()
		check("8 concurrent applies", 1, 1)
		tr := on
		r.Apply(sc, "main", &tr)
		check("the same configuration again", 1, 1)
		// Event selectors are recorded, not applied to ingest (trail.Selectors): new ones neither
		// restart nor rebuild the source, which goes on reading every record in the bucket.
		writeOnly := on
		writeOnly.Selectors = &trail.Selectors{Basic: []trail.EventSelector{{ReadWriteType: trail.ReadWriteWriteOnly, IncludeManagementEvents: true}}}
		r.Apply(sc, "main", &writeOnly)
		check("write-only event selectors", 1, 1)
		moved := on
		moved.S3KeyPrefix = "org"
		r.Apply(sc, "main", &moved)
		check("a new prefix", 1, 2)
		stopped := moved
		stopped.Logging = false
		for range 4 {
			applies.Go(func() { tr := stopped; r.Apply(sc, "main", &tr) })
		}
		applies.Wait()
		check("stopped", 0, 2)
		if st := r.Status(sc, "main"); st != (trail.RuntimeStatus{}) {
			t.Fatalf("status of a stopped trail: %+v", st)
		}
	})
}
