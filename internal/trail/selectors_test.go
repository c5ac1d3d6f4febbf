package trail

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func manyValues(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// TestCheckSelectors covers PutEventSelectors' validation: defaults, limits, AWS's recorded
// messages, and basic and advanced selectors being mutually exclusive.
func TestCheckSelectors(t *testing.T) {
	mgmt := EventSelector{ReadWriteType: "All", IncludeManagementEvents: true}
	s3 := func(vals ...string) EventSelector {
		return EventSelector{ReadWriteType: "All", DataResources: []DataResource{{Type: "AWS::S3::Object", Values: vals}}}
	}
	cat := func(c string) FieldSelector { return FieldSelector{Field: "eventCategory", Equals: []string{c}} }
	tests := []struct {
		name     string
		basic    []EventSelector
		advanced []AdvancedEventSelector
		want     *Selectors // nil: error
		msg      string     // part of the error message
	}{
		{name: "one default selector", basic: []EventSelector{mgmt}, want: &Selectors{Basic: []EventSelector{mgmt}}},
		{name: "empty ReadWriteType is All", basic: []EventSelector{{IncludeManagementEvents: true}}, want: &Selectors{Basic: []EventSelector{mgmt}}},
		{name: "write only, kms excluded", basic: []EventSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}}},
			want: &Selectors{Basic: []EventSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}}}}},
		{name: "data events only", basic: []EventSelector{s3("arn:aws:s3:::bucket/", "arn:aws:s3:::b2/prefix", "arn:aws:s3")}, want: &Selectors{Basic: []EventSelector{s3("arn:aws:s3:::bucket/", "arn:aws:s3:::b2/prefix", "arn:aws:s3")}}},
		{name: "lambda and dynamodb", basic: []EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: true, DataResources: []DataResource{
			{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda", "arn:aws:lambda:us-west-2:111122223333:function:hello"}},
			{Type: "AWS::DynamoDB::Table", Values: []string{"arn:aws:dynamodb:us-east-1:111122223333:table/t"}}}}},
			want: &Selectors{Basic: []EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: true, DataResources: []DataResource{
				{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda", "arn:aws:lambda:us-west-2:111122223333:function:hello"}},
				{Type: "AWS::DynamoDB::Table", Values: []string{"arn:aws:dynamodb:us-east-1:111122223333:table/t"}}}}}}},
		{name: "five selectors", basic: []EventSelector{mgmt, mgmt, mgmt, mgmt, mgmt}, want: &Selectors{Basic: []EventSelector{mgmt, mgmt, mgmt, mgmt, mgmt}}},
		{name: "six selectors", basic: []EventSelector{mgmt, mgmt, mgmt, mgmt, mgmt, mgmt}, msg: "Specify a valid number of event selectors (1 to 5) for a trail."},
		{name: "empty list", basic: []EventSelector{}, msg: "Specify a valid number of event selectors (1 to 5)"},
		{name: "nothing sent", msg: "Specify a valid number of event selectors (1 to 5)"},
		{name: "both kinds", basic: []EventSelector{mgmt}, advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Management")}}}, msg: "but not both"},
		{name: "bad ReadWriteType", basic: []EventSelector{{ReadWriteType: "read-only", IncludeManagementEvents: true}}, msg: "Value read-only for ReadWriteType is invalid."},
		{name: "bad excluded source", basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"s3.amazonaws.com"}}}, msg: "Value s3.amazonaws.com for ExcludeManagementEventSources is invalid."},
		{name: "no management, no data", basic: []EventSelector{{ReadWriteType: "All"}},
			msg: "Invalid combination of parameters in EventSelectors. When includeManagementEvents is false, DataResources must not be empty."},
		{name: "bad data type", basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, DataResources: []DataResource{{Type: "AWS::S3::Bucket", Values: []string{"arn:aws:s3:::b/"}}}}},
			msg: "Value AWS::S3::Bucket for DataResources.Type is invalid. Valid values are: AWS::DynamoDB::Table, AWS::Lambda::Function, AWS::S3::Object"},
		{name: "s3 wildcard", basic: []EventSelector{s3("arn:aws:s3:::*")}, msg: "Value arn:aws:s3:::* for DataResources.Values is invalid."},
		{name: "bucket without slash", basic: []EventSelector{s3("arn:aws:s3:::bucket")}, msg: "Value arn:aws:s3:::bucket for DataResources.Values is invalid."},
		{name: "lambda wildcard", basic: []EventSelector{{ReadWriteType: "All", DataResources: []DataResource{{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda:*"}}}}},
			msg: "Value arn:aws:lambda:* for DataResources.Values is invalid."},
		{name: "250 values", basic: []EventSelector{s3(manyValues(125, func(i int) string { return "arn:aws:s3:::b/" + strings.Repeat("x", i) })...), s3(manyValues(125, func(i int) string { return "arn:aws:s3:::c/" })...)},
			want: &Selectors{Basic: []EventSelector{s3(manyValues(125, func(i int) string { return "arn:aws:s3:::b/" + strings.Repeat("x", i) })...), s3(manyValues(125, func(i int) string { return "arn:aws:s3:::c/" })...)}}},
		{name: "251 values across selectors", basic: []EventSelector{s3(manyValues(200, func(int) string { return "arn:aws:s3:::b/" })...), s3(manyValues(51, func(int) string { return "arn:aws:s3:::c/" })...)},
			msg: "Specify a valid number of DataResources.Values (0 to 250) for all your selectors."},

		{name: "advanced management", advanced: []AdvancedEventSelector{{Name: "all", FieldSelectors: []FieldSelector{cat("Management")}}},
			want: &Selectors{Advanced: []AdvancedEventSelector{{Name: "all", FieldSelectors: []FieldSelector{cat("Management")}}}}},
		{name: "advanced data with operators", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Data"), {Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
			{Field: "resources.ARN", NotStartsWith: []string{"arn:aws:s3:::logs/"}}, {Field: "eventName", Equals: []string{"PutObject", "DeleteObject"}}}}},
			want: &Selectors{Advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Data"), {Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
				{Field: "resources.ARN", NotStartsWith: []string{"arn:aws:s3:::logs/"}}, {Field: "eventName", Equals: []string{"PutObject", "DeleteObject"}}}}}}},
		{name: "advanced empty list", advanced: []AdvancedEventSelector{}, msg: "Specify at least one advanced event selector."},
		{name: "advanced without category", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "readOnly", Equals: []string{"true"}}}}}, msg: "must include the eventCategory field"},
		{name: "advanced without fields", advanced: []AdvancedEventSelector{{Name: "x"}}, msg: "at least one field selector"},
		{name: "advanced unknown field", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Management"), {Field: "awsRegion", Equals: []string{"us-east-1"}}}}}, msg: "Value awsRegion for Field is invalid."},
		{name: "advanced category twice", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Management"), cat("Data")}}}, msg: "only once"},
		{name: "advanced bad category", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Insight")}}}, msg: "Management, Data or NetworkActivity"},
		{name: "advanced readOnly NotEquals", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Management"), {Field: "readOnly", NotEquals: []string{"true"}}}}}, msg: "readOnly field must use the Equals operator"},
		{name: "advanced data without type", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Data")}}}, msg: "must include the resources.type field"},
		{name: "advanced management with eventName", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Management"), {Field: "eventName", Equals: []string{"ConsoleLogin"}}}}}, msg: "invalid for management events"},
		{name: "advanced management excluding kms", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Management"), {Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}}}}},
			want: &Selectors{Advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Management"), {Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}}}}}}},
		{name: "advanced management excluding s3", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Management"), {Field: "eventSource", NotEquals: []string{"s3.amazonaws.com"}}}}}, msg: "Value s3.amazonaws.com for eventSource is invalid"},
		{name: "advanced management eventSource Equals", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Management"), {Field: "eventSource", Equals: []string{"iam.amazonaws.com"}}}}}, msg: "must use the NotEquals operator"},
		{name: "advanced field without operator", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Management"), {Field: "eventSource"}}}}, msg: "at least one operator"},
		{name: "advanced empty value", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Management"), {Field: "eventSource", NotEquals: []string{""}}}}}, msg: "between 1 and 2048"},
		{name: "advanced 501 values", advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{cat("Data"), {Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
			{Field: "resources.ARN", StartsWith: manyValues(499, func(int) string { return "arn:aws:s3:::b/" })}}}}, msg: "Specify up to 500 values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckSelectors(tt.basic, tt.advanced)
			if tt.want == nil {
				var e *Error
				if !errors.As(err, &e) || e.Code != "InvalidEventSelectorsException" || !strings.Contains(e.Message, tt.msg) {
					t.Fatalf("err %v, want InvalidEventSelectorsException containing %q", err, tt.msg)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, *tt.want) {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, *tt.want)
			}
		})
	}
}

// TestResolve covers TrailName of the selector operations: a name or a trail ARN of the scope,
// with CloudTrail's error codes for the others.
func TestResolve(t *testing.T) {
	sc := Scope{"111122223333", "us-east-1"}
	tests := []struct {
		in       string
		homeOnly bool
		want     string
		code     string
	}{
		{in: "main", want: "main"},
		{in: "arn:aws:cloudtrail:us-east-1:111122223333:trail/main", want: "main"},
		{in: "ab", code: "InvalidTrailNameException"},
		{in: "-main", code: "InvalidTrailNameException"},
		{in: "arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/x", code: "CloudTrailARNInvalidException"},
		{in: "arn:aws:sns:us-east-1:111122223333:trail/main", code: "CloudTrailARNInvalidException"},
		{in: "arn:aws:cloudtrail:us-east-1:999999999999:trail/main", code: "TrailNotFoundException"},
		{in: "arn:aws:cloudtrail:eu-west-1:111122223333:trail/main", code: "TrailNotFoundException"},
		{in: "arn:aws:cloudtrail:eu-west-1:111122223333:trail/main", homeOnly: true, code: "InvalidHomeRegionException"},
	}
	for _, tt := range tests {
		got, err := resolve(sc, tt.in, tt.homeOnly)
		var e *Error
		switch {
		case tt.code == "" && (err != nil || got != tt.want):
			t.Errorf("resolve(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case tt.code != "" && (!errors.As(err, &e) || e.Code != tt.code):
			t.Errorf("resolve(%q, %v) error %v, want %s", tt.in, tt.homeOnly, err, tt.code)
		}
	}
}

// TestPutGetSelectors drives the service: the default answer of a new trail, a put replacing the
// other kind, a refused put leaving the stored selectors alone, an unknown trail, and the change
// reported to the OnChange hook.
func TestPutGetSelectors(t *testing.T) {
	ctx := context.Background()
	sc := Scope{"111122223333", "us-east-1"}
	s := NewService(NewMemStore(), nil)
	var changes []*Trail
	s.OnChange = func(_ Scope, _ string, t *Trail) { changes = append(changes, t) }
	if _, err := s.Create(ctx, sc, Trail{Name: "main", S3BucketName: "b"}); err != nil {
		t.Fatal(err)
	}
	tr, sel, err := s.GetSelectors(ctx, sc, "main")
	if err != nil || tr.Selectors != nil || !reflect.DeepEqual(sel, DefaultSelectors()) {
		t.Fatalf("new trail: %+v %+v %v", tr.Selectors, sel, err)
	}
	writes := []EventSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: true}}
	if _, err := s.PutSelectors(ctx, sc, "arn:aws:cloudtrail:us-east-1:111122223333:trail/main", writes, nil); err != nil {
		t.Fatal(err)
	}
	adv := []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}}}
	got, err := s.PutSelectors(ctx, sc, "main", nil, adv)
	if err != nil || got.Selectors == nil || got.Selectors.Basic != nil || !reflect.DeepEqual(got.Selectors.Advanced, adv) {
		t.Fatalf("advanced put: %+v, %v", got.Selectors, err)
	}
	if _, err := s.PutSelectors(ctx, sc, "main", []EventSelector{{ReadWriteType: "Sometimes"}}, nil); err == nil {
		t.Fatal("a bad put was accepted")
	}
	if _, sel, _ := s.GetSelectors(ctx, sc, "main"); !reflect.DeepEqual(sel.Advanced, adv) || sel.Basic != nil {
		t.Fatalf("after a refused put: %+v", sel)
	}
	var e *Error
	if _, err := s.PutSelectors(ctx, sc, "other", writes, nil); !errors.As(err, &e) || e.Message != "Unknown trail: other for the user: 111122223333" {
		t.Fatalf("unknown trail: %v", err)
	}
	if _, _, err := s.GetSelectors(ctx, sc, "arn:aws:cloudtrail:us-east-1:111122223333:trail/other"); !errors.As(err, &e) || e.Code != "TrailNotFoundException" {
		t.Fatalf("unknown trail ARN: %v", err)
	}
	if n := len(changes); n != 3 || changes[n-1].Selectors == nil || changes[n-1].Selectors.Advanced == nil {
		t.Fatalf("OnChange calls %d, last %+v: want create and two puts, the last with the advanced selectors", n, changes[n-1])
	}
}

// FuzzCheckSelectors feeds arbitrary selectors (as JSON) and TrailNames: validation never panics,
// what it accepts it accepts again unchanged (the stored form is valid input), and a resolved
// TrailName is a valid trail name.
func FuzzCheckSelectors(f *testing.F) {
	f.Add(`{"Basic":[{"ReadWriteType":"All","IncludeManagementEvents":true}]}`, "main")
	f.Add(`{"Basic":[{"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::b/","arn:aws:s3"]}]}]}`, "arn:aws:cloudtrail:us-east-1:111122223333:trail/main")
	f.Add(`{"Advanced":[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::Lambda::Function"]}]}]}`, "arn:aws:cloudtrail:eu-west-1:1:trail/x")
	f.Add(`{"Basic":[{"DataResources":[{"Type":"AWS::Lambda::Function","Values":["arn:aws:lambda:us-east-1:1:function:f"]}]}]}`, "arn:")
	f.Fuzz(func(t *testing.T, doc, name string) {
		var in Selectors
		if json.Unmarshal([]byte(doc), &in) != nil {
			return
		}
		got, err := CheckSelectors(in.Basic, in.Advanced)
		if err == nil {
			again, err := CheckSelectors(got.Basic, got.Advanced)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("accepted %+v, then %+v, %v", got, again, err)
			}
		}
		sc := Scope{"111122223333", "us-east-1"}
		if n, err := resolve(sc, name, true); err == nil && checkName(n) != nil {
			t.Fatalf("resolve(%q) = %q, not a trail name", name, n)
		}
	})
}
