package app

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	snssdk "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailwatch/trailwatch/internal/awsclient"
)

// TestConsoleOnPostgres: the console of a replica reads the shared database through the backend.
// A topic made through replica a, in a region other than the server's own, is listed on replica
// b's notifications page (so b's scopes come from PostgreSQL), with its subscription's
// confirmation in b's delivery log and in b's outbox depth.
func TestConsoleOnPostgres(t *testing.T) {
	dbURL := pgSchemaURL(t)
	t.Setenv("TRAILWATCH_DATABASE_URL", "")
	a := startReplica(t, dbURL, "replica-a")
	b := startReplica(t, dbURL, "replica-b")
	m := credLine.FindStringSubmatch(a.stdout.String() + b.stdout.String())
	if m == nil {
		t.Fatal("no credentials printed")
	}
	cred := Credential{AccessKeyID: m[1], SecretAccessKey: m[2]}

	ctx := context.Background()
	client := snssdk.NewFromConfig(aws.Config{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, ""),
		BaseEndpoint:     aws.String("http://" + a.srv.Addr()),
		RetryMaxAttempts: 1,
		HTTPClient:       awsclient.HTTPClient(),
	})
	topic, err := client.CreateTopic(ctx, &snssdk.CreateTopicInput{Name: aws.String("console-pg")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Subscribe(ctx, &snssdk.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("sec@example.com")}); err != nil {
		t.Fatal(err)
	}

	base := "http://" + b.srv.Addr()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(base+"/console/login", url.Values{"access_key_id": {cred.AccessKeyID}, "secret_access_key": {cred.SecretAccessKey}})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login on replica b: %d, want 303", resp.StatusCode)
	}
	get := func(path string) string {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
		}
		return string(body)
	}
	page := get("/console/notifications")
	if !strings.Contains(page, "<h3>"+*topic.TopicArn+"</h3>") {
		t.Errorf("replica b's notifications page does not list %s:\n%s", *topic.TopicArn, page)
	}
	if !strings.Contains(page, "<td>email</td><td>sec@example.com</td>") {
		t.Errorf("replica b's delivery log does not show the confirmation:\n%s", page)
	}
	// The confirmation stays pending (no SMTP server), whichever replica tries it.
	eventually(t, 10*time.Second, "replica b's outbox shows the pending email", func() bool {
		return strings.Contains(get("/console/sources"), "<td>SNS email deliveries</td><td>1</td>")
	})
}
