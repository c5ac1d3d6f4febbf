package web

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/pattern"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// staleAfter is when a cell's newest CloudTrail event counts as old: CloudTrail delivers within
// about 15 minutes, and an account with no API activity for a day is unusual.
const staleAfter = 24 * time.Hour

// Check outcomes of a coverage cell.
const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "fail"
)

// check is one coverage test's result: its outcome and a sentence saying why.
type check struct {
	Status string
	Text   string
}

// cell is one (source account, source region): the CloudTrail stream <account>_CloudTrail_<region>
// of one log group, and how that group is covered.
type cell struct {
	Account, Region  string
	Scope            Scope
	LogGroup         string
	Newest           time.Time
	Arriving         check
	Filter           check
	Alarm            check
	Notify           check
	Worst            string
	AlarmURL         string
	FilterName       string
	NewestIngestion  time.Time
	AdditionalGroups int
}

type coverageData struct {
	Regions  []string
	Rows     []coverageRow
	Groups   []groupCoverage
	Cells    int
	Problems int
}

type coverageRow struct {
	Account string
	Cells   []*cell // parallel to Regions, nil where no stream exists
}

// groupCoverage is a log group's own checks (the filter, alarm and notification checks every
// cell of the group shares).
type groupCoverage struct {
	Scope    Scope
	Name     string
	Streams  int
	Filter   check
	Alarm    check
	Notify   check
	AlarmURL string
}

// cisRoot is the CIS root-usage pattern (Security Hub CloudWatch.1).
var cisRoot = pattern.CIS()[0].Pattern

// filterCheck compares a group's filters with the CIS root-usage pattern: byte for byte (what a
// Security Hub check looks for), or the same pattern written differently (same parse), or absent.
func filterCheck(fs []logs.MetricFilter) (check, *logs.MetricFilter) {
	canon := func(s string) string {
		p, err := pattern.Compile(s)
		if err != nil {
			return ""
		}
		return p.String()
	}
	want := canon(cisRoot)
	var same *logs.MetricFilter
	for i := range fs {
		f := &fs[i]
		if f.Status != nil {
			continue
		}
		if f.FilterPattern == cisRoot {
			return check{checkOK, "filter " + f.FilterName + " has the CIS root-usage pattern, exactly"}, f
		}
		if same == nil && canon(f.FilterPattern) == want {
			same = f
		}
	}
	if same != nil {
		return check{checkWarn, "filter " + same.FilterName + " means the CIS root-usage pattern but is written differently (a Security Hub check compares the text)"}, same
	}
	for _, f := range fs {
		if f.Status != nil && (f.FilterPattern == cisRoot || canon(f.FilterPattern) == want) {
			return check{checkFail, "filter " + f.FilterName + " has the CIS pattern but is " + f.Status.State + ": " + f.Status.Reason}, nil
		}
	}
	return check{checkFail, "no metric filter with the CIS root-usage pattern"}, nil
}

func (c *Console) coverage(w http.ResponseWriter, r *http.Request) {
	d, err := c.coverageData(r.Context())
	if err != nil {
		c.failed(w, r, "compute coverage", err)
		return
	}
	c.render(w, r, http.StatusOK, "coverage", "Coverage", d)
}

func (c *Console) coverageData(ctx context.Context) (coverageData, error) {
	scopes, err := c.opts.Scopes(ctx)
	if err != nil {
		return coverageData{}, err
	}
	now := c.now()
	alarms := c.opts.Alarms.All()
	dir, err := c.receivers(ctx)
	if err != nil {
		return coverageData{}, err
	}
	byKey := map[[2]string]*cell{}
	var d coverageData
	for _, sc := range scopes {
		lsc := logs.Scope(sc)
		groups, err := c.allGroups(ctx, lsc)
		if err != nil {
			return d, err
		}
		for _, g := range groups {
			gc := groupCoverage{Scope: sc, Name: g.Name}
			fo, err := c.opts.Logs.DescribeMetricFilters(ctx, lsc, logs.DescribeMetricFiltersInput{LogGroupName: g.Name})
			if err != nil {
				return d, err
			}
			var f *logs.MetricFilter
			gc.Filter, f = filterCheck(fo.MetricFilters)
			gc.Alarm, gc.Notify, gc.AlarmURL = c.alarmChecks(ctx, sc, f, alarms, dir)
			streams, err := c.cloudTrailStreams(ctx, lsc, g.Name)
			if err != nil {
				return d, err
			}
			gc.Streams = len(streams)
			d.Groups = append(d.Groups, gc)
			for _, st := range streams {
				acct, region, _ := strings.Cut(st.Name, "_CloudTrail_")
				newest := time.UnixMilli(st.LastEventTimestamp).UTC()
				ce := &cell{Account: acct, Region: region, Scope: sc, LogGroup: g.Name, Newest: newest, NewestIngestion: time.UnixMilli(st.LastIngestionTime).UTC(),
					Filter: gc.Filter, Alarm: gc.Alarm, Notify: gc.Notify, AlarmURL: gc.AlarmURL}
				if f != nil {
					ce.FilterName = f.FilterName
				}
				switch {
				case st.LastEventTimestamp == 0:
					ce.Arriving = check{checkFail, "no CloudTrail event yet"}
				case now.Sub(newest) > staleAfter:
					ce.Arriving = check{checkFail, "newest event " + ago(now, newest)}
				default:
					ce.Arriving = check{checkOK, "newest event " + ago(now, newest)}
				}
				ce.Worst = worst(ce.Arriving, ce.Filter, ce.Alarm, ce.Notify)
				k := [2]string{acct, region}
				// One source seen by several groups: the best covered group speaks for it.
				if old, ok := byKey[k]; !ok || rank(ce.Worst) < rank(old.Worst) {
					if ok {
						ce.AdditionalGroups = old.AdditionalGroups + 1
					}
					byKey[k] = ce
				} else {
					old.AdditionalGroups++
				}
			}
		}
	}
	accounts := map[string]bool{}
	regions := map[string]bool{}
	for k, ce := range byKey {
		accounts[k[0]], regions[k[1]] = true, true
		d.Cells++
		if ce.Worst != checkOK {
			d.Problems++
		}
	}
	for r := range regions {
		d.Regions = append(d.Regions, r)
	}
	slices.Sort(d.Regions)
	var accs []string
	for a := range accounts {
		accs = append(accs, a)
	}
	slices.Sort(accs)
	for _, a := range accs {
		row := coverageRow{Account: a, Cells: make([]*cell, len(d.Regions))}
		for i, r := range d.Regions {
			row.Cells[i] = byKey[[2]string{a, r}]
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

func rank(s string) int {
	switch s {
	case checkOK:
		return 0
	case checkWarn:
		return 1
	}
	return 2
}

func worst(cs ...check) string {
	w := checkOK
	for _, c := range cs {
		if rank(c.Status) > rank(w) {
			w = c.Status
		}
	}
	return w
}

// maxCoverageGroups bounds the log groups one scope contributes, so a scope with thousands of
// groups cannot make the page slow; CloudTrail groups are few.
const maxCoverageGroups = 500

func (c *Console) allGroups(ctx context.Context, sc logs.Scope) ([]logs.LogGroup, error) {
	var out []logs.LogGroup
	for token := ""; len(out) < maxCoverageGroups; {
		g, err := c.opts.Logs.DescribeLogGroups(ctx, sc, logs.DescribeLogGroupsInput{NextToken: token})
		if err != nil {
			return nil, err
		}
		out = append(out, g.LogGroups...)
		if g.NextToken == "" || g.NextToken == token {
			break
		}
		token = g.NextToken
	}
	return out, nil
}

// cloudTrailStreams lists a group's streams named <12-digit account>_CloudTrail_<region>.
func (c *Console) cloudTrailStreams(ctx context.Context, sc logs.Scope, group string) ([]logs.LogStream, error) {
	var out []logs.LogStream
	for token, pages := "", 0; pages < 20; pages++ {
		s, err := c.opts.Logs.DescribeLogStreams(ctx, sc, logs.DescribeLogStreamsInput{LogGroupName: group, NextToken: token})
		if err != nil {
			return nil, err
		}
		for _, st := range s.LogStreams {
			if acct, region, ok := strings.Cut(st.Name, "_CloudTrail_"); ok && len(acct) == 12 && region != "" && strings.Trim(acct, "0123456789") == "" {
				out = append(out, st)
			}
		}
		if s.NextToken == "" || s.NextToken == token {
			break
		}
		token = s.NextToken
	}
	return out, nil
}

// alarmChecks looks for an alarm of the scope on the filter's metric with ALARM and OK actions
// enabled, and for a confirmed subscription or receiver on its topics: a confirmed subscription
// to any endpoint but a receiver endpoint, or a confirmed subscription to a receiver that exists
// (issue 13: "whether its topic has a confirmed subscription or receiver"). A subscription to a
// receiver endpoint with no receiver behind it reaches nobody, however confirmed.
func (c *Console) alarmChecks(ctx context.Context, sc Scope, f *logs.MetricFilter, alarms []*alarm.Record, dir receiverDirectory) (check, check, string) {
	if f == nil {
		return check{checkFail, "no alarm can watch a filter that is not there"}, check{checkFail, "nothing to notify"}, ""
	}
	t := f.Transformation
	var best *alarm.Record
	bestScore := -1
	for _, a := range alarms {
		if a.Metric == nil || Scope(a.Scope) != sc || a.Metric.Namespace != t.MetricNamespace || a.Metric.MetricName != t.MetricName {
			continue
		}
		score := 0
		if a.Metric.ActionsEnabled && len(a.Metric.AlarmActions) > 0 {
			score += 2
		}
		if a.Metric.ActionsEnabled && len(a.Metric.OKActions) > 0 {
			score++
		}
		if score > bestScore {
			best, bestScore = a, score
		}
	}
	if best == nil {
		return check{checkFail, "no alarm on " + t.MetricNamespace + " / " + t.MetricName}, check{checkFail, "nothing to notify"}, ""
	}
	url := AlarmPath(best.Scope.AccountID, best.Scope.Region, best.Name)
	m := best.Metric
	var ac check
	switch {
	case !m.ActionsEnabled:
		ac = check{checkFail, "alarm " + best.Name + " has its actions disabled"}
	case len(m.AlarmActions) == 0:
		ac = check{checkFail, "alarm " + best.Name + " has no ALARM action"}
	case len(m.OKActions) == 0:
		ac = check{checkWarn, "alarm " + best.Name + " has ALARM actions but no OK action"}
	default:
		ac = check{checkOK, "alarm " + best.Name + " with ALARM and OK actions"}
	}
	confirmed, pending := 0, 0
	var receivers, missing []string
	for _, arn := range m.AlarmActions {
		if !strings.HasPrefix(arn, "arn:aws:sns:") {
			continue
		}
		subs, _, err := c.opts.Topics.ListSubscriptions(ctx, sns.Scope(sc), arn, "")
		if err != nil {
			continue
		}
		for _, s := range subs {
			name, isReceiver, exists := dir.lookup(s.Endpoint)
			switch {
			case s.SubscriptionARN == "PendingConfirmation":
				pending++
			case !isReceiver:
				confirmed++
			case exists:
				receivers = appendOnce(receivers, name)
			default:
				missing = appendOnce(missing, name)
			}
		}
	}
	var nc check
	switch {
	case confirmed > 0 && len(receivers) > 0:
		nc = check{checkOK, "topic has a confirmed subscription and reaches " + receiverList(receivers, dir)}
	case confirmed > 0:
		nc = check{checkOK, "topic has a confirmed subscription"}
	case len(receivers) > 0:
		nc = check{checkOK, "topic reaches " + receiverList(receivers, dir)}
	case len(missing) > 0:
		nc = check{checkFail, "the topic's subscription points at receiver " + strings.Join(missing, ", ") + ", which does not exist: nobody is notified"}
	case pending > 0:
		nc = check{checkFail, "the topic's subscriptions are all pending confirmation"}
	default:
		nc = check{checkFail, "no subscription on the alarm's topics"}
	}
	return ac, nc, url
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// receiverList names receivers with their types: "receiver sec-slack (slack)".
func receiverList(names []string, dir receiverDirectory) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n
		for _, r := range dir.list {
			if r.Name == n {
				parts[i] += " (" + r.Type + ")"
			}
		}
	}
	word := "receiver "
	if len(names) > 1 {
		word = "receivers "
	}
	return word + strings.Join(parts, ", ")
}
