package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/trailwatch/trailwatch/internal/awsclient"
	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/progress"
)

const backfillUsage = `Usage: trailwatch backfill --log-group NAME --filter-name NAME [--start TIME] [--end TIME] [--endpoint URL] [--dry-run] [PATH...]

Applies an existing metric filter to events that it never saw and publishes the datapoints it would
have published, so alarms see history. CloudWatch Logs filters "do not retroactively filter data";
this fills the gap.

The events are those already stored in the log group between --start and --end (read with
FilterLogEvents), or, when PATHs are given, the CloudTrail records in those files (read as
'trailwatch ingest' reads them) with eventTime in the range. Datapoints are aggregated per minute,
dimension set and value and sent with PutMetricData (Values and Counts), in the filter's namespace,
name and unit.

--end defaults to the time since which the filter has been live: the first put of its current
definition (putting the same filter again, as a setup script or Terraform does, keeps it; a changed
definition starts it afresh). The filter counted what arrived since, so a backfill up to then never
counts an event twice. Stored events that arrived since are skipped whatever their timestamp
(CloudTrail delivers a record minutes after its eventTime), except those that arrived while the
filter was disabled for its dimensions' cardinality, before the put that enabled it again: the
default end of a backfill of stored events reaches the end of that period, so they are counted.
trailwatch reports these times beside AWS's creationTime (trailwatchLiveSince, trailwatchPausedFrom,
trailwatchPausedUntil in DescribeMetricFilters); against AWS, the creation time stands in. An --end
later than the default is allowed, with a warning: it reaches stored events with later timestamps
that arrived before the filter, and records in files, which are counted again if they were also
ingested since.

With --server-side the trailwatch server applies the filter to its stored events itself (the
BackfillMetricFilter API extension: awsJson 1.1, X-Amz-Target TrailWatch_20261125, SigV4 service
"trailwatch"), which moves no events over the network.

TIME is RFC 3339 or a duration before now (e.g. 24h). Credentials, region and endpoint as for
'trailwatch ingest'. When stderr is a terminal a progress line shows the events (and files) read.

Flags:
`

// backfill feeds a filter's events to logs.Backfiller, the aggregation the server's
// BackfillMetricFilter uses too.
type backfill struct{ *logs.Backfiller }

// add applies the filter to a record read from a file, which has no ingestion time.
func (b backfill) add(ts int64, msg []byte) { b.Add(ts, 0, msg) }

// backfillDatums turns a backfill's samples into PutMetricData items, in the samples' order: one
// per sample, its value with its count. A default sample becomes an ordinary datum: it stands for
// a minute in which the filter matched nothing.
func backfillDatums(samples []metrics.Sample) []cwtypes.MetricDatum {
	out := make([]cwtypes.MetricDatum, 0, len(samples))
	for _, smp := range samples {
		d := cwtypes.MetricDatum{MetricName: aws.String(smp.MetricName), Timestamp: aws.Time(smp.Timestamp.UTC()),
			Values: []float64{smp.Value}, Counts: []float64{max(smp.Count, 1)}}
		if smp.Unit != "" {
			d.Unit = cwtypes.StandardUnit(smp.Unit)
		}
		for _, dv := range smp.Dimensions {
			d.Dimensions = append(d.Dimensions, cwtypes.Dimension{Name: aws.String(dv.Name), Value: aws.String(dv.Value)})
		}
		out = append(out, d)
	}
	return out
}

// parseWhen reads an RFC 3339 time or a duration before now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", s)
	}
	return t, nil
}

func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, backfillUsage); fs.PrintDefaults() }
	endpoint := fs.String("endpoint", "", "endpoint `URL` of CloudWatch Logs and CloudWatch (default: AWS)")
	group := fs.String("log-group", "", "log group `name` (required)")
	filterName := fs.String("filter-name", "", "metric filter `name` (required)")
	region := fs.String("region", "", "`region` (default: the AWS chain's, then us-east-1)")
	startS := fs.String("start", "336h", "start `time` (inclusive)")
	endS := fs.String("end", "", "end `time` (exclusive; default: the time since which the filter counted events live)")
	dryRun := fs.Bool("dry-run", false, "print the datapoints instead of publishing them")
	serverSide := fs.Bool("server-side", false, "let the trailwatch server apply the filter to its stored events (BackfillMetricFilter API extension)")
	showProgress := fs.Bool("progress", progress.IsTerminal(stderr), "show a progress line on stderr while reading events (default: when stderr is a terminal)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	now := time.Now()
	start, err1 := parseWhen(*startS, now)
	var end time.Time
	var err2 error
	if *endS != "" {
		end, err2 = parseWhen(*endS, now)
	}
	if *group == "" || *filterName == "" || err1 != nil || err2 != nil {
		fmt.Fprintln(stderr, "trailwatch backfill: --log-group and --filter-name are required, and --start and --end must be times", errors.Join(err1, err2))
		return 2
	}
	if *serverSide && (fs.NArg() > 0 || *dryRun || *endpoint == "") {
		fmt.Fprintln(stderr, "trailwatch backfill: --server-side needs --endpoint and takes no PATH or --dry-run")
		return 2
	}
	var cfgOpts []func(*config.LoadOptions) error
	if *region != "" {
		cfgOpts = append(cfgOpts, config.WithRegion(*region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, cfgOpts...)
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch backfill: load AWS configuration: %v\n", err)
		return 1
	}
	cfg.HTTPClient = awsclient.Wrap(cfg.HTTPClient)
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	lc := cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
		if *endpoint != "" {
			o.BaseEndpoint = aws.String(*endpoint)
		}
	})
	cc := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
		if *endpoint != "" {
			o.BaseEndpoint = aws.String(*endpoint)
		}
	})
	rec := &bodyRecorder{next: cfg.HTTPClient}
	mf, err := lc.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: group, FilterNamePrefix: filterName},
		func(o *cloudwatchlogs.Options) { o.HTTPClient = rec })
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch backfill: describe metric filters: %v\n", err)
		return 1
	}
	var filter *cwltypes.MetricFilter
	for i := range mf.MetricFilters {
		if aws.ToString(mf.MetricFilters[i].FilterName) == *filterName {
			filter = &mf.MetricFilters[i]
		}
	}
	if filter == nil || len(filter.MetricTransformations) == 0 {
		fmt.Fprintf(stderr, "trailwatch backfill: log group %s has no metric filter %q\n", *group, *filterName)
		return 1
	}
	mt := filter.MetricTransformations[0]
	unit := string(mt.Unit)
	if unit == "None" {
		unit = "" // logs.MetricTransformation's spelling of None
	}
	lf := logs.MetricFilter{LogGroupName: *group, FilterName: *filterName,
		FilterPattern: aws.ToString(filter.FilterPattern), CreationTime: aws.ToInt64(filter.CreationTime),
		Transformation: logs.MetricTransformation{MetricName: aws.ToString(mt.MetricName), MetricNamespace: aws.ToString(mt.MetricNamespace),
			MetricValue: aws.ToString(mt.MetricValue), DefaultValue: mt.DefaultValue, Dimensions: mt.Dimensions, Unit: unit}}
	liveSinceOf(rec.last, &lf)
	live := time.UnixMilli(lf.LiveSince).UTC()
	if lf.LiveSince == 0 {
		live = time.UnixMilli(lf.CreationTime).UTC() // AWS: its creation time stands in
	}
	// The server's default end (logs.DefaultEnd) for stored events; records in files have no
	// ingestion time, so only the live-since time is a safe end for them.
	dflt := time.UnixMilli(logs.DefaultEnd(lf)).UTC()
	if fs.NArg() > 0 {
		dflt = live
	}
	switch {
	case *endS == "":
		end = dflt
		fmt.Fprintf(stdout, "backfill up to %s, since when the filter has counted events live (its definition's first put; --end to choose)\n", live.Format(time.RFC3339Nano))
		if lf.PausedUntil != 0 {
			paused := fmt.Sprintf("%s to %s", time.UnixMilli(lf.PausedFrom).UTC().Format(time.RFC3339Nano), time.UnixMilli(lf.PausedUntil).UTC().Format(time.RFC3339Nano))
			if fs.NArg() > 0 {
				fmt.Fprintf(stdout, "the filter counted nothing while it was disabled, %s: records in files are not backfilled for that period (--end to choose)\n", paused)
			} else {
				fmt.Fprintf(stdout, "and the events stored while the filter was disabled, %s: the end is %s\n", paused, end.Format(time.RFC3339Nano))
			}
		}
	case end.After(dflt):
		what := "stored events that arrived after it are skipped"
		if fs.NArg() > 0 {
			what = "records in the files that were also ingested since are counted twice"
		}
		fmt.Fprintf(stderr, "trailwatch backfill: warning: --end %s is after %s, since when the filter counted events live: %s\n",
			end.UTC().Format(time.RFC3339Nano), dflt.Format(time.RFC3339Nano), what)
	}
	if !start.Before(end) {
		fmt.Fprintf(stderr, "trailwatch backfill: --start %s is not before the end, %s: nothing to backfill\n", start.UTC().Format(time.RFC3339Nano), end.UTC().Format(time.RFC3339Nano))
		return 2
	}
	if *serverSide {
		in := backfillInput{LogGroupName: *group, FilterName: *filterName, StartTime: aws.Int64(start.UnixMilli())}
		if *endS != "" {
			in.EndTime = aws.Int64(end.UnixMilli()) // absent: the server ends at logs.DefaultEnd too
		}
		out, err := backfillServerSide(ctx, cfg, *endpoint, in)
		if err != nil {
			fmt.Fprintf(stderr, "trailwatch backfill: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "backfill of %s/%s on the server: %d events examined, %d samples, sum %g\n", *group, *filterName, out.EventsExamined, out.SamplesPublished, out.Sum)
		if out.DefaultsDropped > 0 {
			fmt.Fprintf(stdout, "%d default values older than 15 days not published: CloudWatch keeps only five-minute data that old\n", out.DefaultsDropped)
		}
		return 0
	}
	bf, err := logs.NewBackfiller(logs.Scope{}, lf)
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch backfill: %v\n", err)
		return 1
	}
	b := backfill{bf}
	var prog backfillProgress
	stopProgress := func() {}
	defer func() { stopProgress() }() // on the error returns below; a second call does nothing
	if fs.NArg() > 0 {
		files, err := collectFiles(fs.Args())
		if err != nil {
			fmt.Fprintf(stderr, "trailwatch backfill: %v\n", err)
			return 2
		}
		if *showProgress {
			_, total := fileSizes(files)
			stopProgress = prog.start(stderr, len(files), total)
		}
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				stopProgress()
				fmt.Fprintf(stderr, "trailwatch backfill: %v\n", err)
				return 1
			}
			prog.files.Add(1)
			prog.bytes.Add(int64(len(data)))
			res, err := cloudtrail.DecodeObject(p, data)
			if errors.Is(err, cloudtrail.ErrNotRecords) {
				continue
			}
			if err != nil {
				stopProgress()
				fmt.Fprintf(stderr, "trailwatch backfill: %s: %v\n", p, err)
				return 1
			}
			prog.events.Add(int64(len(res.Records)))
			for _, r := range res.Records {
				if !r.Time.Before(start) && r.Time.Before(end) {
					b.add(r.TimestampMillis(), r.Raw)
				}
			}
		}
	} else {
		in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: group, StartTime: aws.Int64(start.UnixMilli()), EndTime: aws.Int64(end.UnixMilli() - 1)}
		if mt.DefaultValue == nil {
			in.FilterPattern = filter.FilterPattern // only matches need to travel
		}
		if *showProgress {
			stopProgress = prog.start(stderr, 0, 0)
		}
		p := cloudwatchlogs.NewFilterLogEventsPaginator(lc, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				stopProgress()
				fmt.Fprintf(stderr, "trailwatch backfill: filter log events: %v\n", err)
				return 1
			}
			for _, e := range page.Events {
				msg := aws.ToString(e.Message)
				b.Add(aws.ToInt64(e.Timestamp), aws.ToInt64(e.IngestionTime), []byte(msg))
				prog.bytes.Add(int64(len(msg)))
			}
			prog.events.Add(int64(len(page.Events)))
		}
	}
	stopProgress()
	samples := b.Samples()
	datums := backfillDatums(samples)
	total := 0.0
	for i, d := range datums {
		if !samples[i].Default {
			total += d.Values[0] * d.Counts[0]
		}
		if *dryRun {
			fmt.Fprintf(stdout, "%s value=%g count=%g %v\n", d.Timestamp.Format(time.RFC3339), d.Values[0], d.Counts[0], dimsText(d.Dimensions))
		}
	}
	if !*dryRun {
		for i := 0; i < len(datums); i += 1000 {
			_, err := cc.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: mt.MetricNamespace, MetricData: datums[i:min(i+1000, len(datums))]})
			if err != nil {
				fmt.Fprintf(stderr, "trailwatch backfill: put metric data: %v\n", err)
				return 1
			}
		}
	}
	if b.Skipped() > 0 {
		fmt.Fprintf(stdout, "%d events skipped: stored while the filter was live, they were counted as they arrived\n", b.Skipped())
	}
	fmt.Fprintf(stdout, "backfill of %s/%s: %d events examined, %d datapoints, sum %g%s\n", *group, *filterName, b.Events(), len(datums), total,
		map[bool]string{true: " (dry run, nothing published)", false: ""}[*dryRun])
	return 0
}

// bodyRecorder is an HTTP client that keeps the body of the last response it passed on, for the
// members of trailwatch's responses that AWS's SDK does not decode.
type bodyRecorder struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	last []byte
}

func (r *bodyRecorder) Do(req *http.Request) (*http.Response, error) {
	next := r.next
	if next == nil {
		next = http.DefaultClient
	}
	resp, err := next.Do(req)
	if err != nil {
		return nil, err
	}
	r.last, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(r.last))
	return resp, err
}

// liveSinceOf sets f's LiveSince and paused period from the raw DescribeMetricFilters response of a
// trailwatch server (trailwatchLiveSince, trailwatchPausedFrom, trailwatchPausedUntil, beside AWS's
// members). AWS's response has none of them, and leaves f as it is: its creation time stands in.
func liveSinceOf(raw []byte, f *logs.MetricFilter) {
	var out struct {
		MetricFilters []struct {
			FilterName  string `json:"filterName"`
			LiveSince   int64  `json:"trailwatchLiveSince"`
			PausedFrom  int64  `json:"trailwatchPausedFrom"`
			PausedUntil int64  `json:"trailwatchPausedUntil"`
		} `json:"metricFilters"`
	}
	if json.Unmarshal(raw, &out) != nil {
		return
	}
	for _, m := range out.MetricFilters {
		if m.FilterName == f.FilterName {
			f.LiveSince, f.PausedFrom, f.PausedUntil = m.LiveSince, m.PausedFrom, m.PausedUntil
		}
	}
}

func dimsText(ds []cwtypes.Dimension) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
	}
	return strings.Join(parts, ",")
}

// backfillServerSide calls the BackfillMetricFilter extension, signed with SigV4 for the service
// name "trailwatch".
func backfillServerSide(ctx context.Context, cfg aws.Config, endpoint string, in backfillInput) (backfillOutput, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return backfillOutput{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return backfillOutput{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", BackfillTarget+".BackfillMetricFilter")
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return backfillOutput{}, fmt.Errorf("retrieve credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "trailwatch", cfg.Region, time.Now()); err != nil {
		return backfillOutput{}, fmt.Errorf("sign request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return backfillOutput{}, fmt.Errorf("call BackfillMetricFilter: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return backfillOutput{}, fmt.Errorf("read BackfillMetricFilter response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(data, &e)
		return backfillOutput{}, fmt.Errorf("BackfillMetricFilter: %s: %s", e.Type, e.Message)
	}
	var out backfillOutput
	if err := json.Unmarshal(data, &out); err != nil {
		return backfillOutput{}, fmt.Errorf("decode BackfillMetricFilter response: %w", err)
	}
	return out, nil
}
