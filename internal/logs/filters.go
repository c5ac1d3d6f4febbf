package logs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/trailwatch/trailwatch/internal/javafmt"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/pattern"
)

// maxMetricFilters is the per-group quota of metric filters; it "cannot be changed"
// (filter-patterns.md §8).
const maxMetricFilters = 100

// groupKey identifies a log group across scopes.
type groupKey struct {
	scope Scope
	name  string
}

// groupState is what PutLogEvents needs to know about a group: its retention and its metric
// filters compiled into one pattern.Set. It is cached per group and dropped whenever the service
// changes the group's filters or retention, so ingestion costs no store reads in steady state.
type groupState struct {
	retentionDays int
	// dedup marks a CloudTrail log group: PutLogEvents drops records it already holds.
	dedup   bool
	filters []MetricFilter
	set     *pattern.Set
	// limits is parallel to filters: each filter's dimension limit (dimLimit), nil for a filter
	// without dimensions or when no limit applies (a backfill).
	limits []*dimLimit
}

// group returns the cached state of a group, loading it on a miss. A missing group is
// ErrLogGroupNotFound.
func (s *Service) group(ctx context.Context, sc Scope, name string) (*groupState, error) {
	k := groupKey{sc, name}
	s.mu.Lock()
	st, ok := s.groups[k]
	gen := s.gen
	s.mu.Unlock()
	if ok {
		return st, nil
	}
	g, err := s.store.GetLogGroup(ctx, sc, name)
	if err != nil {
		return nil, storeErr("get log group", err)
	}
	filters, err := s.store.ListMetricFilters(ctx, sc, FilterQuery{LogGroupName: name})
	if err != nil {
		return nil, storeErr("list metric filters", err)
	}
	st = &groupState{retentionDays: g.RetentionInDays, dedup: g.Tags[DedupTag] == DedupTagValue}
	if !st.dedup && s.IsRecordGroup != nil {
		if st.dedup, err = s.IsRecordGroup(ctx, sc, name); err != nil {
			return nil, fmt.Errorf("check record group: %w", err)
		}
	}
	compiled := make([]*pattern.Filter, 0, len(filters))
	for _, f := range filters {
		if f.Status != nil && f.Status.State == FilterStateDisabled {
			continue // disabled for its dimensions' cardinality, until it is put again
		}
		cf, err := pattern.CompileFilter(f.FilterPattern, transformation(f.Transformation))
		if err != nil {
			// A stored filter was valid when it was put; a pattern-language change that rejects it
			// now must not stop ingestion, nor quietly stop the filter (a root-login filter): it is
			// skipped, logged here once per load, and shown by DescribeMetricFilters.
			s.logger().LogAttrs(ctx, slog.LevelError, "metric filter skipped: its stored pattern no longer compiles",
				slog.String("account", sc.AccountID), slog.String("region", sc.Region),
				slog.String("logGroup", name), slog.String("filter", f.FilterName), slog.Any("error", err))
			continue
		}
		st.filters = append(st.filters, f)
		compiled = append(compiled, cf)
	}
	st.set = pattern.NewSet(compiled)
	st.limits = s.limitsFor(sc, name, st.filters)
	s.mu.Lock()
	// A change committed while this state was loading may not be in it: use it for this call
	// but do not cache it.
	if s.gen == gen {
		s.groups[k] = st
	}
	s.mu.Unlock()
	return st, nil
}

// forget drops a group's cached state after a change to it, and makes states loaded
// concurrently with the change uncacheable.
func (s *Service) forget(sc Scope, name string) {
	s.mu.Lock()
	delete(s.groups, groupKey{sc, name})
	s.gen++
	s.mu.Unlock()
}

func transformation(t MetricTransformation) pattern.Transformation {
	return pattern.Transformation{MetricValue: t.MetricValue, DefaultValue: t.DefaultValue, Dimensions: t.Dimensions, Unit: t.Unit}
}

// bytesOf views a string as bytes without copying. The pattern package only reads a message
// during the call and keeps nothing of it (Result values are copied into new strings), so the
// view never outlives the string and is never written; this saves a copy of every message on
// the ingestion and search paths.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// samples evaluates accepted events against the group's metric filters. Each match yields one
// sample at the event's timestamp; each filter with a defaultValue also yields one Default sample
// for every minute of the batch in which it matched nothing (the metrics store counts it only if
// that minute has no other sample).
func (st *groupState) samples(sc Scope, events []InputLogEvent) []metrics.Sample {
	out, _, _ := st.samplesOf(sc, events, false, 0)
	return out
}

// samplesOf is samples that, when withIndex is set, also returns for each sample the index of
// the event that produced it (-1 for a defaultValue sample), for deduplicating batches. Filters
// with a dimension limit count the pairs their samples generate at now (epoch ms); tripped lists
// the filters the limit disabled during this call (they publish nothing from then on).
func (st *groupState) samplesOf(sc Scope, events []InputLogEvent, withIndex bool, now int64) (out []metrics.Sample, index []int, tripped []int) {
	if len(st.filters) == 0 || len(events) == 0 {
		return nil, nil, nil
	}
	limit := func(i int) *dimLimit {
		if st.limits == nil {
			return nil
		}
		return st.limits[i]
	}
	// matched[i] records the minutes in which filter i matched, only for filters with a default.
	var matched []map[int64]bool
	hasDefault := false
	for _, f := range st.filters {
		if f.Transformation.DefaultValue != nil {
			hasDefault = true
		}
	}
	if hasDefault {
		matched = make([]map[int64]bool, len(st.filters))
	}
	for ei, e := range events {
		ts := e.Timestamp
		st.set.Eval(bytesOf(e.Message), func(i int, r *pattern.Result) {
			if matched != nil && matched[i] == nil {
				matched[i] = map[int64]bool{}
			}
			if matched != nil {
				matched[i][minuteMillis(ts)] = true
			}
			if !r.Publish {
				return
			}
			if l := limit(i); l != nil {
				ok, trip := l.admit(r.Dimensions, now)
				if trip {
					tripped = append(tripped, i)
				}
				if !ok {
					return
				}
			}
			t := st.filters[i].Transformation
			out = append(out, metrics.Sample{
				AccountID:  sc.AccountID,
				Region:     sc.Region,
				Namespace:  t.MetricNamespace,
				MetricName: t.MetricName,
				Dimensions: dimensions(r.Dimensions),
				Unit:       t.Unit,
				Timestamp:  millisTime(ts),
				Value:      r.Value,
			})
			if withIndex {
				index = append(index, ei)
			}
		})
	}
	if !hasDefault {
		return out, index, tripped
	}
	var minutes []int64
	seen := map[int64]bool{}
	for _, e := range events {
		m := minuteMillis(e.Timestamp)
		if !seen[m] {
			seen[m] = true
			minutes = append(minutes, m)
		}
	}
	for i, f := range st.filters {
		t := f.Transformation
		if t.DefaultValue == nil {
			continue
		}
		if l := limit(i); l != nil && l.isDisabled() {
			continue
		}
		for _, m := range minutes {
			if matched[i][m] {
				continue
			}
			out = append(out, metrics.Sample{
				AccountID:  sc.AccountID,
				Region:     sc.Region,
				Namespace:  t.MetricNamespace,
				MetricName: t.MetricName,
				Unit:       t.Unit,
				Timestamp:  millisTime(m),
				Value:      *t.DefaultValue,
				Default:    true,
			})
			if withIndex {
				index = append(index, -1)
			}
		}
	}
	return out, index, tripped
}

// dimensions copies a Result's dimensions, which the pattern package reuses between calls.
func dimensions(ds []pattern.DimensionValue) []metrics.Dimension {
	if len(ds) == 0 {
		return nil
	}
	out := make([]metrics.Dimension, len(ds))
	for i, d := range ds {
		out[i] = metrics.Dimension{Name: d.Name, Value: d.Value}
	}
	return out
}

// compileSearch compiles a FilterLogEvents pattern, worded for that surface ("Invalid filter
// pattern"). The empty pattern matches every event.
func compileSearch(src string) (func(string) bool, error) {
	p, err := pattern.Compile(src)
	if err != nil {
		var pe *pattern.Error
		if errors.As(err, &pe) {
			return nil, pe.ForFilterLogEvents()
		}
		return nil, fmt.Errorf("compile filter pattern: %w", err)
	}
	return func(msg string) bool { return p.Match(bytesOf(msg)) }, nil
}

// PutMetricFilterInput is the input of PutMetricFilter.
type PutMetricFilterInput struct {
	LogGroupName          string
	FilterName            string
	FilterPattern         string
	MetricTransformations []MetricTransformation
}

// javaDouble renders a float the way AWS's Java model prints a Double in validation messages.
func javaDouble(f float64) string { return javafmt.Double(f) }

// javaString renders a transformation like the model's toString, which AWS echoes in the
// "at 'metricTransformations'" validation message (LocalStack snapshot test_logs_metric_filters
// "error-too-many-transformations").
func (t MetricTransformation) javaString() string {
	def, unit, dims := "null", "null", "null"
	if t.DefaultValue != nil {
		def = javaDouble(*t.DefaultValue)
	}
	if t.Unit != "" {
		unit = t.Unit
	}
	if t.Dimensions != nil {
		parts := make([]string, 0, len(t.Dimensions))
		for _, k := range sortedKeys(t.Dimensions) {
			parts = append(parts, k+"="+t.Dimensions[k])
		}
		dims = "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprintf("MetricTransformation(metricName=%s, metricNamespace=%s, metricValue=%s, defaultValue=%s, unit=%s, dimensions=%s)",
		t.MetricName, t.MetricNamespace, t.MetricValue, def, unit, dims)
}

func checkFilterName(v *violations, member, name string, min int) {
	checkLen(v, member, name, min, maxNameLen)
	checkNoColonStar(v, member, name, "[^:*]*")
}

func checkMetricName(v *violations, member, name string, min int) {
	checkLen(v, member, name, min, maxMetricNameLen)
	for _, r := range name {
		if r == ':' || r == '*' || r == '$' {
			v.add(name, member, "Member must satisfy regular expression pattern: [^:*$]*")
			break
		}
	}
}

// PutMetricFilter creates or replaces a metric filter. The pattern is compiled with its
// transformation, so an unusable metricValue or dimension is rejected here, not at ingestion.
func (s *Service) PutMetricFilter(ctx context.Context, sc Scope, in PutMetricFilterInput) error {
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", in.LogGroupName); err != nil {
		return err
	}
	checkFilterName(&v, "filterName", in.FilterName, 1)
	if utf8.RuneCountInString(in.FilterPattern) > maxPatternLen {
		v.add(in.FilterPattern, "filterPattern", "Member must have length less than or equal to 1024")
	}
	switch n := len(in.MetricTransformations); {
	case n < 1:
		v.add("[]", "metricTransformations", "Member must have length greater than or equal to 1")
	case n > 1:
		parts := make([]string, n)
		for i, t := range in.MetricTransformations {
			parts[i] = t.javaString()
		}
		v.add("["+strings.Join(parts, ", ")+"]", "metricTransformations", "Member must have length less than or equal to 1")
	}
	for i, t := range in.MetricTransformations {
		p := "metricTransformations." + strconv.Itoa(i+1) + ".member."
		checkMetricName(&v, p+"metricName", t.MetricName, 1)
		checkMetricName(&v, p+"metricNamespace", t.MetricNamespace, 0)
		// metricValue, unit and dimensions are validated by pattern.CompileFilter below, which
		// needs the pattern to judge them.
	}
	if err := v.err(); err != nil {
		return err
	}
	t := in.MetricTransformations[0]
	compiled, err := pattern.CompileFilter(in.FilterPattern, transformation(t))
	if err != nil {
		var pe *pattern.Error
		if errors.As(err, &pe) {
			return pe
		}
		return fmt.Errorf("compile metric filter: %w", err)
	}
	if compiled.Pattern().Regexes() > 0 {
		if err := s.checkRegexQuota(ctx, sc, in.LogGroupName, in.FilterName); err != nil {
			return err
		}
	}
	// CreationTime is the put's time on every put, as trailwatch has always reported it: AWS's
	// documentation ("The creation time of the metric filter", API_MetricFilter) does not say
	// whether an update keeps it, and no recorded response shows it. LiveSince, which backfill
	// relies on, is the store's to keep across a put of the same definition (MetricFilter.Replacing).
	now := s.nowMillis()
	err = s.store.PutMetricFilter(ctx, sc, MetricFilter{
		LogGroupName:   in.LogGroupName,
		FilterName:     in.FilterName,
		FilterPattern:  in.FilterPattern,
		CreationTime:   now,
		LiveSince:      now,
		Transformation: t,
	}, maxMetricFilters)
	s.forget(sc, in.LogGroupName)
	return storeErr("put metric filter", err)
}

// maxRegexFilters is AWS's quota of filter patterns containing a regular expression per log group
// (filter-patterns.md §6, DOC-REGEX "Quotas").
const maxRegexFilters = 5

// checkRegexQuota refuses a sixth metric filter with a %regex% in one log group; replacing a filter of
// the same name does not count against the quota. The check reads before the store writes, so two
// concurrent PutMetricFilter calls could both pass at the fifth filter; the quota guards against
// runaway regex cost, not an exact count, so that window is accepted. AWS's exact message for this
// quota is not recorded; the generic LimitExceededException text is used.
func (s *Service) checkRegexQuota(ctx context.Context, sc Scope, group, name string) error {
	filters, err := s.store.ListMetricFilters(ctx, sc, FilterQuery{LogGroupName: group})
	if err != nil {
		return storeErr("list metric filters", err)
	}
	n := 0
	for _, f := range filters {
		if f.LogGroupName != group || f.FilterName == name {
			continue
		}
		if p, err := pattern.Compile(f.FilterPattern); err == nil && p.Regexes() > 0 {
			n++
		}
	}
	if n >= maxRegexFilters {
		return ErrMetricFilterLimit
	}
	return nil
}

// DeleteMetricFilter deletes a metric filter.
func (s *Service) DeleteMetricFilter(ctx context.Context, sc Scope, group, name string) error {
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", group); err != nil {
		return err
	}
	checkFilterName(&v, "filterName", name, 1)
	if err := v.err(); err != nil {
		return err
	}
	err := s.store.DeleteMetricFilter(ctx, sc, group, name)
	s.forget(sc, group)
	return storeErr("delete metric filter", err)
}

// DescribeMetricFiltersInput is the input of DescribeMetricFilters.
type DescribeMetricFiltersInput struct {
	LogGroupName string
	// FilterNamePrefix is used only together with LogGroupName, as the API reference says.
	FilterNamePrefix string
	MetricName       string
	MetricNamespace  string
	NextToken        string
	// Limit is the page size; nil means the maximum.
	Limit *int
}

// DescribeMetricFiltersOutput is the output of DescribeMetricFilters.
type DescribeMetricFiltersOutput struct {
	MetricFilters []MetricFilter
	NextToken     string
}

// DescribeMetricFilters lists metric filters ordered by log group and filter name. A filter that
// publishes nothing carries its Status: disabled (stored) or invalid (its pattern no longer
// compiles, checked here).
func (s *Service) DescribeMetricFilters(ctx context.Context, sc Scope, in DescribeMetricFiltersInput) (DescribeMetricFiltersOutput, error) {
	var v violations
	if in.LogGroupName != "" {
		if err := checkLogGroupName(&v, "logGroupName", in.LogGroupName); err != nil {
			return DescribeMetricFiltersOutput{}, err
		}
	}
	if in.FilterNamePrefix != "" {
		checkFilterName(&v, "filterNamePrefix", in.FilterNamePrefix, 1)
	}
	if in.MetricName != "" {
		checkMetricName(&v, "metricName", in.MetricName, 1)
	}
	if in.MetricNamespace != "" {
		checkMetricName(&v, "metricNamespace", in.MetricNamespace, 0)
	}
	checkLimit(&v, in.Limit, maxDescribeLimit)
	if err := v.err(); err != nil {
		return DescribeMetricFiltersOutput{}, err
	}
	if (in.MetricName == "") != (in.MetricNamespace == "") {
		// The API reference: "If you are using this parameter, you must also specify
		// metricNamespace" (and vice versa). The wording is ours; AWS's is not recorded.
		return DescribeMetricFiltersOutput{}, invalidParameter("metricName and metricNamespace must be specified together.")
	}
	if in.LogGroupName != "" {
		if _, err := s.store.GetLogGroup(ctx, sc, in.LogGroupName); err != nil {
			return DescribeMetricFiltersOutput{}, storeErr("get log group", err)
		}
	}
	limit := limitOr(in.Limit, maxDescribeLimit)
	q := FilterQuery{LogGroupName: in.LogGroupName, MetricName: in.MetricName, MetricNamespace: in.MetricNamespace, Limit: limit + 1}
	if in.LogGroupName != "" {
		q.FilterNamePrefix = in.FilterNamePrefix
	}
	if in.NextToken != "" {
		parts, err := decodeKeyToken(in.NextToken, "m", 2)
		if err != nil {
			return DescribeMetricFiltersOutput{}, err
		}
		q.AfterGroup, q.AfterName = parts[0], parts[1]
	}
	filters, err := s.store.ListMetricFilters(ctx, sc, q)
	if err != nil {
		return DescribeMetricFiltersOutput{}, storeErr("list metric filters", err)
	}
	var out DescribeMetricFiltersOutput
	if len(filters) > limit {
		filters = filters[:limit]
		last := filters[limit-1]
		out.NextToken = encodeKeyToken("m", last.LogGroupName, last.FilterName)
	}
	for i := range filters {
		if filters[i].Status != nil {
			continue
		}
		if _, err := pattern.CompileFilter(filters[i].FilterPattern, transformation(filters[i].Transformation)); err != nil {
			filters[i].Status = &FilterStatus{State: FilterStateInvalid, Reason: "The stored filter pattern no longer compiles: " + err.Error()}
		}
	}
	out.MetricFilters = filters
	return out, nil
}

// MetricFilterMatch is one matching message of TestMetricFilter.
type MetricFilterMatch struct {
	EventNumber     int64
	EventMessage    string
	ExtractedValues map[string]string
}

// TestMetricFilter runs a pattern over sample messages (1 to 50) and reports the matches.
// eventNumber is 1-based, following the aws-cli example (filter-patterns.md §11 q13 records that
// the 2014 API example started at 0); extractedValues is whatever the pattern package extracts:
// empty for term and JSON patterns, the named or positional fields for space-delimited ones.
func (s *Service) TestMetricFilter(ctx context.Context, pat string, messages []string) ([]MetricFilterMatch, error) {
	var v violations
	if utf8.RuneCountInString(pat) > maxPatternLen {
		v.add(pat, "filterPattern", "Member must have length less than or equal to 1024")
	}
	switch n := len(messages); {
	case n < 1:
		v.add("[]", "logEventMessages", "Member must have length greater than or equal to 1")
	case n > maxTestMessages:
		v.add("["+strings.Join(messages, ", ")+"]", "logEventMessages", "Member must have length less than or equal to 50")
	}
	for i, m := range messages {
		if m == "" {
			v.add("", "logEventMessages."+strconv.Itoa(i+1)+".member", "Member must have length greater than or equal to 1")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	p, err := pattern.Compile(pat)
	if err != nil {
		var pe *pattern.Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, fmt.Errorf("compile filter pattern: %w", err)
	}
	matches := []MetricFilterMatch{}
	for i, m := range messages {
		vals, ok := p.Extract([]byte(m))
		if !ok {
			continue
		}
		if vals == nil {
			vals = map[string]string{}
		}
		matches = append(matches, MetricFilterMatch{EventNumber: int64(i + 1), EventMessage: m, ExtractedValues: vals})
	}
	return matches, nil
}
