package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// TestSNSFidelityBotocore drives issue 18's SNS answers through the aws CLI v1 (botocore's
// awsQuery parser) and plain GETs, comparing them with the answers AWS recorded (localstack's
// tests/aws/services/sns/test_sns.snapshot.json and test_sns_filter_policy.snapshot.json):
//   - the SubscribeURL of an HTTP confirmation has AWS's exact form (no Version, the ARN
//     unescaped) and confirms when visited unsigned; a wrong token, a broken ARN and another
//     region get AWS's errors; an unsigned GET with another parameter, or of another operation,
//     is refused;
//   - PublishBatch answers Successful and Failed entries, and its batch errors;
//   - an invalid filter policy is refused with AWS's message, located as Jackson locates it,
//     worded without Subscribe's prefix by SetSubscriptionAttributes.
func TestSNSFidelityBotocore(t *testing.T) {
	aws1 := findCLI(t, "v1")
	mb := startMailbox(t, "")
	s := snsServer(t, "", mb, "--sns-allow-private-endpoints")
	ep := startEndpoint(t)

	var topic struct{ TopicArn string }
	decode(t, aws1.run(t, s, "sns", "create-topic", "--name", "fidelity"), &topic)
	arn := topic.TopicArn
	// CreateTopic again with FifoTopic=false, a standard topic's default, answers the same ARN.
	var again struct{ TopicArn string }
	decode(t, aws1.run(t, s, "sns", "create-topic", "--name", "fidelity", "--attributes", "FifoTopic=false"), &again)
	if again.TopicArn != arn {
		t.Fatalf("CreateTopic with FifoTopic=false answered %q", again.TopicArn)
	}
	aws1.run(t, s, "sns", "subscribe", "--topic-arn", arn, "--protocol", "http", "--notification-endpoint", ep.srv.URL+"/hook")
	conf := ep.wait(t, 5*time.Second, func(r endpointRequest) bool { return r.Message["Type"] == "SubscriptionConfirmation" })
	token := conf.Message["Token"]
	if want := s.URL + "/?Action=ConfirmSubscription&TopicArn=" + arn + "&Token=" + token; conf.Message["SubscribeURL"] != want {
		t.Fatalf("SubscribeURL\n got %s\nwant %s", conf.Message["SubscribeURL"], want)
	}
	verifySNSSignature(t, conf.Message)

	other := strings.Replace(arn, ":"+testRegion+":", ":ap-south-1:", 1)
	for _, c := range []struct {
		name, query string
		status      int
		want        string
	}{
		{"wrong token", "Action=ConfirmSubscription&TopicArn=" + arn + "&Token=" + strings.Repeat("ab", 144), 400, "<Message>Invalid parameter: Token</Message>"},
		{"malformed token", "Action=ConfirmSubscription&TopicArn=" + arn + "&Token=randomtoken", 400, "<Message>Invalid token</Message>"},
		{"broken ARN", "Action=ConfirmSubscription&TopicArn=arn:aws:sns&Token=" + token, 400, "<Message>Invalid parameter: Topic</Message>"},
		{"other region", "Action=ConfirmSubscription&TopicArn=" + other + "&Token=" + token, 400, "<Message>Invalid parameter: Topic</Message>"},
		{"extra parameter", "Action=ConfirmSubscription&TopicArn=" + arn + "&Token=" + token + "&AuthenticateOnUnsubscribe=true", 403, "<Code>MissingAuthenticationToken</Code>"},
		{"other operation", "Action=ListSubscriptions", 403, "<Code>MissingAuthenticationToken</Code>"},
	} {
		if code, body := get(t, s.URL+"/?"+c.query); code != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d\n%s", c.name, code, body)
		}
	}
	code, body := get(t, conf.Message["SubscribeURL"])
	if code != 200 || !strings.Contains(body, "<ConfirmSubscriptionResult><SubscriptionArn>"+arn+":") {
		t.Fatalf("SubscribeURL answered %d:\n%s", code, body)
	}
	subARN := body[strings.Index(body, "<SubscriptionArn>")+len("<SubscriptionArn>") : strings.Index(body, "</SubscriptionArn>")]

	// A filter policy error, as botocore shows it: SetSubscriptionAttributes' prefix, AWS's text
	// and Jackson's location of the offending token.
	_, errOut, exit := aws1.try(t, s, "sns", "set-subscription-attributes", "--subscription-arn", subARN,
		"--attribute-name", "FilterPolicy", "--attribute-value", `{"key":[{"numeric":[">",3,"<",1]}]}`)
	want := "): Invalid parameter: FilterPolicy: Bottom must be less than top\n" +
		" at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 33]"
	if exit == 0 || !strings.Contains(errOut, "(InvalidParameter) when calling the SetSubscriptionAttributes operation") || !strings.Contains(errOut, want) {
		t.Fatalf("invalid filter policy: exit %d\n%s", exit, errOut)
	}
	aws1.run(t, s, "sns", "set-subscription-attributes", "--subscription-arn", subARN,
		"--attribute-name", "FilterPolicy", "--attribute-value", `{"$or":[{"sev":["high"]},{"n":[{"numeric":[">=",10]}]}]}`)

	// PublishBatch: two published (one filtered out), one failed, in botocore's shapes.
	var batch struct {
		Successful []struct{ Id, MessageId string }
		Failed     []struct {
			Id, Code, Message string
			SenderFault       bool
		}
	}
	decode(t, aws1.run(t, s, "sns", "publish-batch", "--topic-arn", arn, "--publish-batch-request-entries",
		`[{"Id":"a","Message":"high one","MessageAttributes":{"sev":{"DataType":"String","StringValue":"high"}}},`+
			`{"Id":"b","Message":""},`+
			`{"Id":"c","Message":"low one","MessageAttributes":{"n":{"DataType":"Number","StringValue":"3"}}}]`), &batch)
	if len(batch.Successful) != 2 || batch.Successful[0].Id != "a" || batch.Successful[1].Id != "c" || batch.Successful[0].MessageId == "" {
		t.Fatalf("Successful %+v", batch.Successful)
	}
	if len(batch.Failed) != 1 || batch.Failed[0].Id != "b" || batch.Failed[0].Code != "InvalidParameter" ||
		batch.Failed[0].Message != "Invalid parameter: Empty message" || !batch.Failed[0].SenderFault {
		t.Fatalf("Failed %+v", batch.Failed)
	}
	n := ep.wait(t, 5*time.Second, func(r endpointRequest) bool { return r.Message["Type"] == "Notification" })
	if n.Message["Message"] != "high one" || n.Message["MessageId"] != batch.Successful[0].MessageId {
		t.Fatalf("delivered %+v", n.Message)
	}
	if want := s.URL + "/?Action=Unsubscribe&SubscriptionArn=" + subARN; n.Message["UnsubscribeURL"] != want {
		t.Fatalf("UnsubscribeURL\n got %s\nwant %s", n.Message["UnsubscribeURL"], want)
	}
	_, errOut, exit = aws1.try(t, s, "sns", "publish-batch", "--topic-arn", arn, "--publish-batch-request-entries", `[{"Id":"x","Message":"1"},{"Id":"x","Message":"2"}]`)
	if exit == 0 || !strings.Contains(errOut, "(BatchEntryIdsNotDistinct) when calling the PublishBatch operation") ||
		!strings.Contains(errOut, "Two or more batch entries in the request have the same Id.") {
		t.Fatalf("repeated Ids: exit %d\n%s", exit, errOut)
	}

	// aws-sdk-go-v2 decodes the same batch answer.
	out, err := snsClient(s).PublishBatch(context.Background(), &sns.PublishBatchInput{TopicArn: aws.String(arn),
		PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{{Id: aws.String("1"), Message: aws.String("m")}}})
	if err != nil || len(out.Successful) != 1 || aws.ToString(out.Successful[0].Id) != "1" || len(out.Failed) != 0 {
		t.Fatalf("aws-sdk-go-v2 PublishBatch = %+v, %v", out, err)
	}

	// The UnsubscribeURL, visited unsigned, ends the subscription.
	if code, body := get(t, n.Message["UnsubscribeURL"]); code != 200 || !strings.Contains(body, "<UnsubscribeResponse") {
		t.Fatalf("UnsubscribeURL answered %d:\n%s", code, body)
	}
}
