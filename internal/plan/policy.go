package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Statement is one IAM policy statement as JSON.
type Statement = map[string]any

// MergePolicy adds statements to the policy document existing (empty: no policy yet) by Sid: a
// statement whose Sid is present and equal is left alone, one whose Sid is present but different is
// replaced, others are appended; every other statement is kept. PutBucketPolicy and
// SetTopicAttributes replace the whole document, so apply always writes a merge (reference §5.1).
func MergePolicy(existing string, stmts []Statement) (merged string, changed bool, err error) {
	doc := map[string]any{"Version": "2012-10-17"}
	var list []any
	if existing != "" {
		if err := json.Unmarshal([]byte(existing), &doc); err != nil {
			return "", false, fmt.Errorf("parse policy: %w", err)
		}
		if doc == nil { // the document null
			return "", false, errors.New("parse policy: the policy is null")
		}
		switch s := doc["Statement"].(type) {
		case []any:
			list = s
		case map[string]any:
			list = []any{s}
		case nil:
		default:
			return "", false, fmt.Errorf("parse policy: Statement is %T", s)
		}
	}
	for _, st := range stmts {
		var norm any // st as JSON would read it back, for comparison
		b, _ := json.Marshal(st)
		_ = json.Unmarshal(b, &norm)
		found := false
		for i, old := range list {
			m, ok := old.(map[string]any)
			if !ok || m["Sid"] != st["Sid"] {
				continue
			}
			found = true
			if !reflect.DeepEqual(old, norm) {
				list[i] = norm
				changed = true
			}
		}
		if !found {
			list = append(list, norm)
			changed = true
		}
	}
	doc["Statement"] = list
	out, err := json.Marshal(doc)
	if err != nil {
		return "", false, fmt.Errorf("write policy: %w", err)
	}
	return string(out), changed, nil
}

// BucketStatements are CloudTrail's bucket-policy statements for an account trail, with the Sids
// and conditions of CTUG create-s3-bucket-policy-for-cloudtrail.md (reference §5.2a).
func BucketStatements(bucket, account, region, trail string) []Statement {
	source := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", region, account, trail)
	return []Statement{
		{"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
			"Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::" + bucket,
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceArn": source}}},
		{"Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
			"Action": "s3:PutObject", "Resource": fmt.Sprintf("arn:aws:s3:::%s/AWSLogs/%s/*", bucket, account),
			"Condition": map[string]any{"StringEquals": map[string]any{"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": source}}},
	}
}

// TopicStatements is the statement that lets this account's CloudWatch alarms publish to the topic
// (NOZAQ alarm-baseline; aws-samples amazon-cloudwatch-auto-alarms; reference §5.2d). The default
// topic policy already allows same-account publishers; this one names CloudWatch explicitly, so the
// chain survives a hardened default.
func TopicStatements(topic, account, region string) []Statement {
	return []Statement{{
		"Sid": "AllowCloudWatchAlarms", "Effect": "Allow", "Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
		"Action": "sns:Publish", "Resource": topic,
		"Condition": map[string]any{"ArnLike": map[string]any{"AWS:SourceArn": fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:*", region, account)}},
	}}
}

// TrustPolicy lets CloudTrail assume the delivery role (CTUG send-cloudtrail-events-to-cloudwatch-logs.md).
const TrustPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// RolePolicy is the delivery role's permissions, CloudTrail's default for
// CloudTrail_CloudWatchLogs_Role, Sid typo (one digit short) included: the reference (§1.5 item 5)
// says not to "fix" it.
func RolePolicy(account, region, group string) string {
	res := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:log-stream:%s_CloudTrail_%s*", region, account, group, account, region)
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"AWSCloudTrailCreateLogStream2014110","Effect":"Allow","Action":["logs:CreateLogStream"],"Resource":["%s"]},{"Sid":"AWSCloudTrailPutLogEvents20141101","Effect":"Allow","Action":["logs:PutLogEvents"],"Resource":["%s"]}]}`, res, res)
}
