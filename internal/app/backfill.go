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
	"sort"
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
	"github.com/trailwatch/trailwatch/internal/pattern"
)

const backfillUsage = `Usage: trailwatch backfill --log-group NAME --filter-name NAME [--start TIME] [--end TIME] [--endpoint URL] [--dry-run] [PATH...]

Applies an existing metric filter to events that it never saw and publishes the datapoints it would
have published, so alarms see history. CloudWatch Logs filters "do not retroactively filter data";
this fills the gap.

The events are those already stored in the log group between --start and --end (read with
FilterLogEvents), or, when PATHs are given, the CloudTrail records in those files (read as
'trailwatch ingest' reads them) with eventTime in the range. Datapoints are aggregated per minute
and dimension set and sent with PutMetricData (StatisticValues), in the filter's namespace, name and
unit. Run it only for events the filter did not count when they arrived (events older than the
filter), or they are counted twice.

With --server-side the trailwatch server applies the filter to its stored events itself (the
BackfillMetricFilter API extension: awsJson 1.1, X-Amz-Target TrailWatch_20261125, SigV4 service
"trailwatch"), which moves no events over the network.

TIME is RFC 3339 or a duration before now (e.g. 24h). Credentials, region and endpoint as for
'trailwatch ingest'.

Flags:
`

// minuteKey identifies one datapoint of a backfill: a minute and a dimension set.
type minuteKey struct {
	minute int64 // epoch ms, start of the minute
	dims   string
}

type minuteAgg struct {
	dims                 []pattern.DimensionValue
	sum, count, min, max float64
}

// backfill accumulates a filter's datapoints.
type backfill struct {
	f       *pattern.Filter
	def     *float64
	aggs    map[minuteKey]*minuteAgg
	minute  map[int64]bool // minutes with events (for defaultValue)
	matched map[int64]bool // minutes with a match
	events  int
	r       pattern.Result
}

func (b *backfill) add(ts int64, msg []byte) {
	b.events++
	m := ts - ((ts%60000)+60000)%60000
	b.minute[m] = true
	if !b.f.Eval(msg, &b.r) {
		return
	}
	b.matched[m] = true
	if !b.r.Publish {
		return
	}
	var sb strings.Builder
	for _, d := range b.r.Dimensions {
		sb.WriteString(d.Name + "\x00" + d.Value + "\x00")
	}
	k := minuteKey{m, sb.String()}
	a := b.aggs[k]
	if a == nil {
		a = &minuteAgg{dims: append([]pattern.DimensionValue(nil), b.r.Dimensions...), min: b.r.Value, max: b.r.Value}
		b.aggs[k] = a
	}
	a.sum += b.r.Value
	a.count++
	a.min, a.max = min(a.min, b.r.Value), max(a.max, b.r.Value)
}

// datums turns the aggregates into PutMetricData items, oldest first; minutes with events but no
// match publish the defaultValue, as the filter would have.
func (b *backfill) datums(name, unit string) []cwtypes.MetricDatum {
	var out []cwtypes.MetricDatum
	if b.def != nil {
		for m := range b.minute {
			if !b.matched[m] {
				b.aggs[minuteKey{minute: m}] = &minuteAgg{sum: *b.def, count: 1, min: *b.def, max: *b.def}
			}
		}
	}
	keys := make([]minuteKey, 0, len(b.aggs))
	for k := range b.aggs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].minute != keys[j].minute {
			return keys[i].minute < keys[j].minute
		}
		return keys[i].dims < keys[j].dims
	})
	for _, k := range keys {
		a := b.aggs[k]
		d := cwtypes.MetricDatum{MetricName: aws.String(name), Timestamp: aws.Time(time.UnixMilli(k.minute).UTC()),
			StatisticValues: &cwtypes.StatisticSet{Sum: aws.Float64(a.sum), SampleCount: aws.Float64(a.count), Minimum: aws.Float64(a.min), Maximum: aws.Float64(a.max)}}
		if unit != "" {
			d.Unit = cwtypes.StandardUnit(unit)
		}
		for _, dv := range a.dims {
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
	endS := fs.String("end", "0s", "end `time` (exclusive)")
	dryRun := fs.Bool("dry-run", false, "print the datapoints instead of publishing them")
	serverSide := fs.Bool("server-side", false, "let the trailwatch server apply the filter to its stored events (BackfillMetricFilter API extension)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	now := time.Now()
	start, err1 := parseWhen(*startS, now)
	end, err2 := parseWhen(*endS, now)
	if *group == "" || *filterName == "" || err1 != nil || err2 != nil || !start.Before(end) {
		fmt.Fprintln(stderr, "trailwatch backfill: --log-group and --filter-name are required, and --start must be a time before --end", errors.Join(err1, err2))
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
	if *serverSide {
		if fs.NArg() > 0 || *dryRun || *endpoint == "" {
			fmt.Fprintln(stderr, "trailwatch backfill: --server-side needs --endpoint and takes no PATH or --dry-run")
			return 2
		}
		out, err := backfillServerSide(ctx, cfg, *endpoint, backfillInput{LogGroupName: *group, FilterName: *filterName,
			StartTime: aws.Int64(start.UnixMilli()), EndTime: aws.Int64(end.UnixMilli())})
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
	mf, err := lc.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: group, FilterNamePrefix: filterName})
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
	pf, err := pattern.CompileFilter(aws.ToString(filter.FilterPattern), pattern.Transformation{MetricValue: aws.ToString(mt.MetricValue),
		DefaultValue: mt.DefaultValue, Dimensions: mt.Dimensions, Unit: string(mt.Unit)})
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch backfill: compile filter: %v\n", err)
		return 1
	}
	b := &backfill{f: pf, def: mt.DefaultValue, aggs: map[minuteKey]*minuteAgg{}, minute: map[int64]bool{}, matched: map[int64]bool{}}
	if fs.NArg() > 0 {
		files, err := collectFiles(fs.Args())
		if err != nil {
			fmt.Fprintf(stderr, "trailwatch backfill: %v\n", err)
			return 2
		}
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				fmt.Fprintf(stderr, "trailwatch backfill: %v\n", err)
				return 1
			}
			res, err := cloudtrail.DecodeObject(p, data)
			if errors.Is(err, cloudtrail.ErrNotRecords) {
				continue
			}
			if err != nil {
				fmt.Fprintf(stderr, "trailwatch backfill: %s: %v\n", p, err)
				return 1
			}
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
		p := cloudwatchlogs.NewFilterLogEventsPaginator(lc, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				fmt.Fprintf(stderr, "trailwatch backfill: filter log events: %v\n", err)
				return 1
			}
			for _, e := range page.Events {
				b.add(aws.ToInt64(e.Timestamp), []byte(aws.ToString(e.Message)))
			}
		}
	}
	datums := b.datums(aws.ToString(mt.MetricName), string(mt.Unit))
	total := 0.0
	for _, d := range datums {
		total += *d.StatisticValues.Sum
		if *dryRun {
			fmt.Fprintf(stdout, "%s sum=%g count=%g %v\n", d.Timestamp.Format(time.RFC3339), *d.StatisticValues.Sum, *d.StatisticValues.SampleCount, dimsText(d.Dimensions))
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
	fmt.Fprintf(stdout, "backfill of %s/%s: %d events examined, %d datapoints, sum %g%s\n", *group, *filterName, b.events, len(datums), total,
		map[bool]string{true: " (dry run, nothing published)", false: ""}[*dryRun])
	return 0
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
