package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/awsapi/cloudtrailapi"
	"github.com/trailwatch/trailwatch/internal/awsclient"
	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/ingest"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/internal/trail"
)

// HTTP paths of the delivery endpoints, served beside the AWS API on the same listener.
const (
	EventBridgePath = "/ingest/eventbridge"
	FirehosePath    = "/ingest/firehose"
)

// IngestOptions configures trailwatch's CloudTrail sources. Trails (the CloudTrail API) configure
// the S3 sources; these options say how to reach S3 and SQS and turn on the HTTP endpoints.
type IngestOptions struct {
	// AWSEndpoint overrides the S3 and SQS endpoint (moto, LocalStack, a VPC endpoint); "" uses
	// AWS's. Credentials always come from the standard AWS chain (environment, shared files, IMDS).
	AWSEndpoint string
	// AWSRegion is the region of the S3 and SQS clients; "" takes it from the AWS chain, then the
	// server's region.
	AWSRegion string
	// PollInterval is how long a source waits after a round that found nothing or failed.
	PollInterval time.Duration
	// WaitSeconds is the SQS long-poll wait (0 to 20).
	WaitSeconds int

	// EventBridgeLogGroup, with EventBridgeHeader and EventBridgeKey, turns on the EventBridge API
	// destination endpoint at EventBridgePath, delivering to that log group of the server's
	// account and region.
	EventBridgeLogGroup, EventBridgeHeader, EventBridgeKey string
	// FirehoseLogGroup, with FirehoseAccessKey, turns on the Firehose HTTP endpoint at FirehosePath.
	FirehoseLogGroup, FirehoseAccessKey string
}

// DefaultIngestOptions returns the ingest defaults, with the endpoint keys taken from
// TRAILWATCH_EVENTBRIDGE_KEY and TRAILWATCH_FIREHOSE_KEY (secrets are not flags, which other users
// of the machine can read in the process list).
func DefaultIngestOptions() IngestOptions {
	return IngestOptions{
		PollInterval:      time.Minute,
		WaitSeconds:       20,
		EventBridgeHeader: "x-trailwatch-api-key",
		EventBridgeKey:    os.Getenv("TRAILWATCH_EVENTBRIDGE_KEY"),
		FirehoseAccessKey: os.Getenv("TRAILWATCH_FIREHOSE_KEY"),
	}
}

// RegisterFlags adds the ingest flags to the serve command's flag set.
func (o *IngestOptions) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.AWSEndpoint, "aws-endpoint", o.AWSEndpoint, "S3 and SQS endpoint `URL` for trail sources (default: AWS)")
	fs.StringVar(&o.AWSRegion, "aws-region", o.AWSRegion, "`region` of the S3 and SQS clients (default: AWS chain, then --region)")
	fs.DurationVar(&o.PollInterval, "poll-interval", o.PollInterval, "pause of a trail source after a round without work")
	fs.StringVar(&o.EventBridgeLogGroup, "eventbridge-log-group", o.EventBridgeLogGroup, "log group `name` for EventBridge API destination deliveries at "+EventBridgePath+" (key: TRAILWATCH_EVENTBRIDGE_KEY)")
	fs.StringVar(&o.EventBridgeHeader, "eventbridge-header", o.EventBridgeHeader, "API key header `name` of the EventBridge connection")
	fs.StringVar(&o.FirehoseLogGroup, "firehose-log-group", o.FirehoseLogGroup, "log group `name` for Firehose HTTP endpoint deliveries at "+FirehosePath+" (key: TRAILWATCH_FIREHOSE_KEY)")
}

func (o *IngestOptions) validate() error {
	var errs []error
	if o.EventBridgeLogGroup != "" && (o.EventBridgeHeader == "" || o.EventBridgeKey == "") {
		errs = append(errs, errors.New("--eventbridge-log-group needs --eventbridge-header and TRAILWATCH_EVENTBRIDGE_KEY"))
	}
	if o.FirehoseLogGroup != "" && o.FirehoseAccessKey == "" {
		errs = append(errs, errors.New("--firehose-log-group needs TRAILWATCH_FIREHOSE_KEY"))
	}
	if o.WaitSeconds < 0 || o.WaitSeconds > 20 {
		errs = append(errs, errors.New("the SQS wait must be 0 to 20 seconds"))
	}
	return errors.Join(errs...)
}

// wireIngest builds the CloudTrail side of the server: the trail service and its API, the S3
// sources of logging trails (started now and on every trail change), the EventBridge and
// Firehose endpoints, and record-group deduplication on logsSvc. It must run before the server
// accepts requests. Sources run until ctx is cancelled, tracked by wg.
func (s *Server) wireIngest(ctx context.Context, db backend, logsSvc *logs.Service, wg *sync.WaitGroup, opts IngestOptions) ([]*awsapi.Service, map[string]http.Handler, *trail.Service, error) {
	if err := opts.validate(); err != nil {
		return nil, nil, nil, err
	}
	sink := ingest.NewSink(logsSvc, s.now)
	trails := trail.NewService(db, s.now)
	trails.LogGroupExists = func(ctx context.Context, sc trail.Scope, name string) (bool, error) {
		_, err := db.LogStore().GetLogGroup(ctx, logs.Scope(sc), name)
		if errors.Is(err, logs.ErrLogGroupNotFound) {
			return false, nil
		}
		return err == nil, err
	}

	// A log group a trail delivers to deduplicates PutLogEvents by eventID, like trailwatch's own
	// sources: a file ingested twice through the API is counted once.
	logsSvc.RecordKey = func(msg string) string {
		r, err := cloudtrail.ParseRecord([]byte(msg))
		if err != nil {
			return ""
		}
		return r.DedupKey()
	}
	logsSvc.IsRecordGroup = func(ctx context.Context, sc logs.Scope, group string) (bool, error) {
		ts, err := db.ListTrails(ctx, trail.Scope(sc))
		if err != nil {
			return false, err
		}
		for _, t := range ts {
			if g, ok := trail.LogGroupName(trail.Scope(sc), t.CloudWatchLogsLogGroupArn); ok && g == group {
				return true, nil
			}
		}
		return false, nil
	}

	var clientsOnce sync.Once
	var s3c *s3.Client
	var sqsc *sqs.Client
	var clientsErr error
	clients := func() (*s3.Client, *sqs.Client, error) {
		clientsOnce.Do(func() {
			var cfgOpts []func(*config.LoadOptions) error
			if opts.AWSRegion != "" {
				cfgOpts = append(cfgOpts, config.WithRegion(opts.AWSRegion))
			}
			cfg, err := config.LoadDefaultConfig(ctx, cfgOpts...)
			if err != nil {
				clientsErr = fmt.Errorf("load AWS configuration: %w", err)
				return
			}
			cfg.HTTPClient = awsclient.Wrap(cfg.HTTPClient)
			if cfg.Region == "" {
				cfg.Region = s.opts.Region
			}
			s3c = s3.NewFromConfig(cfg, func(o *s3.Options) {
				if opts.AWSEndpoint != "" {
					o.BaseEndpoint = aws.String(opts.AWSEndpoint)
					o.UsePathStyle = true
				}
			})
			sqsc = sqs.NewFromConfig(cfg, func(o *sqs.Options) {
				if opts.AWSEndpoint != "" {
					o.BaseEndpoint = aws.String(opts.AWSEndpoint)
				}
			})
		})
		return s3c, sqsc, clientsErr
	}
	newSource := func(sc trail.Scope, t trail.Trail) (*ingest.S3Source, error) {
		group, ok := trail.LogGroupName(sc, t.CloudWatchLogsLogGroupArn)
		if !ok {
			return nil, fmt.Errorf("invalid CloudWatchLogsLogGroupArn %q", t.CloudWatchLogsLogGroupArn)
		}
		s3c, sqsc, err := clients()
		if err != nil {
			return nil, err
		}
		prefix := t.S3KeyPrefix
		if prefix != "" && prefix[len(prefix)-1] != '/' {
			prefix += "/"
		}
		return &ingest.S3Source{
			Name: trail.ARN(sc, t.Name), Bucket: t.S3BucketName, Prefix: prefix, QueueURL: t.SqsQueueURL,
			S3: s3c, SQS: sqsc, Log: db, Sink: s.observeSink(sink, trailSource(t.SqsQueueURL)), Dest: ingest.Destination{Scope: logs.Scope(sc), LogGroup: group},
			Interval: opts.PollInterval, WaitSeconds: int32(opts.WaitSeconds), Now: s.now,
			OnError: func(err error) { s.logger.Warn("trail source round failed", "trail", t.Name, "err", err) },
		}, nil
	}
	sources := &trailSources{newSource: newSource, load: db.TrailsToRun, ctx: ctx, wg: wg, s: s}
	trails.Status = sources.Status
	trails.OnChange = func(sc trail.Scope, name string, t *trail.Trail) {
		// The group a trail delivered to, and the one it delivers to now, change their dedup flag.
		if t != nil {
			if g, ok := trail.LogGroupName(sc, t.CloudWatchLogsLogGroupArn); ok {
				logsSvc.Forget(logs.Scope(sc), g)
			}
		}
		sources.Apply(sc, name, t)
	}
	if s.leases == nil {
		// The only process runs every source.
		if err := sources.start(ctx); err != nil {
			return nil, nil, nil, fmt.Errorf("load trails: %w", err)
		}
	} else {
		// One replica at a time, the ingest lease's holder, runs them.
		wg.Go(func() { s.leases.ingest.Run(ctx) })
		wg.Go(func() { sources.follow(ctx, s.leases.ingest, time.Second) })
	}

	routes := map[string]http.Handler{}
	home := ingest.Destination{Scope: logs.Scope{AccountID: s.opts.AccountID, Region: s.opts.Region}}
	if opts.EventBridgeLogGroup != "" {
		d := home
		d.LogGroup = opts.EventBridgeLogGroup
		routes[EventBridgePath] = &ingest.EventBridgeHandler{Sink: s.endpoints.wrap("EventBridge", EventBridgePath, d.LogGroup, s.observeSink(sink, telemetry.SourceEventBridge)), Dest: d, HeaderName: opts.EventBridgeHeader, APIKey: opts.EventBridgeKey, Logger: s.logger}
	}
	if opts.FirehoseLogGroup != "" {
		d := home
		d.LogGroup = opts.FirehoseLogGroup
		routes[FirehosePath] = &ingest.FirehoseHandler{Sink: s.endpoints.wrap("Firehose", FirehosePath, d.LogGroup, s.observeSink(sink, telemetry.SourceFirehose)), Dest: d, AccessKey: opts.FirehoseAccessKey, Now: s.now, Logger: s.logger}
	}
	return []*awsapi.Service{cloudtrailapi.NewService(trails), backfillService(db.MetricStore(), logsSvc, s.now)}, routes, trails, nil
}

// BackfillTarget is the X-Amz-Target prefix of trailwatch's own API extension (awsJson 1.1, SigV4
// service name "trailwatch"): BackfillMetricFilter.
const BackfillTarget = "TrailWatch_20261125"

type backfillInput struct {
	LogGroupName string `json:"logGroupName"`
	FilterName   string `json:"filterName"`
	StartTime    *int64 `json:"startTime,omitempty"`
	EndTime      *int64 `json:"endTime,omitempty"`
}

type backfillOutput struct {
	EventsExamined   int     `json:"eventsExamined"`
	SamplesPublished int     `json:"samplesPublished"`
	Sum              float64 `json:"sum"`
	// DefaultsDropped counts the filter's default values older than 15 days, which are not
	// published (metrics.DropLateDefaults).
	DefaultsDropped int `json:"defaultsDropped,omitempty"`
}

// backfillService serves BackfillMetricFilter: the metric filter is applied to the events stored in
// its log group between startTime and endTime (epoch ms; endTime exclusive, absent means logs.DefaultEnd: since when the filter counted events live), and
// the datapoints it would have published are stored and handed to the alarms, which then see
// history. Samples carry the events' timestamps, so alarms evaluate them in their own periods; the
// filter's defaults older than 15 days are left out (metrics.DropLateDefaults).
func backfillService(db metrics.Store, logsSvc *logs.Service, now func() time.Time) *awsapi.Service {
	op := func(ctx context.Context, in *backfillInput) (*backfillOutput, error) {
		id := awsapi.Caller(ctx)
		bi := logs.BackfillInput{LogGroupName: in.LogGroupName, FilterName: in.FilterName}
		if in.StartTime != nil {
			bi.StartTime = *in.StartTime
		}
		if in.EndTime != nil {
			bi.EndTime = *in.EndTime
		}
		if in.LogGroupName == "" || in.FilterName == "" {
			return nil, &logs.Error{Code: logs.CodeInvalidParameter, Message: "logGroupName and filterName are required."}
		}
		res, err := logsSvc.Backfill(ctx, logs.Scope{AccountID: id.AccountID, Region: id.Region}, bi)
		if err != nil {
			return nil, err
		}
		// Defaults older than 15 days cannot be stored faithfully (metrics.DropLateDefaults).
		kept, dropped := metrics.DropLateDefaults(res.Samples, now())
		var published []metrics.Sample
		sum := 0.0
		for _, smp := range kept {
			if !smp.Default {
				sum += smp.Value * max(smp.Count, 1) // backfill samples are weighted
			}
			published = append(published, smp)
		}
		if len(published) > 0 {
			if err := db.AddSamples(ctx, published); err != nil {
				return nil, fmt.Errorf("store backfilled samples: %w", err)
			}
			if logsSvc.OnSamples != nil {
				logsSvc.OnSamples(published)
			}
		}
		return &backfillOutput{EventsExamined: res.Events, SamplesPublished: len(published), Sum: sum, DefaultsDropped: dropped}, nil
	}
	return &awsapi.Service{
		SigningName:    "trailwatch",
		TargetPrefixes: []string{BackfillTarget},
		JSONVersion:    "1.1",
		Operations:     map[string]awsapi.Operation{"BackfillMetricFilter": awsapi.Op(op)},
	}
}
