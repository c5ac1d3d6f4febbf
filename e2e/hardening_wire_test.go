package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TestWirePresignedLinkCannotDeleteAlarm replays issue 11's attack on the built binary: a shared,
// presigned read-only ListMetrics link, sent with an unsigned JSON Content-Type, X-Amz-Target
// DeleteAlarms and a body, deleted the root-login alarm. It must be refused, and the link itself
// must still work.
func TestWirePresignedLinkCannotDeleteAlarm(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	cc := cwClient(s)
	putSeedAlarm(t, ctx, cc, "RootLogin", "RootAccountUsage")

	q := url.Values{"Action": {"ListMetrics"}, "Version": {"2010-08-01"}, "X-Amz-Expires": {"604800"}}
	req, err := http.NewRequest(http.MethodGet, s.URL+"/?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	emptyHash := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	link, _, err := v4.NewSigner().PresignHTTP(ctx, aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey},
		req, emptyHash, "monitoring", testRegion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("<ListMetricsResponse")) {
		t.Errorf("presigned ListMetrics = %d %s", resp.StatusCode, body)
	}

	// The forgery, on the link above and on one presigned over UNSIGNED-PAYLOAD (which the server
	// once assumed for every presigned request).
	unsignedLink, _, err := v4.NewSigner().PresignHTTP(ctx, aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey},
		req, "UNSIGNED-PAYLOAD", "monitoring", testRegion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{link, unsignedLink} {
		forged, err := http.NewRequest(http.MethodGet, u, strings.NewReader(`{"AlarmNames":["RootLogin"]}`))
		if err != nil {
			t.Fatal(err)
		}
		forged.Header.Set("Content-Type", "application/x-amz-json-1.0")
		forged.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801.DeleteAlarms")
		resp, err = http.DefaultClient.Do(forged)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("forged DeleteAlarms = %d %s, want 403", resp.StatusCode, body)
		}
	}
	out, err := cc.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"RootLogin"}, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricAlarms) != 1 {
		t.Errorf("the root-login alarm is gone: %+v", out.MetricAlarms)
	}
}

// rss returns the resident set size of process pid in bytes, from /proc; ok is false where /proc is
// not available.
func rss(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// TestWireUnauthenticatedBodiesNotHeld replays issue 11's memory attack on the built binary: 60
// connections announcing 9 MiB bodies without a signature used to be pre-allocated and wait for their
// bodies. Each must be answered from its headers alone, and the server's memory must not grow with
// what they announced.
func TestWireUnauthenticatedBodiesNotHeld(t *testing.T) {
	s := startServer(t, "")
	before, haveRSS := rss(s.cmd.Process.Pid)
	const conns, announced = 60, 9 << 20
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		wg.Go(func() {
			conn, err := net.Dial("tcp", s.Addr)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			head := fmt.Sprintf("POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.1\r\n"+
				"X-Amz-Target: Logs_20140328.PutLogEvents\r\nContent-Length: %d\r\n\r\n{\"logGroupName\":\"g%d\",", s.Addr, announced, i)
			if _, err := io.WriteString(conn, head); err != nil {
				errs <- err
				return
			}
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				errs <- fmt.Errorf("connection %d not answered before its body: %w", i, err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				errs <- fmt.Errorf("connection %d answered %d", i, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if after, ok := rss(s.cmd.Process.Pid); haveRSS && ok {
		t.Logf("server RSS %d MiB before, %d MiB after", before>>20, after>>20)
		if after-before > 64<<20 {
			t.Errorf("server RSS grew by %d MiB for %d unauthenticated connections", (after-before)>>20, conns)
		}
	}
}
