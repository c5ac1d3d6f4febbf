package sqlite

import (
	"bufio"
	"context"
	"os"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/logs/logstest"
)

func openLogsDB(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), t.TempDir(), Options{Now: func() time.Time { return time.UnixMilli(1_700_000_000_000) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestLogsStoreConformance(t *testing.T) {
	logstest.Run(t, func(t *testing.T) logs.Store { return openLogsDB(t) })
}

// cisFilters are the CIS / Security Hub CloudWatch.1-14 metric filter patterns, byte for byte
// (filter-patterns.md §10).
var cisFilters = []struct{ name, pattern string }{
	{"CloudWatch.1", `{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}`},
	{"CloudWatch.2", `{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}`},
	{"CloudWatch.3", `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`},
	{"CloudWatch.4", `{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}`},
	{"CloudWatch.5", `{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}`},
	{"CloudWatch.6", `{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}`},
	{"CloudWatch.7", `{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}`},
	{"CloudWatch.8", `{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}`},
	{"CloudWatch.9", `{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}`},
	{"CloudWatch.10", `{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}`},
	{"CloudWatch.11", `{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}`},
	{"CloudWatch.12", `{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}`},
	{"CloudWatch.13", `{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}`},
	{"CloudWatch.14", `{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}`},
}

// corpusPath is the gen-cloudtrail corpus the ingestion benchmark replays:
//
//	/work/shared/tools/gen-cloudtrail --events 100000 --out /tmp/ct.ndjson
//
// TRAILWATCH_CT_CORPUS overrides it; the benchmark is skipped when the file is absent.
func corpusPath() string {
	if p := os.Getenv("TRAILWATCH_CT_CORPUS"); p != "" {
		return p
	}
	return "/tmp/ct.ndjson"
}

func loadCorpus(b *testing.B) []string {
	b.Helper()
	f, err := os.Open(corpusPath())
	if err != nil {
		b.Skipf("no CloudTrail corpus: %v", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return lines
}

// BenchmarkPutLogEvents measures durable ingestion through logs.Service over SQLite (WAL,
// synchronous=FULL, one transaction per batch) in batches of 1,000 CloudTrail records. "none" is
// the baseline without metric filters; "cis" has the 14 CIS filters installed, so every event is
// also evaluated and matches become metric datapoints in the same transaction.
func BenchmarkPutLogEvents(b *testing.B) {
	corpus := loadCorpus(b)
	const batch = 1000
	for _, withFilters := range []bool{false, true} {
		name := "filters=none"
		if withFilters {
			name = "filters=cis"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
			db := openLogsDB(b)
			svc := logs.NewService(db, func() time.Time { return now })
			sc := logs.Scope{AccountID: "111111111111", Region: "us-east-1"}
			if err := svc.CreateLogGroup(ctx, sc, logs.CreateLogGroupInput{LogGroupName: "CloudTrail/DefaultLogGroup"}); err != nil {
				b.Fatal(err)
			}
			if err := svc.CreateLogStream(ctx, sc, "CloudTrail/DefaultLogGroup", "trail"); err != nil {
				b.Fatal(err)
			}
			if withFilters {
				for _, f := range cisFilters {
					err := svc.PutMetricFilter(ctx, sc, logs.PutMetricFilterInput{LogGroupName: "CloudTrail/DefaultLogGroup",
						FilterName: f.name, FilterPattern: f.pattern, MetricTransformations: []logs.MetricTransformation{{
							MetricName: f.name, MetricNamespace: "CloudTrailMetrics", MetricValue: "1"}}})
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			// Batches hold up to 1,000 events but never more than PutLogEvents' 1 MiB (message bytes
			// plus 26 per event): CloudTrail records average ~1.3 KB, so a batch is ~790 events.
			var batches [][]logs.InputLogEvent
			start := now.Add(-time.Hour).UnixMilli()
			for i := 0; i < len(corpus); {
				var evs []logs.InputLogEvent
				size := 0
				for ; i < len(corpus) && len(evs) < batch && size+len(corpus[i])+26 <= 1048576; i++ {
					size += len(corpus[i]) + 26
					evs = append(evs, logs.InputLogEvent{Timestamp: start + int64(i), Message: corpus[i]})
				}
				batches = append(batches, evs)
			}
			events, bytes := 0, int64(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				evs := batches[i%len(batches)]
				_, err := svc.PutLogEvents(ctx, sc, logs.PutLogEventsInput{LogGroupName: "CloudTrail/DefaultLogGroup",
					LogStreamName: "trail", LogEvents: evs})
				if err != nil {
					b.Fatal(err)
				}
				events += len(evs)
				for _, e := range evs {
					bytes += int64(len(e.Message))
				}
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(bytes)/b.Elapsed().Seconds()/1e6, "MB/s")
			b.ReportMetric(float64(events)/float64(b.N), "events/batch")
		})
	}
}
