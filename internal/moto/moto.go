// Package moto starts moto_server, the stand-in AWS that ingestion tests read CloudTrail objects and
// notifications from and that audit/apply tests read and change accounts in, and makes SDK clients
// and configurations for it.
package moto

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwatch/trailwatch/internal/awsclient"
)

// Start runs moto_server on a free loopback port until the test ends and returns its URL. Without
// moto_server the test is skipped, or fails under TRAILWATCH_E2E_REQUIRE=1 (CI must run it).
func Start(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv("TRAILWATCH_E2E_REQUIRE") == "1" {
			tb.Fatal("moto_server not installed (TRAILWATCH_E2E_REQUIRE=1)")
		}
		tb.Skip("moto_server not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; ; i++ {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return url
		}
		if i > 200 {
			tb.Fatalf("moto_server did not start: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond) // waiting for an external process, not for time-driven logic
	}
}

// Config returns an aws-sdk-go-v2 configuration for the moto_server at url, in us-east-1 with moto's
// dummy credentials (moto's account 123456789012).
func Config(url string) aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: awsclient.HTTPClient(), BaseEndpoint: aws.String(url)}
}

// Env points the default AWS chain of the process at the moto_server at url for the rest of the test:
// AWS_ENDPOINT_URL, dummy keys, us-east-1, no shared files, no retries (moto answers unimplemented
// operations with HTTP 500, which the SDK would otherwise retry).
func Env(t *testing.T, url string) {
	t.Setenv("AWS_ENDPOINT_URL", url)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/trailwatch-test-config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/trailwatch-test-credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
}

// Clients returns S3 (path-style) and SQS clients for the moto_server at url, in us-east-1 with
// moto's dummy credentials.
func Clients(url string) (*s3.Client, *sqs.Client) {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: awsclient.HTTPClient()}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(url); o.UsePathStyle = true })
	sqsc := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(url) })
	return s3c, sqsc
}
