package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/trailwatch/trailwatch/internal/moto"
)

// motoAccount is the account moto_server's STS reports for any key; trailwatch is started in it so
// that the ARNs apply builds from GetCallerIdentity name trailwatch's resources.
const motoAccount = "123456789012"

// runApply runs the built binary with the AWS chain pointed at trailwatch for CloudWatch Logs,
// CloudWatch, SNS and CloudTrail (the per-service endpoint variables) and at moto for the rest (IAM,
// S3, STS, which trailwatch does not implement).
func runApply(t *testing.T, s *server, motoURL string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+testAccessKey, "AWS_SECRET_ACCESS_KEY="+testSecretKey, "AWS_REGION="+testRegion,
		"AWS_ENDPOINT_URL="+motoURL,
		"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS="+s.URL, "AWS_ENDPOINT_URL_CLOUDWATCH="+s.URL,
		"AWS_ENDPOINT_URL_SNS="+s.URL, "AWS_ENDPOINT_URL_CLOUDTRAIL="+s.URL,
		"AWS_EC2_METADATA_DISABLED=true", "HOME="+home, "AWS_CONFIG_FILE="+home+"/config", "AWS_SHARED_CREDENTIALS_FILE="+home+"/credentials",
		"AWS_MAX_ATTEMPTS=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run trailwatch: %v", err)
		}
		code = ee.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}

// TestApplyThenRootLoginEmail: trailwatch apply builds the chain in trailwatch itself (over the wire,
// aws-sdk-go-v2 with RPCv2 CBOR for CloudWatch), the email subscription is confirmed through its link,
// and a root ConsoleLogin put into the trail's log group produces the ALARM email. --test then sends
// ALARM and OK emails; a second apply changes nothing.
func TestApplyThenRootLoginEmail(t *testing.T) {
	motoURL := moto.Start(t)
	mb := startMailbox(t, "")
	s := snsServer(t, "", mb, "--account-id", motoAccount)
	requireAlarmWiring(t, s)

	code, out, errOut := runApply(t, s, motoURL, "apply", "--email", "ops@example.com")
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"+ create  123456789012 us-east-1  arn:aws:cloudtrail:us-east-1:123456789012:trail/trailwatch",
		"+ create  123456789012 us-east-1  arn:aws:cloudwatch:us-east-1:123456789012:alarm:CIS-CloudWatch.1-RootAccountUsage"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	conf := mb.wait(5*time.Second, func(m received) bool { return m.Subject == "AWS Notification - Subscription Confirmation" })
	if c, page := get(t, linkWith(t, conf.Body, "/confirmation.html?")); c != 200 || !strings.Contains(page, "Subscription confirmed!") {
		t.Fatalf("confirmation: %d %s", c, page)
	}

	// CloudTrail would deliver to the log group named in the trail; the test delivers for it.
	ctx := context.Background()
	lc := logsClient(s)
	group, stream := "trailwatch/cloudtrail", motoAccount+"_CloudTrail_"+testRegion
	if _, err := lc.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	putEvent(t, ctx, lc, group, stream, rootLogin(t, now), now)
	alarm := mb.wait(5*time.Second, func(m received) bool {
		return m.Subject == `ALARM: "CIS-CloudWatch.1-RootAccountUsage" in US East (N. Virginia)`
	})
	if len(alarm.To) != 1 || alarm.To[0] != "ops@example.com" || !strings.Contains(alarm.Body, "has entered the ALARM state") {
		t.Errorf("ALARM email to %v:\n%s", alarm.To, alarm.Body)
	}

	code, out, errOut = runApply(t, s, motoURL, "apply", "--email", "ops@example.com", "--test")
	if code != 0 || !strings.HasSuffix(out, "nothing to do: everything is in place\n") {
		t.Fatalf("second apply: exit %d\n%s\n%s", code, out, errOut)
	}
	mb.wait(5*time.Second, func(m received) bool {
		return m.Subject == `OK: "CIS-CloudWatch.1-RootAccountUsage" in US East (N. Virginia)`
	})
}
