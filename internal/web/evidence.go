package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/pattern"
)

// relatedWindow is how far around an event the evidence page looks for other events of the same
// principal or source address.
const relatedWindow = 15 * time.Minute

// field is one leaf of a JSON record, in document order.
type field struct {
	Path  string
	Value string
	// Tested is set when a matching filter's pattern tests this field.
	Tested bool
}

type filterMatch struct {
	Name      string
	Pattern   string
	Metric    string
	Selectors []string
	Extracted map[string]string
}

type evidenceEvent struct {
	Ev      *evidence
	Raw     string
	Fields  []field
	Matched []filterMatch
	Related []*evidence
	// RelatedBy says what the related events share with this one.
	RelatedBy string
}

type evidenceData struct {
	Group, Stream string
	At            time.Time
	Events        []evidenceEvent
}

// evidencePage shows the events stored at one millisecond of one stream (normally one
// CloudTrail record) in full, with the fields the matching filters test marked, the filters that
// match, and the other events of the same principal or source IP within 15 minutes.
func (c *Console) evidencePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sc := logs.Scope{AccountID: q.Get("account"), Region: q.Get("region")}
	group, stream := q.Get("group"), q.Get("stream")
	ts, err := strconv.ParseInt(q.Get("ts"), 10, 64)
	if err != nil || group == "" || stream == "" || sc.AccountID == "" || sc.Region == "" {
		c.render(w, r, http.StatusBadRequest, "error", "Bad request", errorData{Message: "An evidence link names an account, a region, a log group, a stream and a timestamp (ms)."})
		return
	}
	ctx := r.Context()
	lim := 20
	out, err := c.opts.Logs.GetLogEvents(ctx, sc, logs.GetLogEventsInput{LogGroupName: group, LogStreamName: stream, StartTime: ts, EndTime: ts + 1, StartFromHead: true, Limit: &lim})
	if err != nil {
		c.notFound(w, r, "No such log stream: "+err.Error())
		return
	}
	if len(out.Events) == 0 {
		c.notFound(w, r, "No event is stored at that time in that stream (it may have expired with the group's retention).")
		return
	}
	var filters []logs.MetricFilter
	for token := ""; ; {
		fo, err := c.opts.Logs.DescribeMetricFilters(ctx, sc, logs.DescribeMetricFiltersInput{LogGroupName: group, NextToken: token})
		if err != nil {
			c.failed(w, r, "list the metric filters", err)
			return
		}
		filters = append(filters, fo.MetricFilters...)
		if fo.NextToken == "" || fo.NextToken == token {
			break
		}
		token = fo.NextToken
	}
	d := evidenceData{Group: group, Stream: stream, At: time.UnixMilli(ts).UTC()}
	for _, e := range out.Events {
		ee := evidenceEvent{Raw: indentJSON(e.Message)}
		tested := map[string]bool{}
		var names []string
		for _, f := range filters {
			m, err := c.opts.Logs.TestMetricFilter(ctx, f.FilterPattern, []string{e.Message})
			if err != nil || len(m) == 0 {
				continue
			}
			fm := filterMatch{Name: f.FilterName, Pattern: f.FilterPattern, Metric: f.Transformation.MetricNamespace + " / " + f.Transformation.MetricName, Extracted: m[0].ExtractedValues}
			if p, err := pattern.Compile(f.FilterPattern); err == nil {
				fm.Selectors = p.Selectors()
				for _, s := range fm.Selectors {
					tested[s] = true
				}
			}
			ee.Matched = append(ee.Matched, fm)
			names = append(names, f.FilterName)
		}
		ee.Ev = newEvidence(Scope(sc), group, stream, e.Timestamp, e.IngestionTime, e.Message, names)
		ee.Fields = flatten(e.Message, tested)
		ee.Related, ee.RelatedBy = c.related(r, sc, group, e, ee.Ev)
		d.Events = append(d.Events, ee)
	}
	c.render(w, r, http.StatusOK, "evidence", "Evidence", d)
}

// related finds up to 50 other events of the group, within relatedWindow of e, from the same
// principal (userIdentity.arn) or source IP address.
func (c *Console) related(r *http.Request, sc logs.Scope, group string, e logs.Event, ev *evidence) ([]*evidence, string) {
	ct := ev.CloudTrail
	if ct == nil {
		return nil, ""
	}
	var conds, by []string
	if ct.IdentityARN != "" && patternSafe(ct.IdentityARN) {
		conds, by = append(conds, `$.userIdentity.arn = "`+ct.IdentityARN+`"`), append(by, "principal "+ct.IdentityARN)
	}
	if ct.SourceIPAddress != "" && patternSafe(ct.SourceIPAddress) {
		conds, by = append(conds, `$.sourceIPAddress = "`+ct.SourceIPAddress+`"`), append(by, "source IP "+ct.SourceIPAddress)
	}
	if len(conds) == 0 {
		return nil, ""
	}
	lim := 51
	out, err := c.opts.Logs.FilterLogEvents(r.Context(), sc, logs.FilterLogEventsInput{LogGroupName: group,
		FilterPattern: "{ " + strings.Join(conds, " || ") + " }",
		StartTime:     e.Timestamp - relatedWindow.Milliseconds(), EndTime: e.Timestamp + relatedWindow.Milliseconds() + 1, Limit: &lim})
	if err != nil {
		c.log.Warn("console: related events", "err", err)
		return nil, strings.Join(by, " or ")
	}
	var rel []*evidence
	for _, o := range out.Events {
		if o.Seq == e.Seq || len(rel) == 50 {
			continue
		}
		rel = append(rel, newEvidence(Scope(sc), group, o.LogStreamName, o.Timestamp, o.IngestionTime, o.Message, nil))
	}
	return rel, strings.Join(by, " or ")
}

// patternSafeRe is what a value may hold to be quoted in a filter pattern as it is: no quote, no
// backslash, no wildcard, no space.
var patternSafeRe = regexp.MustCompile(`^[A-Za-z0-9:/._@+=,\-]+$`)

// patternSafe reports whether v can be put between double quotes in a filter pattern as it is.
func patternSafe(v string) bool { return len(v) <= 256 && patternSafeRe.MatchString(v) }

func indentJSON(msg string) string {
	var b bytes.Buffer
	if json.Indent(&b, []byte(msg), "", "  ") != nil {
		return msg
	}
	return b.String()
}

// flatten lists the leaves of a JSON object as ($.a.b, value) in document order, marking those
// tested; a message that is not JSON gives nil.
func flatten(msg string, tested map[string]bool) []field {
	dec := json.NewDecoder(strings.NewReader(msg))
	dec.UseNumber()
	var out []field
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				for dec.More() {
					k, err := dec.Token()
					if err != nil {
						return err
					}
					key, _ := k.(string)
					if err := walk(path + "." + key); err != nil {
						return err
					}
				}
			case '[':
				for i := 0; dec.More(); i++ {
					if err := walk(path + "[" + strconv.Itoa(i) + "]"); err != nil {
						return err
					}
				}
			}
			_, err := dec.Token() // the closing delimiter
			return err
		case string:
			out = append(out, field{Path: path, Value: t, Tested: tested[path]})
		case nil:
			out = append(out, field{Path: path, Value: "null", Tested: tested[path]})
		default:
			out = append(out, field{Path: path, Value: fmt.Sprint(t), Tested: tested[path]})
		}
		return nil
	}
	if err := walk("$"); err != nil {
		return nil
	}
	// A selector naming a field the record lacks (NOT EXISTS tests) is listed too.
	have := map[string]bool{}
	for _, f := range out {
		have[f.Path] = true
	}
	var missing []string
	for s := range tested {
		if !have[s] {
			missing = append(missing, s)
		}
	}
	slices.Sort(missing)
	for _, s := range missing {
		out = append(out, field{Path: s, Value: "(absent)", Tested: true})
	}
	return out
}
