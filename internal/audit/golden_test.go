package audit

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// mixed is an account with a little of everything: an equivalent root filter, a pending
// subscription, a root user used last week, and an organization trail of another account seen in a
// second Region.
func mixed() *Facts {
	f := complete()
	f.group().Filters[0].Pattern = `{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != "AwsServiceEvent") }`
	f.group().Filters = f.group().Filters[:3]
	f.Alarms = f.Alarms[:2]
	f.alarm("CloudWatch.2").Statistic = "Average"
	f.group().Filters[1].Transformations[0].DefaultValue = ptr(0.0)
	f.topic().Subscriptions[0].ARN = "PendingConfirmation"
	f.Root.Report.PasswordLastUsed = now.Add(-7 * 24 * time.Hour)
	f.Root.PasswordPresent = ptr(true)
	f.Root.MFAEnabled = true
	f.Root.RootVirtualMFA = true
	org := &Trail{ARN: "arn:aws:cloudtrail:eu-west-1:" + other + ":trail/org", Name: "org", HomeRegion: "eu-west-1", Owner: other, MultiRegion: true, Organization: true,
		LogGroupARN: "arn:aws:logs:eu-west-1:" + other + ":log-group:aws-controltower/CloudTrailLogs:*", StatusKnown: true, Logging: true, Selectors: &Selectors{}}
	f.Trails[org.ARN] = org
	f.Regions = append(f.Regions, RegionTrails{Region: "eu-west-1", TrailARNs: []string{org.ARN}})
	return f
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		facts *Facts
	}{{"empty", empty()}, {"complete", complete()}, {"mixed", mixed()}} {
		fs := Evaluate(tc.facts, Options{Email: "sec@example.com"})
		var table, js bytes.Buffer
		if err := WriteTable(&table, fs); err != nil {
			t.Fatal(err)
		}
		if err := WriteJSON(&js, fs); err != nil {
			t.Fatal(err)
		}
		golden(t, tc.name+".table.txt", table.Bytes())
		golden(t, tc.name+".json", js.Bytes())
		// The JSON contract: exactly these keys on every finding.
		var doc struct {
			Findings []map[string]string `json:"findings"`
		}
		if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		for _, f := range doc.Findings {
			if len(f) != 7 || f["accountId"] == "" || f["region"] == "" || f["checkId"] == "" || f["status"] == "" || f["resource"] == "" {
				t.Fatalf("finding %v breaks the JSON contract", f)
			}
		}
	}
}

func TestEmptyFindingsJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, nil); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "{\n  \"findings\": []\n}\n" {
		t.Errorf("got %q", got)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
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
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}
