package cloudtrail

import "testing"

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
		ok   bool
		want Summary
	}{
		{"root console login", `{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2026-12-06T09:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"Mozilla","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333","eventID":"e1"}`, true,
			Summary{EventTime: "2026-12-06T09:00:00Z", EventID: "e1", EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin", EventType: "AwsConsoleSignIn", IdentityType: "Root", IdentityARN: "arn:aws:iam::111122223333:root", Outcome: "Success", SourceIPAddress: "203.0.113.7", UserAgent: "Mozilla", AWSRegion: "us-east-1", AccountID: "111122223333", MFAUsed: "No"}},
		{"api error, session MFA, account from identity", `{"userIdentity":{"type":"AssumedRole","accountId":"444455556666","sessionContext":{"attributes":{"mfaAuthenticated":"true"}}},"eventSource":"s3.amazonaws.com","eventName":"PutBucketAcl","errorCode":"AccessDenied"}`, true,
			Summary{EventSource: "s3.amazonaws.com", EventName: "PutBucketAcl", IdentityType: "AssumedRole", Outcome: "Failure", ErrorCode: "AccessDenied", AccountID: "444455556666", MFAUsed: "true"}},
		{"not a record", `{"level":"error"}`, false, Summary{}},
		{"not JSON", `ERROR 42`, false, Summary{}},
	} {
		got, ok := Summarize([]byte(tc.msg))
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: Summarize = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzSummarize checks that any message either is no record or gives a summary whose outcome
// is set, and that it never panics.
func FuzzSummarize(f *testing.F) {
	f.Add(`{"eventSource":"s","eventName":"n","responseElements":{"ConsoleLogin":"Failure"}}`)
	f.Add(`{"eventSource":"s","eventName":"n","additionalEventData":{"MFAUsed":["x"]},"userIdentity":{"sessionContext":{"attributes":{"mfaAuthenticated":true}}}}`)
	f.Add(`[1,2]`)
	f.Fuzz(func(t *testing.T, msg string) {
		s, ok := Summarize([]byte(msg))
		if ok && (s.Outcome == "" || s.EventSource == "" || s.EventName == "" || s.MFAUsed == "") {
			t.Errorf("Summarize(%q) = %+v", msg, s)
		}
		if !ok && s != (Summary{}) {
			t.Errorf("Summarize(%q) is no record but returned %+v", msg, s)
		}
	})
}
