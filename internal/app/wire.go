package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/awsapi/logsapi"
	"github.com/trailwatch/trailwatch/internal/awsapi/monitoringapi"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// retentionSweepEvery is how often events past their log group's retention, and alarm history past
// alarm.HistoryRetention, are deleted. Reads already hide what has expired, so the sweep only
// reclaims space and can be infrequent.
const retentionSweepEvery = time.Minute

// metricRollupEvery is how often the retention sweep also rolls up and expires metric data as
// CloudWatch's retention schedule says (metrics.Service.Compact). Reads apply the schedule themselves,
// and data ages into a rollup five minutes at a time, so hourly only bounds the space kept.
const metricRollupEvery = time.Hour

// wire builds the domain services over the database and returns the AWS services the API serves. Background
// work it starts runs until ctx is cancelled and is tracked by wg.
func (s *Server) wire(ctx context.Context, db backend, cred Credential, wg *sync.WaitGroup) ([]*awsapi.Service, error) {
	metricsSvc := metrics.NewService(db.MetricStore(), s.now)
	logsSvc := logs.NewService(db.LogStore(), s.now)
	logsSvc.Logger = s.logger

	alarmSvc, err := alarm.NewService(ctx, db, metricsSvc, s.now)
	if err != nil {
		return nil, fmt.Errorf("load alarms: %w", err)
	}
	alarmSvc.OnError = func(err error) { s.logger.Warn("alarm evaluation failed", "err", err) }
	onSamples := alarmSvc.OnSamples
	if rep := db.Replicas(); rep != nil {
		// Several replicas: the lease holder evaluates, and hears of samples stored here.
		// The samples are announced unless this replica holds the lease: it evaluates them itself,
		// and should it lose the lease now, its successor gains it only after this replica's
		// grant ended (Leader.Held turns false before the database's expiry), then evaluates
		// every alarm at once (wireAlarmReplicas), seeing these samples, committed before.
		announce := s.wireAlarmReplicas(ctx, rep, alarmSvc, wg)
		onSamples = func(samples []metrics.Sample) {
			alarmSvc.OnSamples(samples)
			if _, held := s.leases.alarms.Held(); !held {
				announce(samples)
			}
		}
	}
	logsSvc.OnSamples = s.countMatches(onSamples)
	if s.tel != nil {
		logsSvc.OnPutLogEvents = s.observePutLogEvents
		alarmSvc.OnEvaluated = s.tel.AlarmEvaluated
		s.tel.RegisterState(storeState{db: db, alarms: alarmSvc})
	}
	if s.sns != nil {
		onSamples := alarmSvc.OnSamples
		s.sns.metrics.onSamples.Store(&onSamples)
	}
	// Alarm actions go through the durable outbox to SNS (wireSNS ran before, see Run); without it
	// they would stay pending (alarm.NoPublisher). Transient publish failures are retried with
	// backoff and logged through OnError.
	dispatcher := alarm.NewDispatcher(db.ActionQueue(), s.alarmPublisher(logsSvc), s.now)
	dispatcher.OnError = func(err error) { s.logger.Warn("alarm action dispatch failed", "err", err) }
	alarmSvc.OnActions = dispatcher.Notify
	wg.Go(func() { _ = alarmSvc.Run(ctx) })
	wg.Go(func() { _ = dispatcher.Run(ctx) })

	var lastRollup time.Time // only the sweep goroutine uses it
	every(ctx, wg, retentionSweepEvery, func() {
		// One replica sweeps each minute's round (always this process with SQLite).
		if !s.claimRound(ctx, db, roundRetention, s.now().Truncate(retentionSweepEvery)) {
			return
		}
		if n, err := logsSvc.ExpireEvents(ctx, s.now()); err != nil {
			s.logger.Warn("retention sweep failed", "err", err)
		} else if n > 0 {
			s.logger.Info("retention sweep deleted expired events", "events", n)
		}
		if n, err := alarmSvc.ExpireHistory(ctx); err != nil {
			s.logger.Warn("retention sweep failed", "err", err)
		} else if n > 0 {
			s.logger.Info("retention sweep deleted expired alarm history", "items", n)
		}
		// The first sweep compacts too, so that a server restarted more often than hourly still does.
		if now := s.now(); lastRollup.IsZero() || now.Sub(lastRollup) >= metricRollupEvery {
			lastRollup = now
			if !s.claimRound(ctx, db, roundCompaction, now.Truncate(metricRollupEvery)) {
				return // another replica compacted this hour
			}
			if n, err := metricsSvc.Compact(ctx); err != nil {
				s.logger.Warn("metric rollup failed", "err", err)
			} else if n > 0 {
				s.logger.Info("metric rollup merged or expired stored datapoints", "aggregates", n)
			}
		}
	})

	ingestServices, routes, trails, err := s.wireIngest(ctx, db, logsSvc, wg, s.opts.Ingest)
	if err != nil {
		return nil, fmt.Errorf("wire CloudTrail ingest: %w", err)
	}
	s.ingestRoutes = routes
	s.extendAPI(ingestServices)
	if s.console, err = s.wireConsole(ctx, db, consoleParts{alarms: alarmSvc, metrics: metricsSvc, logs: logsSvc, trails: trails}, cred, wg); err != nil {
		return nil, fmt.Errorf("wire the console: %w", err)
	}
	return append([]*awsapi.Service{
		logsapi.NewService(logsSvc),
		monitoringapi.NewService(metricsSvc, monitoringapi.AlarmOperations(metricsSvc, alarmSvc)),
	}, ingestServices...), nil
}

// every runs fn on wg each interval until ctx ends: the server's periodic sweeps. The ticker is
// real time on purpose; what fn does is decided by the injected clock (s.now).
func every(ctx context.Context, wg *sync.WaitGroup, interval time.Duration, fn func()) {
	wg.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				fn()
			}
		}
	})
}
