package logs

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// filterSamples drops the AWS/Logs samples every stored batch carries, for tests about metric
// filters.
func filterSamples(ss []metrics.Sample) []metrics.Sample {
	var out []metrics.Sample
	for _, s := range ss {
		if s.Namespace != ServiceNamespace {
			out = append(out, s)
		}
	}
	return out
}

// incoming sums the AWS/Logs samples of ss by metric and LogGroupName ("" for the account-wide
// form), checking each sample's unit, time and form on the way.
func incoming(t *testing.T, ss []metrics.Sample, at time.Time) map[string]float64 {
	t.Helper()
	sums := map[string]float64{}
	for _, s := range ss {
		if s.Namespace != ServiceNamespace {
			continue
		}
		wantUnit := map[string]string{MetricIncomingLogEvents: "None", MetricIncomingBytes: "Bytes"}[s.MetricName]
		if wantUnit == "" || s.Unit != wantUnit || !s.Timestamp.Equal(at) || s.Default || s.Count != 0 || s.Stats != nil ||
			s.AccountID != scope.AccountID || s.Region != scope.Region {
			t.Fatalf("unexpected AWS/Logs sample %+v", s)
		}
		group := ""
		switch len(s.Dimensions) {
		case 0:
		case 1:
			if s.Dimensions[0].Name != DimensionLogGroupName {
				t.Fatalf("dimension %+v", s.Dimensions)
			}
			group = s.Dimensions[0].Value
		default:
			t.Fatalf("dimensions %+v", s.Dimensions)
		}
		sums[s.MetricName+"/"+group] += s.Value
	}
	return sums
}

// TestIncomingMetricsPutLogEvents checks IncomingLogEvents and IncomingBytes against the events
// of PutLogEvents batches: accepted events only, UTF-8 bytes plus 26 each, stamped with the
// ingestion time, per group and for the account, in the batch's own transaction and handed to
// OnSamples.
func TestIncomingMetricsPutLogEvents(t *testing.T) {
	n := nowMs()
	tests := []struct {
		name         string
		retention    int
		events       []InputLogEvent
		count, bytes float64
	}{
		{"one ASCII event", 0, []InputLogEvent{{n, "a"}}, 1, 27},
		// "héllo" is 6 bytes, "日本" 6: 1+26 + 6+26 + 6+26.
		{"multi-byte messages", 0, []InputLogEvent{{n - 1, "a"}, {n, "héllo"}, {n, "日本"}}, 3, 91},
		// The event past the group's retention is rejected and not counted; one timestamped an
		// hour ago still counts now, when it arrived.
		{"expired event excluded", 1, []InputLogEvent{{n - day - 1, "old"}, {n - hour, "late"}, {n - 1, "ok"}}, 2, 58},
		{"too new event excluded", 0, []InputLogEvent{{n, "ok"}, {n + 3*hour, "new"}}, 1, 28},
		{"all rejected", 0, []InputLogEvent{{n + 3*hour, "new"}}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := &fakeStore{group: LogGroup{Name: "g", RetentionInDays: tc.retention}}
			s := NewService(fs, func() time.Time { return now })
			var published [][]metrics.Sample
			s.OnSamples = func(ss []metrics.Sample) { published = append(published, ss) }
			if _, err := s.PutLogEvents(context.Background(), scope, PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: tc.events}); err != nil {
				t.Fatal(err)
			}
			if len(fs.batches) != 1 {
				t.Fatalf("%d batches stored", len(fs.batches))
			}
			got := incoming(t, fs.batches[0].Samples, now)
			want := map[string]float64{}
			if tc.count > 0 {
				want = map[string]float64{"IncomingLogEvents/g": tc.count, "IncomingBytes/g": tc.bytes,
					"IncomingLogEvents/": tc.count, "IncomingBytes/": tc.bytes}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("AWS/Logs sums = %v, want %v", got, want)
			}
			if tc.count == 0 {
				if len(published) != 0 || len(fs.batches[0].Samples) != 0 {
					t.Fatalf("a batch that stored nothing published %+v", fs.batches[0].Samples)
				}
				return
			}
			// One sample per metric and form per batch: Sum is exact, SampleCount counts batches.
			if len(fs.batches[0].Samples) != 4 {
				t.Fatalf("%d samples, want 4", len(fs.batches[0].Samples))
			}
			if len(published) != 1 || !reflect.DeepEqual(published[0], fs.batches[0].Samples) {
				t.Fatalf("OnSamples got %+v", published)
			}
		})
	}
}

// TestIncomingMetricsSumAcrossBatches checks that the samples of several batches into two groups
// add up to exactly the events sent, per group and for the account.
func TestIncomingMetricsSumAcrossBatches(t *testing.T) {
	fs := &fakeStore{group: LogGroup{Name: "g"}}
	s := NewService(fs, func() time.Time { return now })
	n := nowMs()
	wantCount, wantBytes := 0.0, 0.0
	for i := range 7 {
		var evs []InputLogEvent
		for j := range i + 1 {
			msg := string(make([]byte, 10*j+1)) // 10j+1 bytes
			evs = append(evs, InputLogEvent{n, msg})
			wantCount++
			wantBytes += float64(10*j + 1 + 26)
		}
		if _, err := s.PutLogEvents(context.Background(), scope, PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
	}
	var all []metrics.Sample
	for _, b := range fs.batches {
		all = append(all, b.Samples...)
	}
	got := incoming(t, all, now)
	// 1+2+...+7 = 28 events; bytes: sum over batches i of sum_{j<=i} (10j+27) = 28*27 + 10*56.
	if wantCount != 28 || wantBytes != 28*27+10*56 {
		t.Fatalf("test arithmetic: %v %v", wantCount, wantBytes)
	}
	want := map[string]float64{"IncomingLogEvents/g": 28, "IncomingBytes/g": 1316, "IncomingLogEvents/": 28, "IncomingBytes/": 1316}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("AWS/Logs sums = %v, want %v", got, want)
	}
}

// uniqueStore is a fakeStore whose AppendUnique treats every event whose key was seen before as
// a duplicate and keeps the samples as the real stores do.
type uniqueStore struct {
	fakeStore
	seen map[string]bool
}

func (u *uniqueStore) AppendUnique(_ context.Context, _ Scope, b AppendBatch) (AppendResult, error) {
	u.batches = append(u.batches, b)
	res := AppendResult{UploadSequence: int64(len(u.batches)), Duplicate: make([]bool, len(b.Events))}
	for i, k := range b.DedupKeys {
		res.Duplicate[i] = k != "" && u.seen[k]
		u.seen[k] = true
	}
	for j, smp := range b.Samples {
		if j < len(b.SampleEvents) && b.SampleEvents[j] >= 0 && res.Duplicate[b.SampleEvents[j]] {
			continue
		}
		res.Samples = append(res.Samples, smp)
	}
	return res, nil
}

// TestIncomingMetricsPutRecords checks trailwatch's own sources (PutRecords): events outside
// the time window are not counted, a redelivered record is (it arrived), and the AWS/Logs samples
// are tied to no event so a store dropping duplicates keeps them.
func TestIncomingMetricsPutRecords(t *testing.T) {
	us := &uniqueStore{fakeStore: fakeStore{group: LogGroup{Name: "ct", RetentionInDays: 1}}, seen: map[string]bool{}}
	s := NewService(us, func() time.Time { return now })
	var published []metrics.Sample
	s.OnSamples = func(ss []metrics.Sample) { published = append(published, ss...) }
	n := nowMs()
	ctx := context.Background()
	// 3 accepted (10+26, 11+26, 10+26 bytes), 1 past the group's retention.
	out, err := s.PutRecords(ctx, scope, PutRecordsInput{LogGroupName: "ct", LogStreamName: "acct_CloudTrail_us-east-1",
		Events:    []InputLogEvent{{n - day - 1, "stale"}, {n - 2*minute, `{"id":"1"}`}, {n - minute, `{"id":"22"}`}, {n - 1, `{"id":"3"}`}},
		DedupKeys: []string{"0", "1", "22", "3"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Stored != 3 || out.Rejected != 1 {
		t.Fatalf("first batch: %+v", out)
	}
	// Record 22 again (a redelivery) and a new one: both arrived.
	out, err = s.PutRecords(ctx, scope, PutRecordsInput{LogGroupName: "ct", LogStreamName: "acct_CloudTrail_us-east-1",
		Events: []InputLogEvent{{n - minute, `{"id":"22"}`}, {n, `{"id":"4"}`}}, DedupKeys: []string{"22", "4"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Stored != 1 || out.Duplicates != 1 {
		t.Fatalf("second batch: %+v", out)
	}
	for _, b := range us.batches {
		if len(b.SampleEvents) != len(b.Samples) {
			t.Fatalf("SampleEvents not parallel to Samples: %v / %d", b.SampleEvents, len(b.Samples))
		}
		for j, smp := range b.Samples {
			if smp.Namespace == ServiceNamespace && b.SampleEvents[j] != -1 {
				t.Fatalf("AWS/Logs sample tied to event %d", b.SampleEvents[j])
			}
		}
	}
	got := incoming(t, published, now)
	want := map[string]float64{"IncomingLogEvents/ct": 5, "IncomingBytes/ct": 36 + 37 + 36 + 37 + 36,
		"IncomingLogEvents/": 5, "IncomingBytes/": 182}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("AWS/Logs sums = %v, want %v", got, want)
	}
}
