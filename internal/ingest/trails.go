package ingest

import (
	"context"
	"log/slog"
	"sync"

	"github.com/trailwatch/trailwatch/internal/trail"
)

// TrailRunner runs one S3Source per logging trail that names a bucket and a log group, and
// restarts or stops it when the trail changes. Its Apply and Status methods are the trail
// service's OnChange and Status hooks.
//
// Apply is idempotent and safe to call concurrently: the Applies of one trail are serialised
// (a lock per trail, held while the old source stops and the new one is built), and a trail
// whose source already runs with the same configuration keeps it. So whatever the interleaving,
// one trail has at most one source, and the last Apply decides whether it runs.
type TrailRunner struct {
	// NewSource builds the source of a trail (clients, destination); an error is reported as the
	// trail's delivery error.
	NewSource func(sc trail.Scope, t trail.Trail) (*S3Source, error)
	Logger    *slog.Logger

	ctx     context.Context
	wg      *sync.WaitGroup
	mu      sync.Mutex // guards running, failed and applying
	running map[runKey]*run
	failed  map[runKey]string
	// applying holds one lock per trail ever applied (a few bytes each; trails are few): a
	// channel of capacity 1, taken by sending and released by receiving.
	applying map[runKey]chan struct{}
}

type runKey struct {
	scope trail.Scope
	name  string
}

type run struct {
	src    *S3Source
	conf   sourceConf
	cancel context.CancelFunc
	done   chan struct{}
}

// sourceConf is what a trail's source is built from: a change of any of it restarts the source.
type sourceConf struct {
	bucket, prefix, queue, group string
}

func confOf(t *trail.Trail) sourceConf {
	return sourceConf{t.S3BucketName, t.S3KeyPrefix, t.SqsQueueURL, t.CloudWatchLogsLogGroupArn}
}

// NewTrailRunner returns a runner whose sources live until ctx is cancelled, tracked by wg.
func NewTrailRunner(ctx context.Context, wg *sync.WaitGroup, newSource func(trail.Scope, trail.Trail) (*S3Source, error), logger *slog.Logger) *TrailRunner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &TrailRunner{NewSource: newSource, Logger: logger, ctx: ctx, wg: wg,
		running: map[runKey]*run{}, failed: map[runKey]string{}, applying: map[runKey]chan struct{}{}}
}

// Apply makes a trail's source match the trail after a change (t nil: deleted): started if the
// trail is logging with a bucket and a log group, kept if it already runs with this
// configuration, restarted if the configuration changed, stopped (and waited for) otherwise.
func (r *TrailRunner) Apply(sc trail.Scope, name string, t *trail.Trail) {
	k := runKey{sc, name}
	r.mu.Lock()
	l := r.applying[k]
	if l == nil {
		l = make(chan struct{}, 1)
		r.applying[k] = l
	}
	r.mu.Unlock()
	l <- struct{}{}
	defer func() { <-l }()

	r.mu.Lock()
	old := r.running[k]
	r.mu.Unlock()
	want := t != nil && t.Logging && t.S3BucketName != "" && t.CloudWatchLogsLogGroupArn != ""
	if want && old != nil && old.conf == confOf(t) {
		return
	}
	r.mu.Lock()
	delete(r.running, k)
	delete(r.failed, k)
	r.mu.Unlock()
	if old != nil {
		old.cancel()
		<-old.done
	}
	if !want {
		return
	}
	src, err := r.NewSource(sc, *t)
	if err != nil {
		r.mu.Lock()
		r.failed[k] = err.Error()
		r.mu.Unlock()
		r.Logger.Warn("cannot start trail source", "trail", name, "err", err)
		return
	}
	ctx, cancel := context.WithCancel(r.ctx)
	rn := &run{src: src, conf: confOf(t), cancel: cancel, done: make(chan struct{})}
	r.mu.Lock()
	r.running[k] = rn
	r.mu.Unlock()
	r.wg.Go(func() {
		defer close(rn.done)
		_ = src.Run(ctx)
	})
}

// Status reports a trail's delivery as its source has seen it.
func (r *TrailRunner) Status(sc trail.Scope, name string) trail.RuntimeStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := runKey{sc, name}
	if msg, ok := r.failed[k]; ok {
		return trail.RuntimeStatus{LatestDeliveryError: msg}
	}
	rn := r.running[k]
	if rn == nil {
		return trail.RuntimeStatus{}
	}
	st := rn.src.Status()
	return trail.RuntimeStatus{LatestDeliveryTime: st.LatestDelivery, LatestDeliveryError: st.LatestError}
}
