package metricmath

import (
	"strings"
	"testing"
)

func TestSearchMatch(t *testing.T) {
	cpu := SearchMetric{Namespace: "AWS/EC2", MetricName: "CPUUtilization", Dimensions: [][2]string{{"InstanceId", "i-1234"}}}
	net := SearchMetric{Namespace: "AWS/EC2", MetricName: "NetworkIn", Dimensions: [][2]string{{"InstanceId", "i-5678"}}}
	all := SearchMetric{Namespace: "AWS/EC2", MetricName: "CPUUtilization"}
	root := SearchMetric{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage"}
	bytes := SearchMetric{Namespace: "AWS/Logs", MetricName: "IncomingBytes", Dimensions: [][2]string{{"LogGroupName", "CloudTrail/DefaultLogGroup"}}}
	metrics := map[string]SearchMetric{"cpu": cpu, "net": net, "all": all, "root": root, "bytes": bytes}
	for _, tc := range []struct {
		q    string
		want []string // in the order cpu, net, all, root, bytes
	}{
		{`{AWS/EC2,InstanceId} MetricName="CPUUtilization"`, []string{"cpu"}},
		{`{AWS/EC2,InstanceId}`, []string{"cpu", "net"}},
		{`{AWS/EC2}`, []string{"all"}},
		{`CPUUtilization`, []string{"cpu", "all"}},
		{`cpu`, []string{"cpu", "all"}},
		{`Utilization`, []string{"cpu", "all"}},
		{`"CPU"`, nil},
		{`"CPUUtilization"`, []string{"cpu", "all"}},
		{`MetricName=Network`, []string{"net"}},
		{`InstanceId=i-1234`, []string{"cpu"}},
		{`InstanceId="i"`, nil},
		{`InstanceId=1234`, []string{"cpu"}},
		{`Namespace="AWS/EC2" NOT CPUUtilization`, []string{"net"}},
		{`Root OR IncomingBytes`, []string{"root", "bytes"}},
		{`(Root OR Incoming) AND Namespace="AWS/Logs"`, []string{"bytes"}},
		{`"CloudTrail/DefaultLogGroup"`, []string{"bytes"}},
		{`CloudTrail`, []string{"root", "bytes"}},
		{`{CloudTrailMetrics} RootAccountUsage`, []string{"root"}},
	} {
		s, err := ParseSearch(tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		var got []string
		for _, name := range []string{"cpu", "net", "all", "root", "bytes"} {
			if s.Match(metrics[name]) {
				got = append(got, name)
			}
		}
		if len(got) != len(tc.want) || len(got) > 0 && func() bool {
			for i := range got {
				if got[i] != tc.want[i] {
					return true
				}
			}
			return false
		}() {
			t.Errorf("%s: got %v, want %v", tc.q, got, tc.want)
		}
	}
}

func TestParseSearchErrors(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		{``, "The search expression is empty at position 1"},
		{`{AWS/EC2`, "Unterminated metric schema at position 1"},
		{`{} cpu`, "The metric schema must name a namespace at position 1"},
		{`{AWS/EC2,} cpu`, "The metric schema has an empty dimension name at position 1"},
		{`cpu AND`, "The search expression ends too early at position 8"},
		{`(cpu OR net`, "Unbalanced parenthesis in the search expression at position 1"},
		{`cpu )`, "Unexpected \")\" in the search expression at position 5"},
		{`"cpu`, "Unterminated quoted string in the search expression at position 1"},
		{`MetricName=`, "The property MetricName has no value in the search expression at position 12"},
		{`=cpu`, "Unexpected \"=\" in the search expression at position 1"},
	} {
		_, err := ParseSearch(tc.q)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: got %v, want %s", tc.q, err, tc.want)
		}
	}
}

// FuzzParseSearch checks that ParseSearch never panics and that an accepted search can be matched.
func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{`{AWS/EC2,InstanceId} MetricName="CPUUtilization"`, `a OR (b AND NOT c)`, `"x`, `{`, `p=v q="w"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		s, err := ParseSearch(q)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		s.Match(SearchMetric{Namespace: "AWS/EC2", MetricName: "CPUUtilization", Dimensions: [][2]string{{"InstanceId", "i-1"}}})
	})
}

// The tokenization table of [CWUG "CloudWatch search expressions: Tokenization"].
func TestSearchTokens(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want string
	}{
		{"CustomCount1", "Custom Count 1"},
		{"SDBFailure", "SDB Failure"},
		{"Project2-trial333", "Project 2 trial 333"},
		{"Network-Errors_2", "Network Errors 2"},
		{"CPUUtilization", "CPU Utilization"},
		{"i-0abc12", "i 0 abc 12"},
		{"", ""},
	} {
		if got := strings.Join(tokens(tc.s), " "); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.s, got, tc.want)
		}
	}
}

// The partial and exact match examples of [CWUG "CloudWatch search expressions: Partial
// matches", "Exact matches" and "Non-alphanumeric characters"].
func TestSearchGuideExamples(t *testing.T) {
	custom := SearchMetric{Namespace: "MyNamespace", MetricName: "CustomCount1"}
	netA := SearchMetric{Namespace: "App", MetricName: "Network-Errors-2"}
	netB := SearchMetric{Namespace: "App", MetricName: "NetworkErrors2"}
	special := SearchMetric{Namespace: "My Namespace", MetricName: `Europe\France Traffic(Network)`, Dimensions: [][2]string{{"Dimension@Name", "x"}}}
	for _, tc := range []struct {
		q    string
		m    SearchMetric
		want bool
	}{
		{"count", custom, true},
		{"Count", custom, true},
		{"COUNT", custom, true},
		{"couNT", custom, false},
		{"CustomCount", custom, true},
		{"Count1", custom, true},
		{"customcount", custom, false},
		{"count1", custom, false},
		{"customcount1", custom, true},
		{`{MyNamespace}, "CustomCount1"`, custom, true},
		{`{MyNamespace}, "customcount1"`, custom, false},
		{`{MyNamespace}, "Custom"`, custom, false},
		{"network/errors", netA, true},
		{"network+errors", netB, true},
		{"network-errors", netA, true},
		{"Network_Errors", netB, true},
		{`"Network-Errors-2"`, netA, true},
		{`"Network_Errors_2"`, netA, false},
		{`{"My Namespace", "Dimension@Name"}, "Europe\\France Traffic\(Network\)"`, special, true},
		{`NOT Namespace=AWS`, custom, true},
		{`(Custom OR Network) AND MetricName=Count`, custom, true},
	} {
		s, err := ParseSearch(tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		if got := s.Match(tc.m); got != tc.want {
			t.Errorf("%s on %s: %v, want %v", tc.q, tc.m.MetricName, got, tc.want)
		}
	}
	if _, err := ParseSearch(strings.Repeat("a ", 513)); err == nil || !strings.Contains(err.Error(), "longer than 1024") {
		t.Errorf("long search: %v", err)
	}
}
