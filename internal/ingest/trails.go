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
type TrailRunner struct {
	// NewSource builds the source of a trail (clients, destination); an error is reported as the
	// trail's delivery error.
	NewSource func(sc trail.Scope, t trail.Trail) (*S3Source, error)
	Logger    *slog.Logger

	ctx     context.Context
	wg      *sync.WaitGroup
	mu      sync.Mutex
	running map[runKey]*run
	failed  map[runKey]string
}

type runKey struct {
	scope trail.Scope
	name  string
}

type run struct {
	src    *S3Source
	cancel context.CancelFunc
	done   chan struct{}
}

// NewTrailRunner returns a runner whose sources live until ctx is cancelled, tracked by wg.
func NewTrailRunner(ctx context.Context, wg *sync.WaitGroup, newSource func(trail.Scope, trail.Trail) (*S3Source, error), logger *slog.Logger) *TrailRunner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &TrailRunner{NewSource: newSource, Logger: logger, ctx: ctx, wg: wg, running: map[runKey]*run{}, failed: map[runKey]string{}}
}

// Apply starts, restarts or stops the source of a trail after a change (t nil: deleted).
func (r *TrailRunner) Apply(sc trail.Scope, name string, t *trail.Trail) {
	k := runKey{sc, name}
	r.mu.Lock()
	old := r.running[k]
	delete(r.running, k)
	delete(r.failed, k)
	r.mu.Unlock()
	if old != nil {
		old.cancel()
		<-old.done
	}
	if t == nil || !t.Logging || t.S3BucketName == "" || t.CloudWatchLogsLogGroupArn == "" {
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
	rn := &run{src: src, cancel: cancel, done: make(chan struct{})}
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
