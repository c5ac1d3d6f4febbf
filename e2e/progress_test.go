package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/creack/pty"
)

// runTTY runs the trailwatch binary with the server's credentials and its stderr on a pseudo-terminal,
// as when a person runs it in a shell, and returns its stdout and what the terminal received.
func runTTY(t *testing.T, args ...string) (stdout, terminal string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testAccessKey, "AWS_SECRET_ACCESS_KEY="+testSecretKey, "AWS_REGION="+testRegion)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the child holds its own copy: the master reads EIO once the child is gone
	var term bytes.Buffer
	copied := make(chan error, 1)
	go func() { _, err := io.Copy(&term, ptmx); copied <- err }()
	err = cmd.Wait()
	if cerr := <-copied; cerr != nil && !errors.Is(cerr, syscall.EIO) {
		t.Fatalf("read the terminal: %v", cerr)
	}
	if err != nil {
		t.Fatalf("trailwatch %s: %v\n%s%q", strings.Join(args, " "), err, out.String(), term.String())
	}
	return out.String(), term.String()
}

// runPiped runs the binary like runCLI, and returns its stdout and its stderr, a pipe.
func runPiped(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testAccessKey, "AWS_SECRET_ACCESS_KEY="+testSecretKey, "AWS_REGION="+testRegion)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("trailwatch %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

var (
	// progressFilesRe is a progress line of a command that reads files: files, events, MB read of the
	// total, rate, errors, and the ETA.
	progressFilesRe = regexp.MustCompile(`\r[0-9]+/([0-9]+) files, [0-9]+ events, [0-9.]+/[0-9.]+ MB, [0-9.]+ MB/s, 0 errors(, ETA [0-9hms]+)? *`)
	// progressEventsRe is the progress line of a backfill that reads a log group, whose size is unknown.
	progressEventsRe = regexp.MustCompile(`\r[0-9]+ events, [0-9.]+ MB, [0-9.]+ MB/s, 0 errors *`)
	// clearedRe is the line erased at the end: spaces between carriage returns, and nothing after.
	clearedRe     = regexp.MustCompile(`\r +\r$`)
	ingestSummary = regexp.MustCompile(`^ingested 2000 events \([0-9.]+ MB\) from [0-9]+ files in [0-9.]+s: [0-9]+ events/s, [0-9.]+ MB/s; 0 files without records, 0 failed, 0 records skipped, 0 rejected by PutLogEvents\n$`)
)

// TestProgressOnlyOnATerminal runs trailwatch ingest and backfill with stderr on a pseudo-terminal: a
// progress line is drawn with \r and erased at the end, and stdout holds the usual summary alone. With
// stderr on a pipe nothing but the summary is written.
func TestProgressOnlyOnATerminal(t *testing.T) {
	dir, _ := genS3(t, 2000, "--accounts", "1", "--per-file", "100")
	s := startServer(t, "")
	files := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			files++
		}
		return nil
	})
	nFiles := strconv.Itoa(files)

	out, term := runTTY(t, "ingest", "--endpoint", s.URL, "--log-group", "progress", dir)
	if m := progressFilesRe.FindStringSubmatch(term); m == nil || m[1] != nFiles || !clearedRe.MatchString(term) || strings.Contains(term, "\n") {
		t.Fatalf("ingest on a terminal drew %q, want progress lines over %d files, erased at the end", term, files)
	}
	if !ingestSummary.MatchString(out) {
		t.Fatalf("ingest summary on a terminal: %q", out)
	}
	// Again with stderr piped (the records are deduplicated, the summary is the same).
	out, stderr := runPiped(t, "ingest", "--endpoint", s.URL, "--log-group", "progress", dir)
	if stderr != "" || !ingestSummary.MatchString(out) {
		t.Fatalf("ingest piped: stderr %q, stdout %q", stderr, out)
	}

	_, err := logsClient(s).PutMetricFilter(context.Background(), &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String("progress"), FilterName: aws.String("RootAccountUsage"), FilterPattern: aws.String(cisRoot),
		MetricTransformations: []logtypes.MetricTransformation{{MetricName: aws.String("RootAccountUsage"), MetricNamespace: aws.String("CloudTrailMetrics"), MetricValue: aws.String("1")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	backfill := []string{"backfill", "--endpoint", s.URL, "--log-group", "progress", "--filter-name", "RootAccountUsage", "--start", "24h", "--dry-run"}
	ttyOut, term := runTTY(t, backfill...)
	if !progressEventsRe.MatchString(term) || !clearedRe.MatchString(term) || strings.Contains(term, "\n") {
		t.Fatalf("backfill of a log group on a terminal drew %q", term)
	}
	pipeOut, stderr := runPiped(t, backfill...)
	if stderr != "" || pipeOut != ttyOut || !strings.Contains(pipeOut, "(dry run, nothing published)") {
		t.Fatalf("backfill piped: stderr %q, stdout %q; on a terminal: %q", stderr, pipeOut, ttyOut)
	}

	// From the files, up to now (a warning first: the filter counted events since its creation).
	backfill = append(backfill, "--end", "0s", dir)
	ttyOut, term = runTTY(t, backfill...)
	warning, progress, ok := strings.Cut(term, "\r\n") // the terminal driver writes \n as \r\n
	if m := progressFilesRe.FindStringSubmatch(progress); !ok || !strings.Contains(warning, "warning: --end") || m == nil || m[1] != nFiles || !clearedRe.MatchString(progress) {
		t.Fatalf("backfill of files on a terminal drew %q", term)
	}
	pipeOut, stderr = runPiped(t, backfill...)
	if strings.Contains(stderr, "\r") || strings.Count(stderr, "\n") != 1 || pipeOut != ttyOut {
		t.Fatalf("backfill of files piped: stderr %q, stdout %q; on a terminal: %q", stderr, pipeOut, ttyOut)
	}
}
