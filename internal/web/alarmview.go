package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// graphHours are the time ranges the alarm graph offers; the default is the first.
var graphHours = []int{3, 1, 12, 24, 72}

// reasonData is the part of StateReasonData the detail page shows: the datapoints the last
// evaluation used.
type reasonData struct {
	Statistic           string    `json:"statistic"`
	Period              int       `json:"period"`
	RecentDatapoints    []float64 `json:"recentDatapoints"`
	Threshold           *float64  `json:"threshold"`
	EvaluatedDatapoints []struct {
		Timestamp   string   `json:"timestamp"`
		SampleCount *float64 `json:"sampleCount"`
		Value       *float64 `json:"value"`
	} `json:"evaluatedDatapoints"`
}

type actionRow struct {
	State   string
	Actions []string
}

type alarmData struct {
	Rec        *alarm.Record
	M, N       int
	Period     int
	Statistic  string
	Threshold  string
	Comparison string
	Treatment  string
	Metric     string
	Reason     *reasonData
	Actions    []actionRow
	History    []alarm.HistoryItem
	Evidence   []*evidence
	GraphURL   string
	Hours      int
	HoursOpts  []int
	Self       string
}

func (c *Console) alarmRecord(r *http.Request) *alarm.Record {
	sc := alarm.Scope{AccountID: r.PathValue("account"), Region: r.PathValue("region")}
	return c.opts.Alarms.Get(sc, r.PathValue("name"))
}

func parseHours(s string) int {
	h, _ := strconv.Atoi(s)
	if slices.Contains(graphHours, h) {
		return h
	}
	return graphHours[0]
}

func (c *Console) alarmDetail(w http.ResponseWriter, r *http.Request) {
	rec := c.alarmRecord(r)
	if rec == nil {
		c.notFound(w, r, "No alarm "+r.PathValue("name")+" in "+r.PathValue("account")+"/"+r.PathValue("region")+".")
		return
	}
	hours := parseHours(r.URL.Query().Get("hours"))
	self := AlarmPath(rec.Scope.AccountID, rec.Scope.Region, rec.Name)
	d := alarmData{Rec: rec, Hours: hours, HoursOpts: graphHours, Self: self, GraphURL: self + "/graph.json?hours=" + strconv.Itoa(hours)}
	if m := rec.Metric; m != nil {
		d.M, d.N, d.Period, d.Statistic, d.Treatment = m.M(), m.N(), m.PeriodSeconds(), m.StatisticName(), m.Treatment()
		if m.Threshold != nil {
			d.Threshold = strconv.FormatFloat(*m.Threshold, 'g', -1, 64)
		}
		d.Comparison = string(m.ComparisonOperator)
		d.Metric = m.Namespace + " / " + m.MetricName
		for _, dim := range m.Dimensions {
			d.Metric += fmt.Sprintf(" %s=%s", dim.Name, dim.Value)
		}
	}
	if rec.ReasonData != "" {
		var rd reasonData
		if json.Unmarshal([]byte(rec.ReasonData), &rd) == nil {
			d.Reason = &rd
		}
	}
	for _, s := range []alarm.State{alarm.StateAlarm, alarm.StateOK, alarm.StateInsufficientData} {
		d.Actions = append(d.Actions, actionRow{State: s.String(), Actions: actionsFor(rec, s)})
	}
	limit := int32(100)
	items, _, err := c.opts.Alarms.DescribeAlarmHistory(r.Context(), rec.Scope, alarm.HistoryInput{
		AlarmName: rec.Name, AlarmTypes: []string{alarm.TypeMetric, alarm.TypeComposite}, MaxRecords: &limit,
	})
	if err != nil {
		c.failed(w, r, "read the alarm history", err)
		return
	}
	d.History = items
	if rec.State == alarm.StateAlarm && rec.Metric != nil && rec.Metric.MetricName != "" {
		d.Evidence = c.alarmEvents(r.Context(), rec, rec.StateTransitioned, 20)
	}
	c.render(w, r, http.StatusOK, "alarm", rec.Name, d)
}

// graphData is the alarm graph's JSON: per-minute values (null for a minute without data, so the
// line has gaps), the threshold, and the alarm's state over the range.
type graphData struct {
	Times     []int64    `json:"t"`
	Values    []*float64 `json:"v"`
	Threshold *float64   `json:"threshold"`
	Statistic string     `json:"statistic"`
	Label     string     `json:"label"`
	States    []band     `json:"states"`
	// Summary is the text alternative of the graph.
	Summary string `json:"summary"`
}

// band is one stretch of time in one state (unix seconds).
type band struct {
	From  int64  `json:"from"`
	To    int64  `json:"to"`
	State string `json:"state"`
}

func (c *Console) alarmGraph(w http.ResponseWriter, r *http.Request) {
	rec := c.alarmRecord(r)
	if rec == nil || rec.Metric == nil || rec.Metric.MetricName == "" {
		http.Error(w, "No metric alarm with a single metric here.", http.StatusNotFound)
		return
	}
	g, err := c.graph(r, rec, parseHours(r.URL.Query().Get("hours")))
	if err != nil {
		c.log.Error("console: alarm graph", "err", err)
		http.Error(w, "Could not read the metric.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(g)
}

func (c *Console) graph(r *http.Request, rec *alarm.Record, hours int) (graphData, error) {
	m := rec.Metric
	end := c.now().UTC().Truncate(time.Minute).Add(time.Minute)
	start := end.Add(-time.Duration(hours) * time.Hour)
	statName := m.StatisticName()
	st, ok := metrics.ParseStat(statName)
	if !ok {
		st, _ = metrics.ParseStat("Sum")
	}
	aggs, err := c.opts.Metrics.Aggregates(r.Context(), metrics.Scope{AccountID: rec.Scope.AccountID, Region: rec.Scope.Region}, metrics.AggregateQuery{
		Metric: metrics.Metric{Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: m.Dimensions},
		Start:  start, End: end, Period: 60, Unit: m.Unit,
	})
	if err != nil {
		return graphData{}, err
	}
	byMinute := map[int64]float64{}
	for i := range aggs {
		if v, ok := aggs[i].Value(st); ok {
			byMinute[aggs[i].Time.Unix()] = v
		}
	}
	g := graphData{Threshold: m.Threshold, Statistic: st.String(), Label: m.Namespace + " " + m.MetricName + " (" + st.String() + ", per minute)"}
	points, peak := 0, 0.0
	for t := start; t.Before(end); t = t.Add(time.Minute) {
		g.Times = append(g.Times, t.Unix())
		if v, ok := byMinute[t.Unix()]; ok {
			g.Values = append(g.Values, &v)
			if points == 0 || v > peak {
				peak = v
			}
			points++
		} else {
			g.Values = append(g.Values, nil)
		}
	}
	g.States, err = c.bands(r, rec, start, end)
	if err != nil {
		return graphData{}, err
	}
	g.Summary = fmt.Sprintf("%s over the last %d hours: %d minutes with data", g.Label, hours, points)
	if points > 0 {
		g.Summary += ", highest " + strconv.FormatFloat(peak, 'g', -1, 64)
	}
	if m.Threshold != nil {
		g.Summary += "; threshold " + strconv.FormatFloat(*m.Threshold, 'g', -1, 64) + " (" + string(m.ComparisonOperator) + ")"
	}
	g.Summary += "; now " + rec.State.String() + "."
	return g, nil
}

// bands turns the StateUpdate history of [start, end) into stretches of state, from the state
// before the first change in range (its oldState) to the current state.
func (c *Console) bands(r *http.Request, rec *alarm.Record, start, end time.Time) ([]band, error) {
	limit := int32(100)
	items, _, err := c.opts.Alarms.DescribeAlarmHistory(r.Context(), rec.Scope, alarm.HistoryInput{
		AlarmName: rec.Name, AlarmTypes: []string{alarm.TypeMetric}, HistoryItemType: alarm.HistoryStateUpdate,
		StartDate: &start, EndDate: &end, MaxRecords: &limit, ScanBy: "TimestampAscending",
	})
	if err != nil {
		return nil, err
	}
	type change struct {
		at       time.Time
		old, new string
	}
	var cs []change
	for _, it := range items {
		var d struct {
			OldState struct {
				StateValue string `json:"stateValue"`
			} `json:"oldState"`
			NewState struct {
				StateValue string `json:"stateValue"`
			} `json:"newState"`
		}
		if json.Unmarshal([]byte(it.HistoryData), &d) == nil {
			cs = append(cs, change{it.Timestamp, d.OldState.StateValue, d.NewState.StateValue})
		}
	}
	slices.SortFunc(cs, func(a, b change) int { return a.at.Compare(b.at) })
	cur := rec.State.String()
	if len(cs) > 0 {
		cur = cs[0].old
	}
	from := start
	// An alarm created within the range has no state before its creation (its first history
	// item, unless that expired).
	one := int32(1)
	first, _, err := c.opts.Alarms.DescribeAlarmHistory(r.Context(), rec.Scope, alarm.HistoryInput{
		AlarmName: rec.Name, AlarmTypes: []string{alarm.TypeMetric}, MaxRecords: &one, ScanBy: "TimestampAscending",
	})
	if err != nil {
		return nil, err
	}
	if len(first) == 1 && first[0].HistoryItemType == alarm.HistoryConfigurationUpdate && first[0].Timestamp.After(from) {
		from = first[0].Timestamp
	}
	var out []band
	for _, ch := range cs {
		if ch.at.After(from) && cur != "" {
			out = append(out, band{from.Unix(), ch.at.Unix(), cur})
		}
		from, cur = ch.at, ch.new
	}
	out = append(out, band{from.Unix(), end.Unix(), rec.State.String()})
	return out, nil
}
