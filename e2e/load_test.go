package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/trailwatch/trailwatch/internal/pattern"
)

// TestIngestLoad measures sustained PutLogEvents throughput over HTTP into a log group carrying the CIS
// metric filters, with durable storage, and the server's resident memory over the run. It is a measurement,
// not a check, so it runs only with TRAILWATCH_LOAD=1:
//
//	TRAILWATCH_LOAD=1 TRAILWATCH_LOAD_EVENTS=2000000 [TRAILWATCH_LOAD_WORKERS=4] [TRAILWATCH_LOAD_BACKEND=postgres] go test ./e2e -run TestIngestLoad -v -timeout 30m
func TestIngestLoad(t *testing.T) {
	if os.Getenv("TRAILWATCH_LOAD") != "1" {
		t.Skip("set TRAILWATCH_LOAD=1 to run the ingest load measurement")
	}
	total := 500000
	if v := os.Getenv("TRAILWATCH_LOAD_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		total = n
	}
	workers := 4
	if v := os.Getenv("TRAILWATCH_LOAD_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		workers = n
	}
	ctx := context.Background()
	// TRAILWATCH_LOAD_BACKEND=postgres runs the server on a new PostgreSQL database (pgDatabase)
	// instead of SQLite, for the comparison of issue 16.
	var backend []string
	if os.Getenv("TRAILWATCH_LOAD_BACKEND") == "postgres" {
		backend = []string{"--database-url", pgDatabase(t)}
	}
	metricsAddr := freeAddr(t)
	s := startServer(t, "", append(backend, "--metrics-listen", metricsAddr)...)
	lc := logsClient(s)
	if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("ct")}); err != nil {
		t.Fatal(err)
	}
	for i, f := range pattern.CIS() { // the filters a CIS-monitored account has, byte for byte
		_, err := lc.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
			LogGroupName: aws.String("ct"), FilterName: aws.String(fmt.Sprintf("cis-%d", i)), FilterPattern: aws.String(f.Pattern),
			MetricTransformations: []logtypes.MetricTransformation{{MetricName: aws.String(fmt.Sprintf("cis-%d", i)), MetricNamespace: aws.String("CIS"), MetricValue: aws.String("1")}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for w := 0; w < workers; w++ {
		if _, err := lc.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("ct"), LogStreamName: aws.String(fmt.Sprint("s", w))}); err != nil {
			t.Fatal(err)
		}
	}
	records, _ := genCorpus(t, 100000)
	var corpusBytes int64
	quoted := make([][]byte, len(records)) // messages pre-encoded as JSON strings, to keep the client cheap
	for i, r := range records {
		corpusBytes += int64(len(r))
		quoted[i], _ = json.Marshal(r)
	}

	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	base := time.Now().Add(-90 * time.Minute).UnixMilli()
	// The plan: batches of up to 1,000 events within AWS's 1 MiB, cycling over the corpus until total.
	type span struct {
		start, end int
		offset     int64 // events sent before this batch; timestamps grow by 1 ms per 1,000 events
	}
	var plan []span
	for planned := 0; planned < total; {
		for i := 0; i < len(records) && planned < total; {
			end := min(batchEnd(records, i), i+total-planned)
			plan = append(plan, span{i, end, int64(planned)})
			planned += end - i
			i = end
		}
	}
	var next atomic.Int64
	var sent atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration

	// Sample the server's resident memory every 500 ms.
	var rss []int64
	stopRSS := make(chan struct{})
	rssDone := make(chan struct{})
	go func() {
		defer close(rssDone)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			rss = append(rss, readRSS(s.cmd.Process.Pid))
			select {
			case <-stopRSS:
				return
			case <-tick.C:
			}
		}
	}()

	cpu0 := readCPU(s.cmd.Process.Pid)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var body bytes.Buffer
			for {
				k := next.Add(1) - 1
				if k >= int64(len(plan)) {
					return
				}
				b := plan[k]
				body.Reset()
				body.WriteString(`{"logGroupName":"ct","logStreamName":"s` + strconv.Itoa(w) + `","logEvents":[`)
				for i := b.start; i < b.end; i++ {
					if i > b.start {
						body.WriteByte(',')
					}
					body.WriteString(`{"timestamp":`)
					body.WriteString(strconv.FormatInt(base+b.offset/1000, 10))
					body.WriteString(`,"message":`)
					body.Write(quoted[i])
					body.WriteByte('}')
				}
				body.WriteString(`]}`)
				req, _ := http.NewRequest("POST", s.URL+"/", bytes.NewReader(body.Bytes()))
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				req.Header.Set("X-Amz-Target", "Logs_20140328.PutLogEvents")
				sum := sha256.Sum256(body.Bytes())
				hash := hex.EncodeToString(sum[:])
				if err := signer.SignHTTP(ctx, creds, req, hash, "logs", testRegion, time.Now()); err != nil {
					t.Error(err)
					return
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				var out bytes.Buffer
				out.ReadFrom(resp.Body)
				resp.Body.Close()
				d := time.Since(t0)
				if resp.StatusCode != 200 || strings.Contains(out.String(), "rejectedLogEventsInfo") {
					t.Errorf("PutLogEvents: %d %s", resp.StatusCode, out.String())
					return
				}
				sent.Add(int64(b.end - b.start))
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	serverCPU := readCPU(s.cmd.Process.Pid) - cpu0
	// The events are stored for good once the compactor has merged the blocks the appends wrote;
	// the rate counting that work is the one ingest sustains.
	var compacted time.Duration
	for deadline := time.Now().Add(5 * time.Minute); ; {
		fams := scrapeMetrics(t, "http://"+metricsAddr+"/metrics")
		if fams["trailwatch_store_compaction_backlog"] == nil {
			t.Fatal("no trailwatch_store_compaction_backlog gauge")
		}
		if series(fams, "trailwatch_store_compaction_backlog") == 0 {
			compacted = time.Since(start)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("compaction did not catch up within 5 minutes")
		}
		time.Sleep(100 * time.Millisecond) // another process's progress: polled
	}
	compactedCPU := readCPU(s.cmd.Process.Pid) - cpu0
	close(stopRSS)
	<-rssDone
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	var peak int64
	for _, r := range rss {
		peak = max(peak, r)
	}
	avgBytes := float64(corpusBytes) / float64(len(records))
	t.Logf("ingested %d events in %v: %.0f events/s, %.1f MB/s of messages; %d workers, %d batches of up to 1,000 events / 1 MiB",
		sent.Load(), elapsed.Round(time.Millisecond), float64(sent.Load())/elapsed.Seconds(),
		float64(sent.Load())*avgBytes/elapsed.Seconds()/1e6, workers, len(plan))
	t.Logf("PutLogEvents latency p50 %v p99 %v max %v", pct(0.50), pct(0.99), pct(1))
	// The client runs on the same machine and takes its share of the cores: the server's own CPU
	// time per event says what a core of the server sustains, whatever the client cost.
	if serverCPU > 0 {
		t.Logf("server CPU %v: %.0f events per server CPU-second", serverCPU.Round(time.Millisecond), float64(sent.Load())/serverCPU.Seconds())
	}
	t.Logf("compaction caught up %v after the first request: %.0f events/s, %.0f events per server CPU-second, counting it",
		compacted.Round(time.Millisecond), float64(sent.Load())/compacted.Seconds(), float64(sent.Load())/max(compactedCPU, time.Millisecond).Seconds())
	t.Logf("server RSS: peak %d MiB; samples (MiB) first %v, middle %v, last %v", peak>>20,
		rss[0]>>20, rss[len(rss)/2]>>20, rss[len(rss)-1]>>20)
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/status")
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM") {
			t.Logf("server %s", line)
		}
	}
	// Memory must not grow with what was ingested. The bound is well above the ~150 MiB measured and
	// well below the 430 MiB that a 64 MiB page cache of 16 KiB pages took (see sqlite.Open).
	if peak > maxServerRSS {
		t.Errorf("server RSS peaked at %d MiB, over %d MiB", peak>>20, maxServerRSS>>20)
	}
}

// maxServerRSS bounds the server's resident memory under TestIngestLoad.
const maxServerRSS = 256 << 20

// readCPU returns the user and system CPU time a process has used, from /proc/<pid>/stat (fields 14
// and 15, in clock ticks of 1/100 s, the USER_HZ of Linux on every architecture Go supports), or 0.
func readCPU(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces: count from after it.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// readRSS returns a process's resident set size in bytes, from /proc.
func readRSS(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
