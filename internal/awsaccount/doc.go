// Package awsaccount reads an AWS account's alert-chain and root facts for the audit, and makes
// apply's changes, with aws-sdk-go-v2. It is the only part of audit/apply that talks to AWS: the
// rules (package audit) and the planner (package plan) are pure. Each service is used through the
// small interface below that lists the calls made, so that the least-privilege policy in the README
// can be checked against it.
package awsaccount
