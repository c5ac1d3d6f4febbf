package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
)

// Workbench limits: TestMetricFilter takes at most 50 messages; the 7-day count stops at
// workbenchScan matching events or after workbenchPages FilterLogEvents calls (each examines at
// most 200,000 events), so it never turns into an unbounded scan of a large group; the page then
// says "at least".
const (
	workbenchLines = 50
	workbenchScan  = 10000
	workbenchPages = 10
)

type workbenchData struct {
	Pattern    string
	Lines      string
	Account    string
	Region     string
	LogGroup   string
	Scopes     []Scope
	Groups     []string
	Tested     bool
	Source     string
	Tried      int
	Matches    []logs.MetricFilterMatch
	Error      string
	Count      int
	CountBound bool
	Counted    bool
	// Create form.
	FilterName, Namespace, MetricName, MetricValue string
	Created                                        string
}

func (c *Console) workbenchForm(r *http.Request) workbenchData {
	d := workbenchData{
		Pattern: r.FormValue("pattern"), Lines: r.FormValue("lines"), Account: r.FormValue("account"), Region: r.FormValue("region"),
		LogGroup: r.FormValue("group"), FilterName: r.FormValue("filter_name"), Namespace: r.FormValue("namespace"),
		MetricName: r.FormValue("metric_name"), MetricValue: r.FormValue("metric_value"),
	}
	if d.Pattern == "" && r.Method == http.MethodGet {
		d.Pattern = cisRoot
	}
	if d.Account == "" {
		d.Account = c.opts.Home.AccountID
	}
	if d.Region == "" {
		d.Region = c.opts.Home.Region
	}
	if d.FilterName == "" {
		d.FilterName, d.Namespace, d.MetricName, d.MetricValue = "RootAccountUsage", "CloudTrailMetrics", "RootAccountUsage", "1"
	}
	if scopes, err := c.opts.Scopes(r.Context()); err == nil {
		d.Scopes = scopes
	}
	if gs, err := c.allGroups(r.Context(), logs.Scope{AccountID: d.Account, Region: d.Region}); err == nil {
		for _, g := range gs {
			d.Groups = append(d.Groups, g.Name)
		}
	}
	return d
}

// workbench tests a pattern: against pasted lines, or against the newest stored events of a log
// group, with TestMetricFilter's answer (extracted values included), and counts the group's
// events it would have matched in the last 7 days. Testing changes nothing (a POST only because
// the pasted lines can be long).
func (c *Console) workbench(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	d := c.workbenchForm(r)
	if r.Method == http.MethodPost {
		c.testPattern(r, &d)
	}
	c.render(w, r, http.StatusOK, "workbench", "Metric-filter workbench", d)
}

func (c *Console) testPattern(r *http.Request, d *workbenchData) {
	ctx := r.Context()
	d.Tested = true
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(d.Lines, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	sc := logs.Scope{AccountID: d.Account, Region: d.Region}
	now := c.now()
	weekAgo := now.Add(-7 * 24 * time.Hour).UnixMilli()
	if len(lines) == 0 && d.LogGroup != "" {
		// The newest stored events: the last 50 of the stream that received events last
		// (GetLogEvents reads a stream from its end; FilterLogEvents only reads forwards).
		one := 1
		ss, err := c.opts.Logs.DescribeLogStreams(ctx, sc, logs.DescribeLogStreamsInput{LogGroupName: d.LogGroup, OrderBy: "LastEventTime", Descending: true, Limit: &one})
		if err != nil {
			d.Error = errorText(err)
			return
		}
		if len(ss.LogStreams) == 0 {
			d.Error = "The log group has no stream yet."
			return
		}
		st := ss.LogStreams[0].Name
		d.Source = "the newest stored events of " + d.LogGroup + " (stream " + st + ")"
		lim := workbenchLines
		out, err := c.opts.Logs.GetLogEvents(ctx, sc, logs.GetLogEventsInput{LogGroupName: d.LogGroup, LogStreamName: st, Limit: &lim})
		if err != nil {
			d.Error = errorText(err)
			return
		}
		for _, e := range out.Events {
			lines = append(lines, e.Message)
		}
	} else {
		d.Source = "the pasted lines"
		if len(lines) > workbenchLines {
			d.Error = "At most 50 lines can be tested at once (TestMetricFilter's limit)."
			return
		}
	}
	d.Tried = len(lines)
	if len(lines) > 0 {
		m, err := c.opts.Logs.TestMetricFilter(ctx, d.Pattern, lines)
		if err != nil {
			d.Error = errorText(err)
			return
		}
		d.Matches = m
	}
	if d.LogGroup != "" {
		token := ""
		for pages := 0; d.Count < workbenchScan; pages++ {
			if pages == workbenchPages {
				d.CountBound = true // stopped scanning: the count is a lower bound
				break
			}
			lim := min(10000, workbenchScan-d.Count)
			out, err := c.opts.Logs.FilterLogEvents(ctx, sc, logs.FilterLogEventsInput{LogGroupName: d.LogGroup, FilterPattern: d.Pattern,
				StartTime: weekAgo, EndTime: now.UnixMilli() + 1, NextToken: token, Limit: &lim})
			if err != nil {
				d.Error = errorText(err)
				return
			}
			d.Count += len(out.Events)
			if out.NextToken == "" || out.NextToken == token {
				break
			}
			token = out.NextToken
		}
		d.Counted, d.CountBound = true, d.CountBound || d.Count >= workbenchScan
	}
}

// errorText is an AWS error's message, or the error.
func errorText(err error) string {
	if e, ok := err.(interface{ ErrorMessage() string }); ok && e.ErrorMessage() != "" {
		return e.ErrorMessage()
	}
	return err.Error()
}

// createFilter puts the metric filter through the logs service, with PutMetricFilter's own
// validation and errors.
func (c *Console) createFilter(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	d := c.workbenchForm(r)
	in := logs.PutMetricFilterInput{LogGroupName: d.LogGroup, FilterName: d.FilterName, FilterPattern: d.Pattern,
		MetricTransformations: []logs.MetricTransformation{{MetricName: d.MetricName, MetricNamespace: d.Namespace, MetricValue: d.MetricValue}}}
	status := http.StatusOK
	if d.LogGroup == "" {
		d.Error, status = "Choose the log group the filter belongs to.", http.StatusBadRequest
	} else if err := c.opts.Logs.PutMetricFilter(r.Context(), logs.Scope{AccountID: d.Account, Region: d.Region}, in); err != nil {
		d.Error, status = errorText(err), http.StatusBadRequest
	} else {
		d.Created = "Metric filter " + d.FilterName + " on " + d.LogGroup + " now publishes " + d.Namespace + " / " + d.MetricName + "."
		c.log.Info("console: metric filter put", "account", d.Account, "region", d.Region, "group", d.LogGroup, "filter", d.FilterName)
	}
	c.render(w, r, status, "workbench", "Metric-filter workbench", d)
}
