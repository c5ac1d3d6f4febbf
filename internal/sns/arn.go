package sns

import (
	"fmt"
	"regexp"
	"strings"
)

var topicNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// TopicARN returns the ARN of topic name in sc.
func TopicARN(sc Scope, name string) string {
	return "arn:aws:sns:" + sc.Region + ":" + sc.AccountID + ":" + name
}

// arnParts splits an SNS ARN into its scope, topic name and (for a subscription ARN) the
// subscription id. member names the parameter in AWS's error text.
func arnParts(member, arn string) (sc Scope, topic, subID string, err error) {
	parts := strings.Split(arn, ":")
	if len(parts) < 6 {
		return Scope{}, "", "", invalid(fmt.Sprintf("%s Reason: An ARN must have at least 6 elements, not %d", member, len(parts)))
	}
	switch parts[1] {
	case "aws", "aws-cn", "aws-us-gov":
	default:
		return Scope{}, "", "", invalid(member)
	}
	if parts[0] != "arn" || parts[2] != "sns" || parts[3] == "" || parts[4] == "" || parts[5] == "" || len(parts) > 7 {
		return Scope{}, "", "", invalid(member)
	}
	sc = Scope{Region: parts[3], AccountID: parts[4]}
	if len(parts) == 7 {
		if subID = parts[6]; subID == "" {
			return Scope{}, "", "", invalid(member)
		}
	}
	return sc, parts[5], subID, nil
}

// parseTopicARN checks a TopicArn parameter against the caller's scope: AWS answers a topic of
// another region with "Invalid parameter: TopicArn" [§3.1]. A zero caller scope (an unsigned
// call) accepts any scope.
func parseTopicARN(caller Scope, arn string) (Scope, error) {
	sc, _, sub, err := arnParts("TopicArn", arn)
	if err != nil {
		return Scope{}, err
	}
	if sub != "" || (caller != Scope{} && sc.Region != caller.Region) {
		return Scope{}, invalid("TopicArn")
	}
	return sc, nil
}

func parseSubscriptionARN(caller Scope, arn string) (Scope, error) {
	sc, _, sub, err := arnParts("SubscriptionArn", arn)
	if err != nil {
		return Scope{}, err
	}
	if sub == "" || (caller != Scope{} && sc.Region != caller.Region) {
		return Scope{}, invalid("SubscriptionId")
	}
	return sc, nil
}
