// Package trail is the CloudTrail trail domain: a trail names where CloudTrail records come from
// (the trail's S3 bucket and prefix and, as a trailwatch extension, the SQS queue notifying new
// objects) and the CloudWatch Logs log group they are delivered to (CloudWatchLogsLogGroupArn).
// It owns the API's validation and error texts; storage goes through Store, and running the
// sources is the app's business (it is told of every change through OnChange).
//
// # Decisions
//
//   - Error texts follow AWS where recorded (moto's models of the same exceptions):
//     "Unknown trail: <name> for the user: <account>", the trail name rules and their messages.
//     "Trail <name> already exists for customer: <account>" is AWS's TrailAlreadyExistsException text.
//   - CloudWatchLogsRoleArn is accepted and stored but never assumed: trailwatch writes to its own
//     log groups. A log group ARN must be in the trail's account and region
//     (InvalidCloudWatchLogsLogGroupArnException otherwise) and name an existing group.
//   - S3BucketName is not checked against S3 at creation (the bucket belongs to the AWS account the
//     records come from, not to trailwatch); delivery errors show in GetTrailStatus.
//   - A new trail is not logging until StartLogging, as in AWS.
//   - Updates are read-modify-write in one store transaction, and the changes of one trail are
//     serialised up to the OnChange hook (issue 11): a StopLogging racing an UpdateTrail is never
//     undone, and the hook's last call is the trail as stored. An update that cannot settle
//     (its log group keeps moving under it) fails with CloudTrail's ConcurrentModificationException.
package trail

import (
	"strings"
	"time"
)

// Scope is the trailwatch account and region a trail belongs to.
type Scope struct {
	AccountID string
	Region    string
}

// Trail is a stored trail.
type Trail struct {
	Name                       string
	S3BucketName               string
	S3KeyPrefix                string
	SnsTopicName               string
	IncludeGlobalServiceEvents bool
	IsMultiRegionTrail         bool
	IsOrganizationTrail        bool
	LogFileValidationEnabled   bool
	CloudWatchLogsLogGroupArn  string
	CloudWatchLogsRoleArn      string
	KmsKeyID                   string
	// SqsQueueURL is trailwatch's extension: the queue receiving S3 notifications of new log
	// files. Empty means the bucket is polled.
	SqsQueueURL string
	Logging     bool
	// StartLoggingTime and StopLoggingTime are zero until the first StartLogging/StopLogging.
	StartLoggingTime, StopLoggingTime time.Time
	CreationTime                      time.Time
	// Selectors are the trail's event selectors; nil until PutEventSelectors sets them, which
	// is what HasCustomEventSelectors reports. They are stored with the trail (a store keeps
	// them as it keeps the other members) and never filter ingest: see Selectors.
	Selectors *Selectors
}

// ARN is the trail's ARN.
func ARN(sc Scope, name string) string {
	return "arn:aws:cloudtrail:" + sc.Region + ":" + sc.AccountID + ":trail/" + name
}

// LogGroupName extracts the log group name from a CloudWatchLogsLogGroupArn of this scope
// (arn:aws:logs:<region>:<account>:log-group:<name>[:*]); ok is false for any other ARN.
func LogGroupName(sc Scope, arn string) (string, bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:logs:"+sc.Region+":"+sc.AccountID+":log-group:")
	if !ok || rest == "" {
		return "", false
	}
	name := strings.TrimSuffix(rest, ":*")
	return name, name != ""
}

// nameFromARN returns a trail name given a name or a trail ARN of this scope.
func nameFromARN(sc Scope, nameOrARN string) string {
	if rest, ok := strings.CutPrefix(nameOrARN, "arn:aws:cloudtrail:"); ok {
		if i := strings.Index(rest, ":trail/"); i >= 0 {
			return rest[i+len(":trail/"):]
		}
	}
	return nameOrARN
}
