package web

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/logs"
)

// boardPageSize is how many alarms one board page shows; the evidence and notification columns
// cost a few store reads per row, so a page stays fast however many alarms there are.
const boardPageSize = 50

// boardWorkers is how many rows of a board page look up their evidence and notification at once.
const boardWorkers = 4

// boardFilter is the board's query string: state (ALARM, INSUFFICIENT_DATA, OK, "any" or "" for
// every state but OK), account, region and page (from 1).
type boardFilter struct {
	State, Account, Region string
	Page                   int
}

func parseBoardFilter(q url.Values) boardFilter {
	f := boardFilter{State: q.Get("state"), Account: q.Get("account"), Region: q.Get("region")}
	f.Page, _ = strconv.Atoi(q.Get("page"))
	f.Page = max(f.Page, 1)
	return f
}

func (f boardFilter) keep(r *alarm.Record) bool {
	switch f.State {
	case "":
		if r.State == alarm.StateOK {
			return false
		}
	case "any":
	default:
		if r.State.String() != f.State {
			return false
		}
	}
	return (f.Account == "" || r.Scope.AccountID == f.Account) && (f.Region == "" || r.Scope.Region == f.Region)
}

// Query is the filter's query string with another page.
func (f boardFilter) Query(page int) string {
	v := url.Values{}
	for k, s := range map[string]string{"state": f.State, "account": f.Account, "region": f.Region} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// boardRow is one alarm on the board.
type boardRow struct {
	Rec          *alarm.Record
	Evidence     *evidence
	Notification string
	// NotificationOK is false when the notification failed or is still pending.
	NotificationOK bool
}

type boardData struct {
	Filter           boardFilter
	Rows             []boardRow
	Total            int
	Counts           map[string]int
	Accounts         []string
	Regions          []string
	Page, Pages      int
	PrevURL, NextURL string
}

// boardAlarms selects, sorts (newest transition first, then name) and counts the alarms.
func boardAlarms(all []*alarm.Record, f boardFilter) (rows []*alarm.Record, counts map[string]int, accounts, regions []string) {
	counts = map[string]int{}
	acc, reg := map[string]bool{}, map[string]bool{}
	for _, r := range all {
		counts[r.State.String()]++
		acc[r.Scope.AccountID], reg[r.Scope.Region] = true, true
		if f.keep(r) {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b *alarm.Record) int {
		if c := b.StateTransitioned.Compare(a.StateTransitioned); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := strings.Compare(a.Scope.AccountID, b.Scope.AccountID); c != 0 {
			return c
		}
		return strings.Compare(a.Scope.Region, b.Scope.Region)
	})
	for k := range acc {
		accounts = append(accounts, k)
	}
	for k := range reg {
		regions = append(regions, k)
	}
	slices.Sort(accounts)
	slices.Sort(regions)
	return rows, counts, accounts, regions
}

func (c *Console) boardData(ctx context.Context, f boardFilter) boardData {
	rows, counts, accounts, regions := boardAlarms(c.opts.Alarms.All(), f)
	d := boardData{Filter: f, Total: len(rows), Counts: counts, Accounts: accounts, Regions: regions}
	d.Pages = max(1, (len(rows)+boardPageSize-1)/boardPageSize)
	d.Page = min(f.Page, d.Pages)
	lo := (d.Page - 1) * boardPageSize
	page := rows[lo:min(lo+boardPageSize, len(rows))]
	// Each row costs a few store reads (evidence, notification); they run on a few goroutines,
	// so a cold page waits for the slowest rows, not for their sum.
	d.Rows = make([]boardRow, len(page))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(boardWorkers, len(page)) {
		wg.Go(func() {
			for i := range next {
				r := page[i]
				row := boardRow{Rec: r}
				if r.State == alarm.StateAlarm {
					row.Evidence = c.lastEvidence(ctx, r)
				}
				row.Notification, row.NotificationOK = c.notificationStatus(ctx, r)
				d.Rows[i] = row
			}
		})
	}
	for i := range page {
		next <- i
	}
	close(next)
	wg.Wait()
	if d.Page > 1 {
		d.PrevURL = "/console/board" + f.Query(d.Page-1)
	}
	if d.Page < d.Pages {
		d.NextURL = "/console/board" + f.Query(d.Page+1)
	}
	return d
}

func (c *Console) board(w http.ResponseWriter, r *http.Request) {
	d := c.boardData(r.Context(), parseBoardFilter(r.URL.Query()))
	if r.URL.Query().Get("fragment") == "rows" {
		// The live update: the same rows, without the layout, for the script to swap in.
		var buf strings.Builder
		if err := c.pages.byName["board"].ExecuteTemplate(&buf, "rows", base{Now: c.now().UTC(), Data: d}); err != nil {
			c.failed(w, r, "render the board", err)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(buf.String()))
		return
	}
	c.render(w, r, http.StatusOK, "board", "Alert board", d)
}

// boardStream tells the board's script, over server-sent events, when any alarm changed (a
// fingerprint of every alarm's state and transition time, checked every 250 ms in memory), so
// the board updates within a second of a transition without polling the rows.
func (c *Console) boardStream(w http.ResponseWriter, r *http.Request) {
	fl, ok := startSSE(w)
	if !ok {
		return
	}
	last := uint64(0)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	keepalive := 0
	for {
		fp := c.fingerprint()
		if fp != last {
			last = fp
			fmt.Fprintf(w, "event: changed\ndata: %d\n\n", fp)
			fl.Flush()
		} else if keepalive++; keepalive%60 == 0 {
			fmt.Fprint(w, ": keepalive\n\n")
			fl.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-c.closing:
			return
		case <-tick.C:
		}
	}
}

// fingerprint hashes every alarm's identity, state and transition time, order-independently.
func (c *Console) fingerprint() uint64 {
	var sum uint64
	for _, r := range c.opts.Alarms.All() {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%d", r.Scope.AccountID, r.Scope.Region, r.Name, r.State, r.StateUpdated.UnixNano())
		sum += h.Sum64()
	}
	return sum + 1
}

// startSSE starts a server-sent event response; ok is false when the connection cannot stream.
func startSSE(w http.ResponseWriter) (http.Flusher, bool) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "Streaming is not supported.", http.StatusInternalServerError)
		return nil, false
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // the server's write timeout would end the stream
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	return fl, true
}

// actionsFor is the alarm's actions for state s.
func actionsFor(r *alarm.Record, s alarm.State) []string {
	var ok, al, ins []string
	switch {
	case r.Metric != nil:
		ok, al, ins = r.Metric.OKActions, r.Metric.AlarmActions, r.Metric.InsufficientDataActions
	case r.Composite != nil:
		ok, al, ins = r.Composite.OKActions, r.Composite.AlarmActions, r.Composite.InsufficientDataActions
	}
	switch s {
	case alarm.StateOK:
		return ok
	case alarm.StateAlarm:
		return al
	case alarm.StateInsufficientData:
		return ins
	}
	return nil
}

// notificationStatus says whether the actions of the alarm's latest transition went out: the
// Action history items written since it ("published to SNS" means the topic accepted the message;
// the notifications page shows each delivery).
func (c *Console) notificationStatus(ctx context.Context, r *alarm.Record) (string, bool) {
	acts := actionsFor(r, r.State)
	if len(acts) == 0 {
		return "no actions for " + r.State.String(), r.State != alarm.StateAlarm
	}
	if !r.ActionsEnabled() {
		return "actions disabled", false
	}
	limit := int32(min(100, 4*len(acts)))
	since := r.StateUpdated
	items, _, err := c.opts.Alarms.DescribeAlarmHistory(ctx, r.Scope, alarm.HistoryInput{
		AlarmName: r.Name, AlarmTypes: []string{alarm.TypeMetric, alarm.TypeComposite}, HistoryItemType: alarm.HistoryAction,
		StartDate: &since, MaxRecords: &limit,
	})
	if err != nil {
		return "unknown: " + err.Error(), false
	}
	done, failed := 0, ""
	for _, it := range items {
		var data struct {
			StateUpdateTimestamp int64 `json:"stateUpdateTimestamp"`
		}
		if json.Unmarshal([]byte(it.HistoryData), &data) == nil && data.StateUpdateTimestamp != r.StateUpdated.UnixMilli() {
			continue
		}
		done++
		if strings.HasPrefix(it.HistorySummary, "Failed") && failed == "" {
			failed = it.HistorySummary
		}
	}
	switch {
	case failed != "":
		return failed, false
	case done >= len(acts):
		return fmt.Sprintf("published to SNS (%d of %d)", len(acts), len(acts)), true
	}
	return fmt.Sprintf("pending (%d of %d published)", done, len(acts)), false
}

// evidence is one log event behind an alarm or in the feed, with where it is stored.
type evidence struct {
	Scope         Scope
	LogGroupName  string
	LogStreamName string
	Timestamp     int64
	IngestionTime int64
	Filters       []string
	// CloudTrail is set for CloudTrail records; Message is the raw event otherwise (cut).
	CloudTrail *cloudtrail.Summary
	Message    string
	// key identifies the event in the feed (feedKey).
	key string
}

// URL is the evidence page of the event.
func (e *evidence) URL() string {
	v := url.Values{"account": {e.Scope.AccountID}, "region": {e.Scope.Region}, "group": {e.LogGroupName},
		"stream": {e.LogStreamName}, "ts": {strconv.FormatInt(e.Timestamp, 10)}}
	return "/console/evidence?" + v.Encode()
}

func newEvidence(sc Scope, group, stream string, ts, ingested int64, msg string, filters []string) *evidence {
	e := &evidence{Scope: sc, LogGroupName: group, LogStreamName: stream, Timestamp: ts, IngestionTime: ingested, Filters: filters}
	if s, ok := cloudtrail.Summarize([]byte(msg)); ok {
		e.CloudTrail = &s
	} else {
		e.Message = cut(msg, 300)
	}
	return e
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// evidenceCache keeps the last evidence of an alarm's transition: the search window ends a
// minute after the transition, so the answer for one transition does not change.
type evidenceCache struct {
	mu    sync.Mutex
	max   int
	items map[string]*evidence
}

func newEvidenceCache(n int) *evidenceCache {
	return &evidenceCache{max: n, items: map[string]*evidence{}}
}

func (ec *evidenceCache) get(k string) (*evidence, bool) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	e, ok := ec.items[k]
	return e, ok
}

func (ec *evidenceCache) put(k string, e *evidence) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if len(ec.items) >= ec.max {
		clear(ec.items) // crude but bounded; the board refills what it shows
	}
	ec.items[k] = e
}

// evidenceWindow is the time range searched for an alarm's evidence: its evaluation periods up
// to the transition, plus a minute after it for events stamped slightly ahead (the window the SNS
// enrichment uses, notify.Window).
func evidenceWindow(at time.Time, period, n int) (time.Time, time.Time) {
	p := time.Duration(max(period, 60)) * time.Second
	return at.Truncate(p).Add(-time.Duration(max(n, 1)) * p), at.Add(time.Minute)
}

// lastEvidence finds the newest event behind a metric alarm's transition to ALARM: the events of
// the evaluation window that the metric filters publishing its metric match. nil when the metric
// does not come from a metric filter or nothing matched.
func (c *Console) lastEvidence(ctx context.Context, r *alarm.Record) *evidence {
	if r.Metric == nil || r.Metric.MetricName == "" {
		return nil
	}
	key := fmt.Sprintf("%s\x00%s\x00%s\x00%d", r.Scope.AccountID, r.Scope.Region, r.Name, r.StateTransitioned.UnixNano())
	if e, ok := c.evidence.get(key); ok {
		return e
	}
	events := c.alarmEvents(ctx, r, r.StateTransitioned, 1000)
	var e *evidence
	if len(events) > 0 {
		e = events[len(events)-1]
	}
	c.evidence.put(key, e)
	return e
}

// alarmEvents returns up to limit events (oldest first, the newest kept when there are more)
// that the alarm's metric filters matched in the evaluation window ending at at.
func (c *Console) alarmEvents(ctx context.Context, r *alarm.Record, at time.Time, limit int) []*evidence {
	m := r.Metric
	sc := logs.Scope{AccountID: r.Scope.AccountID, Region: r.Scope.Region}
	fs, err := c.opts.Logs.DescribeMetricFilters(ctx, sc, logs.DescribeMetricFiltersInput{MetricName: m.MetricName, MetricNamespace: m.Namespace})
	if err != nil || len(fs.MetricFilters) == 0 {
		return nil
	}
	n := 1
	if m.EvaluationPeriods != nil {
		n = int(*m.EvaluationPeriods)
	}
	start, end := evidenceWindow(at, m.PeriodSeconds(), n)
	var out []*evidence
	for _, f := range fs.MetricFilters {
		token := ""
		for pages := 0; pages < 5; pages++ {
			lim := 1000
			res, err := c.opts.Logs.FilterLogEvents(ctx, sc, logs.FilterLogEventsInput{LogGroupName: f.LogGroupName, FilterPattern: f.FilterPattern,
				StartTime: start.UnixMilli(), EndTime: end.UnixMilli(), NextToken: token, Limit: &lim})
			if err != nil {
				break
			}
			for _, ev := range res.Events {
				out = append(out, newEvidence(Scope(sc), f.LogGroupName, ev.LogStreamName, ev.Timestamp, ev.IngestionTime, ev.Message, []string{f.FilterName}))
			}
			if res.NextToken == "" || res.NextToken == token {
				break
			}
			token = res.NextToken
		}
	}
	slices.SortStableFunc(out, func(a, b *evidence) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	if len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
}
