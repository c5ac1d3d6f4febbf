package audit

import (
	"time"
)

const (
	acct   = "111122223333"
	other  = "999988887777"
	region = "us-east-1"
)

var now = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// complete returns the facts of an account whose whole chain is in place: the state trailwatch apply
// --cis all leaves, with the root user's credentials removed.
func complete() *Facts {
	trail := &Trail{
		ARN: "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/main", Name: "main", HomeRegion: region, Owner: acct,
		MultiRegion: true, S3Bucket: "b", LogGroupARN: "arn:aws:logs:us-east-1:" + acct + ":log-group:ct:*",
		RoleARN: "arn:aws:iam::" + acct + ":role/ct", StatusKnown: true, Logging: true,
		Selectors: &Selectors{Basic: []BasicSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}, Custom: true},
	}
	topic := "arn:aws:sns:us-east-1:" + acct + ":alerts"
	g := &LogGroup{Region: region, Name: "ct", Exists: true, EventsKnown: true, LastEvent: now.Add(-time.Minute)}
	var alarms []Alarm
	for _, c := range Controls() {
		g.Filters = append(g.Filters, MetricFilter{Name: c.Metric, Pattern: c.Pattern, Transformations: []MetricTransformation{{MetricName: c.Metric, Namespace: Namespace, Value: "1"}}})
		alarms = append(alarms, Alarm{Region: region, Name: c.Alarm, ARN: "arn:aws:cloudwatch:us-east-1:" + acct + ":alarm:" + c.Alarm,
			MetricName: c.Metric, Namespace: Namespace, Statistic: "Sum", Period: 300, EvaluationPeriods: 1, Threshold: 1,
			ComparisonOperator: "GreaterThanOrEqualToThreshold", TreatMissingData: "notBreaching", ActionsEnabled: true,
			AlarmActions: []string{topic}, OKActions: []string{topic}, StateValue: "OK"})
	}
	return &Facts{
		AccountID: acct, Now: now,
		Regions:   []RegionTrails{{Region: region, TrailARNs: []string{trail.ARN}}},
		Trails:    map[string]*Trail{trail.ARN: trail},
		LogGroups: map[string]*LogGroup{LogGroupKey(region, "ct"): g},
		Alarms:    alarms,
		Topics: map[string]*Topic{topic: {ARN: topic, Exists: true, Subscriptions: []Subscription{
			{ARN: topic + ":6b0e71bd-7e97-4d97-80ce-4a0994e55286", Protocol: "email", Endpoint: "sec@example.com"}}}},
		Root: Root{SummaryKnown: true, PasswordPresent: ptr(false), VirtualMFAKnown: true,
			Report:   &CredentialRow{User: RootAccountUser, ARN: "arn:aws:iam::" + acct + ":root", PasswordEnabled: "not_supported"},
			Features: OrgFeatures{RootCredentialsManagement: true}},
	}
}

// empty returns the facts of an account with nothing: no trail, no MFA.
func empty() *Facts {
	return &Facts{AccountID: acct, Now: now, Regions: []RegionTrails{{Region: region}}, Trails: map[string]*Trail{}, LogGroups: map[string]*LogGroup{}, Topics: map[string]*Topic{},
		Root: Root{SummaryKnown: true, PasswordPresent: ptr(true), VirtualMFAKnown: true, Features: OrgFeatures{Err: "OrganizationNotFound"}}}
}

func (f *Facts) trail() *Trail    { return f.Trails["arn:aws:cloudtrail:us-east-1:"+acct+":trail/main"] }
func (f *Facts) group() *LogGroup { return f.LogGroups[LogGroupKey(region, "ct")] }
func (f *Facts) topic() *Topic    { return f.Topics["arn:aws:sns:us-east-1:"+acct+":alerts"] }
func (f *Facts) alarm(id string) *Alarm {
	for i, a := range f.Alarms {
		if a.Name == "CIS-"+id+"-"+controlNames[id][1] {
			return &f.Alarms[i]
		}
	}
	panic("no alarm for " + id)
}

func find(fs []Finding, check, region string) (Finding, bool) {
	for _, f := range fs {
		if f.CheckID == check && f.Region == region {
			return f, true
		}
	}
	return Finding{}, false
}
