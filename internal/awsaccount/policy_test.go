package awsaccount

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// policyActions returns the actions a policy file in docs/iam allows.
func policyActions(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/iam/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []struct {
			Action any
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []string
	for _, s := range doc.Statement {
		switch a := s.Action.(type) {
		case string:
			out = append(out, a)
		case []any:
			for _, x := range a {
				out = append(out, x.(string))
			}
		}
	}
	return out
}

// iamAction is the IAM action an SDK call needs ("" for none).
func iamAction(prefix, method string) string {
	switch prefix + ":" + method {
	case "s3:HeadBucket":
		return "s3:ListBucket"
	case "s3:PutPublicAccessBlock":
		return "s3:PutBucketPublicAccessBlock"
	case "sts:GetCallerIdentity":
		return "" // needs no permission
	}
	return prefix + ":" + method
}

// readOnly says whether a call only reads (GenerateCredentialReport writes nothing the account uses).
func readOnly(method string) bool {
	for _, p := range []string{"Describe", "Get", "List", "Head", "GenerateCredentialReport", "AssumeRole"} {
		if strings.HasPrefix(method, p) {
			return true
		}
	}
	return false
}

// TestDocumentedPolicies checks the least-privilege policies in docs/iam against the calls the
// interfaces of this package declare: the apply policy allows every call, the audit policy every read
// and nothing else.
func TestDocumentedPolicies(t *testing.T) {
	audit, apply := policyActions(t, "trailwatch-audit.json"), policyActions(t, "trailwatch-apply.json")
	ifaces := map[string]reflect.Type{
		"cloudtrail": reflect.TypeFor[CloudTrailAPI](), "logs": reflect.TypeFor[LogsAPI](), "cloudwatch": reflect.TypeFor[CloudWatchAPI](),
		"sns": reflect.TypeFor[SNSAPI](), "iam": reflect.TypeFor[IAMAPI](), "s3": reflect.TypeFor[S3API](), "sts": reflect.TypeFor[STSAPI](),
		"events": reflect.TypeFor[EventsAPI](),
	}
	// Calls the code does not make itself: ListAccounts (app's --org), PassRole (CreateTrail and
	// PutTargets pass roles), and CreateServiceLinkedRole, which EventBridge's first CreateConnection
	// makes on the caller's behalf (AmazonEventBridgeFullAccess grants it for
	// apidestinations.events.amazonaws.com for that reason).
	needed := map[string]bool{"organizations:ListAccounts": true, "iam:PassRole": true, "iam:CreateServiceLinkedRole": true}
	for prefix, it := range ifaces {
		for i := range it.NumMethod() {
			m := it.Method(i).Name
			a := iamAction(prefix, m)
			if a == "" {
				continue
			}
			needed[a] = true
			if !slices.Contains(apply, a) {
				t.Errorf("the apply policy lacks %s", a)
			}
			if readOnly(m) && !slices.Contains(audit, a) && prefix != "s3" && prefix != "events" && m != "GetRole" && m != "GetRolePolicy" {
				t.Errorf("the audit policy lacks %s", a)
			}
		}
	}
	for _, a := range audit {
		m := a[strings.Index(a, ":")+1:]
		if !readOnly(m) {
			t.Errorf("the audit policy allows %s, which is not a read", a)
		}
	}
	for _, a := range apply {
		if !needed[a] {
			t.Errorf("the apply policy allows %s, which no call needs", a)
		}
	}
}
