// Package moto starts moto_server, the stand-in S3 and SQS that ingestion tests read CloudTrail
// objects and notifications from, and makes SDK clients for it.
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

// Clients returns S3 (path-style) and SQS clients for the moto_server at url, in us-east-1 with
// moto's dummy credentials.
func Clients(url string) (*s3.Client, *sqs.Client) {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: awsclient.HTTPClient()}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(url); o.UsePathStyle = true })
	sqsc := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(url) })
	return s3c, sqsc
}
