package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/pattern"
)

// newCISEnv is newEnv (which installs CloudWatch.1, root usage) with the other CIS filters,
// CloudWatch.2-14, on the same log group.
func newCISEnv(t testing.TB) *env {
	t.Helper()
	e := newEnv(t, time.Now)
	for _, f := range pattern.CIS()[1:] {
		if err := e.logs.PutMetricFilter(context.Background(), testScope, logs.PutMetricFilterInput{LogGroupName: "ct", FilterName: f.Control,
			FilterPattern: f.Pattern, MetricTransformations: []logs.MetricTransformation{{MetricName: f.Control, MetricNamespace: "CloudTrailMetrics", MetricValue: "1"}}}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// loadObjects reads every file under dir as an S3 object keyed by its path below dir.
func loadObjects(b *testing.B, dir string) []object {
	var objs []object
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		objs = append(objs, object{rel, data})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return objs
}

type object struct {
	key  string
	data []byte
}

// BenchmarkObjectIngest measures the S3 path without the network: gzipped CloudTrail objects of a
// 50,000-event gen-cloudtrail corpus are decoded, batched and stored through a Sink into a fresh
// database whose log group has the 14 CIS metric filters (the root one is CloudWatch.1), by four
// workers as a source processing objects concurrently would. It checks the root sum exactly. Each
// iteration ends when compaction has merged what the appends wrote (drainCompaction): measured
// without it, the work left to the compactor made ingest look cheaper than it is.
func BenchmarkObjectIngest(b *testing.B) {
	dir, wantRoot := genS3Corpus(b, 50000)
	objs := loadObjects(b, dir)
	var (
		events, bytes int64
		cpu           time.Duration
	)
	for b.Loop() {
		b.StopTimer()
		e := newCISEnv(b)
		b.StartTimer()
		cpu0 := cpuTime()
		work := make(chan object)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range 4 {
			wg.Go(func() {
				for o := range work {
					res, err := cloudtrail.DecodeObject(o.key, o.data)
					if err != nil {
						b.Error(err)
						continue
					}
					st, err := e.sink.Deliver(context.Background(), e.dest, res)
					if err != nil {
						b.Error(err)
					}
					mu.Lock()
					events += int64(st.Stored)
					bytes += st.Bytes
					mu.Unlock()
				}
			})
		}
		for _, o := range objs {
			work <- o
		}
		close(work)
		wg.Wait()
		// The events are stored for good once compaction has merged the blocks the appends wrote:
		// its work is part of what ingest costs.
		drainCompaction(b, e)
		b.StopTimer()
		cpu += cpuTime() - cpu0
		if got := e.rootSum(b); got != float64(wantRoot) {
			b.Fatalf("root sum %v, want %d", got, wantRoot)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(bytes)/1e6/b.Elapsed().Seconds(), "MB/s")
	// CPU time per event says what the machine's cores would sustain, whatever else ran on them.
	b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
}

// drainCompaction runs compaction rounds until no hour has small blocks left to merge.
func drainCompaction(b *testing.B, e *env) {
	ctx := context.Background()
	for {
		n, err := e.db.CompactBlocks(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n > 0 {
			continue
		}
		backlog, err := e.db.CompactBacklog(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if backlog == 0 {
			return
		}
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memBucket is an in-memory S3 bucket: ListObjectsV2 returns every key (one page), GetObject the data.
type memBucket struct{ objs []object }

func (m memBucket) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	for _, o := range m.objs {
		if o.key == aws.ToString(in.Key) {
			return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(o.data))}, nil
		}
	}
	return nil, errors.New("NoSuchKey")
}

func (m memBucket) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	out := &s3.ListObjectsV2Output{}
	for _, o := range m.objs {
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(o.key)})
	}
	return out, nil
}

// BenchmarkS3SourcePoll measures the S3 source end to end without the network: one polling round
// over an in-memory bucket holding a 50,000-event gen-cloudtrail corpus (gzipped objects), into a
// fresh database whose log group has the 14 CIS metric filters: list, fetch, decode, batch, store
// with deduplication, apply the filters, record the processed objects. It checks the root sum.
func BenchmarkS3SourcePoll(b *testing.B) {
	dir, wantRoot := genS3Corpus(b, 50000)
	bucket := memBucket{loadObjects(b, dir)}
	var (
		events, size int64
		cpu          time.Duration
	)
	for b.Loop() {
		b.StopTimer()
		e := newCISEnv(b)
		src := &S3Source{Name: "bench", Bucket: "b", S3: bucket, Log: e.db, Sink: e.sink, Dest: e.dest}
		b.StartTimer()
		cpu0 := cpuTime()
		st, err := src.Round(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		events += int64(st.Stored)
		size += st.Bytes
		b.StopTimer()
		cpu += cpuTime() - cpu0
		if got := e.rootSum(b); got != float64(wantRoot) || st.Stored != 50000 {
			b.Fatalf("root sum %v (want %d), %+v", got, wantRoot, st)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/1e6/b.Elapsed().Seconds(), "MB/s")
	b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
}
