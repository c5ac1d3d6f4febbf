// Package providertest is test support for the receiver integrations: a fake provider server
// that records every request and answers from a script, and alerts to render (with as many
// evidence events, and as hostile values, as a test needs).
package providertest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
)

// Request is one recorded request.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	At     time.Time
}

// Answer is one scripted response.
type Answer struct {
	Status int
	Header map[string]string
	Body   string
}

// Server is a fake provider.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []Request
	script   []Answer
	// Default answers once the script has run out.
	Default Answer
	// Answer, when set, decides the answer instead of the script.
	Answer func(r Request) Answer
	// Seen, when set, receives every request as it arrives.
	Seen chan Request
}

// NewServer starts a fake provider answering the script, then def.
func NewServer(t testing.TB, def Answer, script ...Answer) *Server {
	s := &Server{script: script, Default: def}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: b, At: time.Now()}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	a := s.Default
	if s.Answer != nil {
		a = s.Answer(req)
	} else if len(s.script) > 0 {
		a, s.script = s.script[0], s.script[1:]
	}
	seen := s.Seen
	s.mu.Unlock()
	if seen != nil {
		seen <- req
	}
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.Status)
	io.WriteString(w, a.Body)
}

// Requests returns the requests so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// AlarmARN is the ARN of the test alarm.
const AlarmARN = "arn:aws:cloudwatch:us-east-1:111122223333:alarm:RootAccountUsage"

// Alarm returns an alarm alert in state (from prev) with n CloudTrail evidence events whose
// values carry Slack's special characters and long user agents.
func Alarm(state, prev string, n int) alert.Alert {
	at := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	a := alert.Alert{MessageID: "msg-" + state, TopicARN: "arn:aws:sns:us-east-1:111122223333:security", IsAlarm: true,
		AlarmName: "RootAccountUsage", AlarmARN: AlarmARN, AccountID: "111122223333", Region: "us-east-1",
		RegionName: "US East (N. Virginia)", NewState: state, OldState: prev,
		Reason:          "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (25/11/26 20:00:00)] was greater than or equal to the threshold (1.0) <&>",
		StateChangeTime: at, Link: alert.ConsoleLink("https://tw.example", "111122223333", "us-east-1", "RootAccountUsage")}
	if state == alert.StateOK {
		a.StateChangeTime = at.Add(10 * time.Minute)
		a.Reason = "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."
	}
	for i := range n {
		a.Evidence = append(a.Evidence, alert.Evidence{LogGroupName: "CloudTrail/DefaultLogGroup", LogStreamName: "111122223333_CloudTrail_us-east-1",
			FilterName: "RootAccountUsage", Timestamp: at.UnixMilli(), CloudTrail: &alert.CloudTrailSummary{
				EventTime: at.Format(time.RFC3339), UserIdentityType: "Root", UserIdentityARN: "arn:aws:iam::111122223333:root",
				EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin", Outcome: "Success",
				SourceIPAddress: "203.0.113." + strconv.Itoa(i%250), UserAgent: strings.Repeat("Mozilla/5.0 <script>&amp; ", 40)[:256],
				AWSRegion: "us-east-1", RecipientAccountID: "111122223333", MFAUsed: "No"}})
	}
	return a
}

// Golden compares got with testdata/<name>, or rewrites the file when update is set.
func Golden(t *testing.T, name string, got []byte, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", name, got)
	}
}

// Indent pretty-prints JSON for golden files.
func Indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}
