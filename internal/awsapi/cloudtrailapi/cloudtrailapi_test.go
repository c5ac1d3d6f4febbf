package cloudtrailapi

import (
	"encoding/json"
	"testing"

	"github.com/trailwatch/trailwatch/internal/trail"
)

// TestApply checks which CreateTrail/UpdateTrail members change a stored trail: only those sent,
// with the queue URL extension taken from SqsQueueUrl or the trailwatch:sqs-queue-url tag.
func TestApply(t *testing.T) {
	tests := []struct {
		name, in string
		want     trail.Trail
	}{
		{"create", `{"Name":"t","S3BucketName":"b","S3KeyPrefix":"p","IsMultiRegionTrail":true,"EnableLogFileValidation":true,"CloudWatchLogsLogGroupArn":"arn:g","TagsList":[{"Key":"trailwatch:sqs-queue-url","Value":"https://q"},{"Key":"team","Value":"sec"}]}`,
			trail.Trail{Name: "t", S3BucketName: "b", S3KeyPrefix: "p", IsMultiRegionTrail: true, LogFileValidationEnabled: true, CloudWatchLogsLogGroupArn: "arn:g", SqsQueueURL: "https://q", IncludeGlobalServiceEvents: true}},
		{"update keeps what is not sent", `{"Name":"t","SqsQueueUrl":"https://other"}`,
			trail.Trail{Name: "t", S3BucketName: "old", SqsQueueURL: "https://other", IncludeGlobalServiceEvents: true}},
		{"update clears with empty strings", `{"Name":"t","S3KeyPrefix":"","IncludeGlobalServiceEvents":false}`,
			trail.Trail{Name: "t", S3BucketName: "old"}},
	}
	for _, tt := range tests {
		var in trailInput
		if err := json.Unmarshal([]byte(tt.in), &in); err != nil {
			t.Fatal(err)
		}
		got := trail.Trail{Name: "t", S3BucketName: "old", S3KeyPrefix: "", IncludeGlobalServiceEvents: true}
		if tt.name == "create" {
			got = trail.Trail{Name: "t", IncludeGlobalServiceEvents: true}
		}
		in.apply(&got)
		if got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

func TestToOutput(t *testing.T) {
	sc := trail.Scope{AccountID: "111122223333", Region: "eu-west-1"}
	o := toOutput(sc, trail.Trail{Name: "t", S3BucketName: "b", SnsTopicName: "n"}, true)
	b, _ := json.Marshal(o)
	want := `{"Name":"t","S3BucketName":"b","SnsTopicName":"n","SnsTopicARN":"arn:aws:sns:eu-west-1:111122223333:n","IncludeGlobalServiceEvents":false,"IsMultiRegionTrail":false,"HomeRegion":"eu-west-1","TrailARN":"arn:aws:cloudtrail:eu-west-1:111122223333:trail/t","LogFileValidationEnabled":false,"HasCustomEventSelectors":false,"HasInsightSelectors":false,"IsOrganizationTrail":false}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}
