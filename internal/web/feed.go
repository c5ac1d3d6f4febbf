package web

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
)

// feedSize is how many matched events the feed keeps in memory (newest), and feedQueue how many
// stored batches may wait for matching before new ones are dropped from the live feed.
const (
	feedSize  = 500
	feedQueue = 1024
)

// feedIdle is how long after the feed was last looked at it keeps matching stored batches.
const feedIdle = 10 * time.Minute

// feed is the event feed: batches reported by the logs service (OnStored) are matched against
// their group's metric filters on the feed's own goroutine, and the matching events are kept in
// a ring and sent to every open event stream.
//
// Matching a batch costs what ingestion spent on it once more, so the feed only does it while
// someone looks: while a stream is open or within feedIdle of the feed page being shown.
// Otherwise batches are left alone and the feed is marked stale; the next look fills it again
// from the store (prime), bounded, with the newest stored matches.
type feed struct {
	in  chan logs.StoredBatch
	now func() time.Time

	// watchedUntil (unix ms) and open tell whether anyone looks; stale is set when a batch was
	// left alone, so the ring misses events until the next prime.
	watchedUntil atomic.Int64
	open         atomic.Int32
	stale        atomic.Bool

	mu      sync.Mutex
	ring    []*evidence // oldest first, at most size
	keys    map[string]int
	size    int
	seq     int64
	dropped int64
	subs    map[chan feedItem]struct{}
}

// feedItem is one matched event with its number in the feed.
type feedItem struct {
	Seq int64
	Ev  *evidence
}

func newFeed(size int, now func() time.Time) *feed {
	f := &feed{in: make(chan logs.StoredBatch, feedQueue), now: now, size: size, keys: map[string]int{}, subs: map[chan feedItem]struct{}{}}
	f.stale.Store(true) // nothing is in it yet: the first look primes it
	return f
}

// offer queues a batch without blocking; a full queue drops it (and counts it). Nobody looking,
// it leaves the batch alone and marks the feed stale.
func (f *feed) offer(b logs.StoredBatch) {
	if f.open.Load() == 0 && f.now().UnixMilli() > f.watchedUntil.Load() {
		f.stale.Store(true)
		return
	}
	select {
	case f.in <- b:
	default:
		f.mu.Lock()
		f.dropped += int64(len(b.Events))
		f.mu.Unlock()
	}
}

func (f *feed) run(ctx context.Context, src LogSource, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-f.in:
			msgs := make([]string, len(b.Events))
			for i, e := range b.Events {
				msgs[i] = e.Message
			}
			matched, err := src.MatchingFilters(ctx, b.Scope, b.LogGroupName, msgs)
			if err != nil {
				log.Warn("console feed: match stored events", "group", b.LogGroupName, "err", err)
				continue
			}
			for i, names := range matched {
				if len(names) == 0 {
					continue
				}
				e := b.Events[i]
				f.add(newEvidence(Scope(b.Scope), b.LogGroupName, b.LogStreamName, e.Timestamp, b.IngestionTime, e.Message, names),
					feedKey(b.LogGroupName, b.LogStreamName, e.Timestamp, e.Message))
			}
		}
	}
}

// feedKey identifies an event, so that one read by a prime and also reported by OnStored is kept
// once: where and when it is stored, and a hash of its message.
func feedKey(group, stream string, ts int64, msg string) string {
	h := fnv.New64a()
	h.Write([]byte(msg))
	return fmt.Sprintf("%s\x00%s\x00%d\x00%x", group, stream, ts, h.Sum64())
}

// Priming bounds: the newest primeEvents events of the primeStreams most recently active streams
// of at most primeGroups log groups with metric filters.
const (
	primeGroups  = 50
	primeStreams = 5
	primeEvents  = 200
)

// watch records a look at the feed and, when the feed is stale (after a start, or batches left
// alone while nobody looked), primes it first.
func (c *Console) watch(ctx context.Context) {
	c.feed.watchedUntil.Store(c.now().Add(feedIdle).UnixMilli())
	if c.feed.stale.CompareAndSwap(true, false) {
		c.prime(ctx)
	}
}

// prime fills the feed with the matches among the newest stored events of the log groups that
// have metric filters, so that neither a restart nor a time nobody looked leaves it empty. It
// reads the newest events of the most recently active streams from their end (GetLogEvents), a
// bounded amount; events already in the feed are not added again.
func (c *Console) prime(ctx context.Context) {
	scopes, err := c.opts.Scopes(ctx)
	if err != nil {
		c.log.Warn("console feed: list scopes", "err", err)
		return
	}
	type match struct {
		ev  *evidence
		key string
	}
	var found []match
	groups := 0
	for _, sc := range scopes {
		lsc := logs.Scope(sc)
		gs, err := c.allGroups(ctx, lsc)
		if err != nil {
			c.log.Warn("console feed: list log groups", "err", err)
			continue
		}
		for _, g := range gs {
			if g.MetricFilterCount == 0 || groups == primeGroups {
				continue
			}
			groups++
			n := primeStreams
			ss, err := c.opts.Logs.DescribeLogStreams(ctx, lsc, logs.DescribeLogStreamsInput{LogGroupName: g.Name, OrderBy: "LastEventTime", Descending: true, Limit: &n})
			if err != nil {
				continue
			}
			for _, st := range ss.LogStreams {
				lim := primeEvents
				out, err := c.opts.Logs.GetLogEvents(ctx, lsc, logs.GetLogEventsInput{LogGroupName: g.Name, LogStreamName: st.Name, Limit: &lim})
				if err != nil || len(out.Events) == 0 {
					continue
				}
				msgs := make([]string, len(out.Events))
				for i, e := range out.Events {
					msgs[i] = e.Message
				}
				matched, err := c.opts.Logs.MatchingFilters(ctx, lsc, g.Name, msgs)
				if err != nil {
					continue
				}
				for i, names := range matched {
					if len(names) > 0 {
						e := out.Events[i]
						found = append(found, match{newEvidence(sc, g.Name, st.Name, e.Timestamp, e.IngestionTime, e.Message, names), feedKey(g.Name, st.Name, e.Timestamp, e.Message)})
					}
				}
			}
		}
	}
	slices.SortStableFunc(found, func(a, b match) int { return cmp.Compare(a.ev.IngestionTime, b.ev.IngestionTime) })
	if len(found) > c.feed.size {
		found = found[len(found)-c.feed.size:]
	}
	for _, m := range found {
		c.feed.add(m.ev, m.key)
	}
}

// add appends a matched event unless the feed holds it already (key).
func (f *feed) add(e *evidence, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys[key] > 0 {
		return
	}
	f.keys[key]++
	e.key = key
	f.seq++
	f.ring = append(f.ring, e)
	if n := len(f.ring) - f.size; n > 0 {
		for _, old := range f.ring[:n] {
			if f.keys[old.key]--; f.keys[old.key] <= 0 {
				delete(f.keys, old.key)
			}
		}
		f.ring = slices.Clone(f.ring[n:])
	}
	it := feedItem{Seq: f.seq, Ev: e}
	for ch := range f.subs {
		select {
		case ch <- it:
		default: // a stalled client misses events rather than holding up the feed
		}
	}
}

// snapshot returns the kept events, newest first, and the sequence number of the newest.
func (f *feed) snapshot() ([]*evidence, int64, int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*evidence, len(f.ring))
	for i, e := range f.ring {
		out[len(f.ring)-1-i] = e
	}
	return out, f.seq, f.dropped
}

func (f *feed) subscribe() chan feedItem {
	ch := make(chan feedItem, 256)
	f.mu.Lock()
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	f.open.Add(1)
	return ch
}

func (f *feed) unsubscribe(ch chan feedItem) {
	f.mu.Lock()
	delete(f.subs, ch)
	f.mu.Unlock()
	f.open.Add(-1)
}

type feedData struct {
	Events  []*evidence
	Seq     int64
	Dropped int64
}

func (c *Console) feedPage(w http.ResponseWriter, r *http.Request) {
	c.watch(r.Context())
	evs, seq, dropped := c.feed.snapshot()
	c.render(w, r, http.StatusOK, "feed", "Event feed", feedData{Events: evs, Seq: seq, Dropped: dropped})
}

// feedJSON is one event as the feed's script receives it; the script sets every value as text.
type feedJSON struct {
	Seq         int64    `json:"seq"`
	URL         string   `json:"url"`
	EventTime   string   `json:"eventTime"`
	Detected    string   `json:"detected"`
	Account     string   `json:"account"`
	Region      string   `json:"region"`
	Identity    string   `json:"identity"`
	EventName   string   `json:"eventName"`
	Outcome     string   `json:"outcome"`
	SourceIP    string   `json:"sourceIP"`
	UserAgent   string   `json:"userAgent"`
	MFA         string   `json:"mfa"`
	Filters     []string `json:"filters"`
	LogGroup    string   `json:"logGroup"`
	Message     string   `json:"message"`
	IsRecord    bool     `json:"isRecord"`
	IdentityARN string   `json:"identityArn"`
}

func toFeedJSON(it feedItem) feedJSON {
	e := it.Ev
	j := feedJSON{Seq: it.Seq, URL: e.URL(), EventTime: time.UnixMilli(e.Timestamp).UTC().Format("2006-01-02 15:04:05Z"),
		Detected: time.UnixMilli(e.IngestionTime).UTC().Format("2006-01-02 15:04:05Z"), Filters: e.Filters, LogGroup: e.LogGroupName, Message: e.Message}
	if ct := e.CloudTrail; ct != nil {
		j.IsRecord = true
		j.Account, j.Region, j.Identity, j.IdentityARN = ct.AccountID, ct.AWSRegion, ct.IdentityType, ct.IdentityARN
		j.EventName, j.Outcome, j.SourceIP, j.UserAgent, j.MFA = ct.EventName, ct.Outcome, ct.SourceIPAddress, ct.UserAgent, ct.MFAUsed
		if ct.ErrorCode != "" {
			j.Outcome += " (" + ct.ErrorCode + ")"
		}
	}
	return j
}

// feedStream sends each newly matched event as a server-sent event "match" whose data is
// feedJSON; events after the client's ?after= sequence number that are still kept are sent
// first, so a page loaded between two events misses none.
func (c *Console) feedStream(w http.ResponseWriter, r *http.Request) {
	ch := c.feed.subscribe()
	defer c.feed.unsubscribe(ch)
	c.watch(r.Context())
	fl, ok := startSSE(w)
	if !ok {
		return
	}
	var after int64
	fmt.Sscan(r.URL.Query().Get("after"), &after)
	evs, seq, _ := c.feed.snapshot()
	for i := len(evs) - 1; i >= 0; i-- {
		if n := seq - int64(i); n > after {
			writeMatch(w, feedItem{Seq: n, Ev: evs[i]})
			after = n
		}
	}
	fl.Flush()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.closing:
			return
		case it := <-ch:
			if it.Seq <= after {
				continue
			}
			after = it.Seq
			writeMatch(w, it)
			fl.Flush()
		case <-keepalive.C:
			fmt.Fprint(w, ": keepalive\n\n")
			fl.Flush()
		}
	}
}

func writeMatch(w http.ResponseWriter, it feedItem) {
	b, _ := json.Marshal(toFeedJSON(it)) // JSON has no raw newlines: one data line
	fmt.Fprintf(w, "id: %d\nevent: match\ndata: %s\n\n", it.Seq, b)
}
