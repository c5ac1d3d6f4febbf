package app

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/ingest"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/store/postgres"
	"github.com/trailwatch/trailwatch/internal/trail"
)

// This file is the server's side of running as one replica among several on PostgreSQL
// (issue 16): which replica evaluates alarms and runs the trail sources (leases), how the others
// hear of new datapoints and changed alarms (LISTEN/NOTIFY), and which replica runs a periodic
// sweep (rounds). With SQLite (backend.Replicas nil) none of it runs and the process does all.

// listenRetry is the pause before a failed LISTEN connection is opened again. Notifications sent
// meanwhile are missed; the regular rounds cover them (an early evaluation becomes a regular one,
// an alarm view is refreshed at the next change or restart).
const listenRetry = time.Second

// replicaLeases are the leases of this replica, nil with SQLite.
type replicaLeases struct {
	alarms, ingest *postgres.Leader
	// answered is set once the database has answered a request for the alarm lease (granted or
	// not): from then on this replica knows whether it leads, which /readyz waits for.
	answered atomic.Bool
}

// known reports whether the lease state is known (always, without replicas).
func (l *replicaLeases) known() bool { return l == nil || l.answered.Load() }

// listeners records which LISTEN connections of this replica have been in place (postgres
// Options.OnListening): /readyz waits for both, or an alarm changed or a datapoint announced by
// another replica meanwhile would go unheard.
type listeners struct {
	samples, alarms atomic.Bool
	// onSamples and onAlarms, once set (wireAlarmReplicas), catch up on what was announced while
	// the channel was not listened to; they run each time its LISTEN is in place, the first one
	// included (changes made between the alarm service's load and the first LISTEN were missed
	// too).
	onSamples, onAlarms atomic.Pointer[func()]
}

// listened is postgres.Options.OnListening.
func (l *listeners) listened(channel string) {
	var catchUp *func()
	switch channel {
	case postgres.ChannelSamples:
		l.samples.Store(true)
		catchUp = l.onSamples.Load()
	case postgres.ChannelAlarms:
		l.alarms.Store(true)
		catchUp = l.onAlarms.Load()
	}
	if catchUp != nil {
		(*catchUp)()
	}
}

// all reports whether both listeners have been in place.
func (l *listeners) all() bool { return l.samples.Load() && l.alarms.Load() }

// answeringLeaser is the replicas' lease calls with the first answer recorded.
type answeringLeaser struct {
	replicas
	answered *atomic.Bool
}

// TryLease implements postgres.Leader's leaser.
func (a answeringLeaser) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (postgres.Grant, bool, error) {
	g, ok, err := a.replicas.TryLease(ctx, name, holder, ttl)
	if err == nil {
		a.answered.Store(true)
	}
	return g, ok, err
}

// newLeases builds this replica's leases over rep.
func (s *Server) newLeases(rep replicas) *replicaLeases {
	l := &replicaLeases{}
	leaser := answeringLeaser{replicas: rep, answered: &l.answered}
	logChange := func(name string) func(bool, postgres.Grant) {
		return func(held bool, g postgres.Grant) {
			if held {
				s.logger.Info("lease gained", "lease", name, "token", g.Token, "replica", s.replicaID())
			} else {
				s.logger.Warn("lease lost", "lease", name, "replica", s.replicaID())
			}
		}
	}
	l.alarms = &postgres.Leader{DB: leaser, Name: leaseAlarms, Holder: s.replicaID(), TTL: s.opts.LeaseTTL, OnChange: logChange(leaseAlarms)}
	l.ingest = &postgres.Leader{DB: leaser, Name: leaseIngest, Holder: s.replicaID(), TTL: s.opts.LeaseTTL, OnChange: logChange(leaseIngest)}
	return l
}

// wireAlarmReplicas puts the alarm service under the evaluation lease (every transition its
// scheduler writes carries the lease's fence), keeps its in-memory view of the alarms current
// with the other replicas' changes, and has it evaluate early on datapoints stored by any
// replica. It returns the hook that announces this replica's own new samples. Run before the
// scheduler starts.
func (s *Server) wireAlarmReplicas(ctx context.Context, rep replicas, alarmSvc *alarm.Service, wg *sync.WaitGroup) func([]metrics.Sample) {
	s.leases = s.newLeases(rep)
	alarmSvc.Leader = s.leases.alarms
	// A replica that gains the lease evaluates every alarm at once, off the lease's goroutine (a
	// round of many alarms must not delay the renewals): the datapoints announced while another
	// replica led or none did, and those the last leader may not have evaluated before it died,
	// are judged now (alarm.Service.TakeOver: a regular round and an early pass, since a regular
	// round alone misses the current minute's datapoints) rather than at the next minute's round.
	logChange := s.leases.alarms.OnChange
	s.leases.alarms.OnChange = func(held bool, g postgres.Grant) {
		logChange(held, g)
		if held {
			wg.Go(func() { alarmSvc.TakeOver(ctx) })
		}
	}
	wg.Go(func() { s.leases.alarms.Run(ctx) })
	// Notifications sent while a LISTEN connection was down are lost: once it is in place again,
	// the alarms are reloaded (an alarm created through another replica meanwhile would otherwise
	// never be evaluated here) and the lease holder evaluates every alarm early (datapoints
	// announced meanwhile would otherwise wait for the next minute's round).
	s.listening.onAlarms.Store(new(func() {
		if err := alarmSvc.RefreshAll(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("reloading the alarms after listening again failed", "err", err)
		}
	}))
	s.listening.onSamples.Store(new(func() {
		if _, held := s.leases.alarms.Held(); held {
			wg.Go(func() { alarmSvc.TakeOver(ctx) })
		}
	}))
	listenLoop(ctx, wg, s, "samples", func(ctx context.Context) error {
		return rep.ListenSamples(ctx, func(sc metrics.Scope, ms []metrics.Metric) { alarmSvc.OnMetricData(sc, ms) })
	})
	listenLoop(ctx, wg, s, "alarms", func(ctx context.Context) error {
		return rep.ListenAlarms(ctx, func(k alarm.AlarmKey) {
			if err := alarmSvc.Refresh(ctx, k); err != nil && ctx.Err() == nil {
				s.logger.Warn("refreshing an alarm changed by another replica failed", "alarm", k.Name, "err", err)
			}
		})
	})
	a := &sampleAnnouncer{rep: rep, queue: make(chan []metrics.Sample, announceQueue), s: s}
	wg.Go(func() { a.run(ctx) })
	return a.announce
}

// listenLoop keeps listen running on wg until ctx ends, opening it again listenRetry after it
// fails.
func listenLoop(ctx context.Context, wg *sync.WaitGroup, s *Server, what string, listen func(context.Context) error) {
	wg.Go(func() {
		for ctx.Err() == nil {
			if err := listen(ctx); err != nil && ctx.Err() == nil {
				s.logger.Warn("listening to the other replicas failed; retrying", "channel", what, "err", err)
			}
			t := time.NewTimer(listenRetry)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
	})
}

// announceQueue bounds the batches of samples waiting to be announced. A full queue drops a batch
// (logged): ingestion never waits for the announcement, and the lease holder's regular round
// evaluates the dropped metrics within a minute.
const announceQueue = 256

// sampleAnnouncer announces this replica's new samples to the other replicas (NotifySamples)
// off the ingest path.
type sampleAnnouncer struct {
	rep   replicas
	queue chan []metrics.Sample
	s     *Server
}

// announce queues samples for announcement; it never blocks.
func (a *sampleAnnouncer) announce(samples []metrics.Sample) {
	select {
	case a.queue <- samples:
	default:
		a.s.logger.Warn("announcement queue full: new datapoints wait for the next regular alarm round", "samples", len(samples))
	}
}

func (a *sampleAnnouncer) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case samples := <-a.queue:
			if err := a.rep.NotifySamples(ctx, samples); err != nil && ctx.Err() == nil {
				a.s.logger.Warn("announcing new datapoints to the replicas failed", "err", err)
			}
		}
	}
}

// claimRound reports whether this replica runs the round of job name starting at slot; a failed
// claim is logged and skips the round (the next one is claimed again).
func (s *Server) claimRound(ctx context.Context, db backend, name string, slot time.Time) bool {
	ok, err := db.ClaimRound(ctx, name, slot)
	if err != nil {
		s.logger.Warn("claiming a round failed; skipping it", "job", name, "err", err)
		return false
	}
	return ok
}

// trailSources runs the S3/SQS sources of the trails on this replica while it may: always with
// SQLite, and on PostgreSQL only while it holds the ingest lease, so that one replica at a time
// reads the buckets and queues. Trail changes made on this replica are applied at once; those
// made on another reach the lease holder at its next resync (resyncEvery).
type trailSources struct {
	newSource func(trail.Scope, trail.Trail) (*ingest.S3Source, error)
	load      func(context.Context) ([]scopedTrail, error)
	ctx       context.Context
	wg        *sync.WaitGroup
	s         *Server

	mu     sync.Mutex
	runner *ingest.TrailRunner // nil while another replica runs the sources
	cancel context.CancelFunc
	known  map[trailKey]bool
}

// resyncEvery is how often the ingest lease holder reloads the trails, for changes made through
// another replica.
const resyncEvery = 30 * time.Second

// start runs the sources here (SQLite, or on gaining the ingest lease) and applies every stored
// trail.
func (ts *trailSources) start(ctx context.Context) error {
	ts.mu.Lock()
	if ts.runner == nil {
		rctx, cancel := context.WithCancel(ts.ctx)
		ts.runner, ts.cancel = ingest.NewTrailRunner(rctx, ts.wg, ts.newSource, ts.s.logger), cancel
		ts.known = map[trailKey]bool{}
	}
	ts.mu.Unlock()
	return ts.resync(ctx)
}

// stop stops every source here (on losing the ingest lease).
func (ts *trailSources) stop() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.cancel != nil {
		ts.cancel()
	}
	ts.runner, ts.cancel, ts.known = nil, nil, nil
}

// resync applies the stored trails to the running sources: new and changed trails start or
// restart their source, deleted ones stop it.
func (ts *trailSources) resync(ctx context.Context) error {
	all, err := ts.load(ctx)
	if err != nil {
		return err
	}
	seen := map[trailKey]bool{}
	for _, st := range all {
		t := st.Trail
		seen[trailKey{Scope: st.Scope, Name: t.Name}] = true
		ts.Apply(st.Scope, t.Name, &t)
	}
	ts.mu.Lock()
	var gone []trailKey
	for k := range ts.known {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	ts.mu.Unlock()
	for _, k := range gone {
		ts.Apply(k.Scope, k.Name, nil)
	}
	return nil
}

// Apply is trail.Service's OnChange for the sources: it reaches the runner when this replica
// runs the sources, and is dropped otherwise (the lease holder picks the change up at its next
// resync).
func (ts *trailSources) Apply(sc trail.Scope, name string, t *trail.Trail) {
	ts.mu.Lock()
	r := ts.runner
	if r != nil {
		k := trailKey{Scope: sc, Name: name}
		if t == nil {
			delete(ts.known, k)
		} else {
			ts.known[k] = true
		}
	}
	ts.mu.Unlock()
	if r != nil {
		r.Apply(sc, name, t)
	}
}

// Status is trail.Service's Status: what this replica's source has seen, or nothing when
// another replica runs the sources.
func (ts *trailSources) Status(sc trail.Scope, name string) trail.RuntimeStatus {
	ts.mu.Lock()
	r := ts.runner
	ts.mu.Unlock()
	if r == nil {
		return trail.RuntimeStatus{}
	}
	return r.Status(sc, name)
}

// follow runs the sources while lease is held: it starts them on gaining it, resyncs them every
// resyncEvery while holding it, and stops them on losing it, checking every check interval.
func (ts *trailSources) follow(ctx context.Context, lease *postgres.Leader, check time.Duration) {
	tick := time.NewTicker(check)
	defer tick.Stop()
	running := false
	var lastSync time.Time
	for {
		_, held := lease.Held()
		switch {
		case held && !running:
			if err := ts.start(ctx); err != nil {
				ts.s.logger.Warn("loading trails failed", "err", err)
			}
			running, lastSync = true, time.Now()
		case held && time.Since(lastSync) >= resyncEvery:
			if err := ts.resync(ctx); err != nil {
				ts.s.logger.Warn("loading trails failed", "err", err)
			}
			lastSync = time.Now()
		case !held && running:
			ts.stop()
			running = false
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// trailKey names one trail across scopes.
type trailKey struct {
	Scope trail.Scope
	Name  string
}
