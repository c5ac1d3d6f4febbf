package app

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/trailwatch/trailwatch/internal/awsclient"
	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/ingest"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/progress"
)

const ingestUsage = `Usage: trailwatch ingest --log-group NAME [--endpoint URL] [--region REGION] [--workers N] [--max-file-mib N] PATH...

Reads CloudTrail log files and sends their records to a CloudWatch Logs log group through the
PutLogEvents API, as CloudTrail delivers them: one event per record, the record's JSON as the
message, eventTime as the timestamp, in the stream <accountId>_CloudTrail_<region>.

PATH is a CloudTrail S3 object ({"Records":[...]}, gzipped or not), a JSON array or
newline-delimited records, or a directory (such as a copy of a bucket's AWSLogs/ tree), read
recursively. Digest files and files that hold no records are skipped. A file larger than
--max-file-mib, on disk or decompressed, is refused (a hostile gzip file can inflate a
thousandfold); CloudTrail's own files are far smaller than the default.

--endpoint is the trailwatch (or other) endpoint; without it the records go to AWS. Credentials
and the default region come from the standard AWS chain (AWS_ACCESS_KEY_ID, profiles, ...).
The log group is created when missing and tagged trailwatch:dedup=eventID, which makes trailwatch
store and count each record once however often it is ingested.

When stderr is a terminal a progress line shows the files done, the events sent, the megabytes
read of the files' total, the rate, the files that failed and an ETA; it is erased at the end,
before the summary (--progress=false hides it).

Flags:
`

// ingestStats counts what the ingest command did; its fields are updated atomically by the workers.
type ingestStats struct {
	files, skippedFiles, failedFiles atomic.Int64
	events, rejected, skipped        atomic.Int64
	bytes                            atomic.Int64
	// read is the size on disk of the files taken from the decoders so far, for the progress line.
	read atomic.Int64
}

// logsAPI is the part of the CloudWatch Logs client the ingest command uses.
type logsAPI interface {
	CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	TagLogGroup(ctx context.Context, in *cloudwatchlogs.TagLogGroupInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.TagLogGroupOutput, error)
	CreateLogStream(ctx context.Context, in *cloudwatchlogs.CreateLogStreamInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
}

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, ingestUsage); fs.PrintDefaults() }
	endpoint := fs.String("endpoint", "", "CloudWatch Logs endpoint `URL` (default: AWS)")
	group := fs.String("log-group", "", "destination log group `name` (required)")
	region := fs.String("region", "", "`region` (default: the AWS chain's, then us-east-1)")
	// 16 calls in flight let trailwatch's group commit share each commit among many batches (a
	// CloudTrail bucket holds one log stream per account and region, so batches are often small):
	// 50k gen-cloudtrail events went in at ~18k events/s with 4 and ~25k with 16. CloudWatch Logs
	// allows thousands of PutLogEvents per second per account and region.
	workers := fs.Int("workers", 16, "concurrent PutLogEvents calls")
	showProgress := fs.Bool("progress", progress.IsTerminal(stderr), "show a progress line on stderr (default: when stderr is a terminal)")
	maxFileMiB := fs.Int64("max-file-mib", cloudtrail.DefaultMaxDecompressed>>20, "largest `size` in MiB a file may have, on disk or decompressed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *group == "" || fs.NArg() == 0 || *workers < 1 || *maxFileMiB < 1 || *maxFileMiB > 1<<20 {
		fmt.Fprintln(stderr, "trailwatch ingest: --log-group and at least one PATH are required; --workers and --max-file-mib must be positive")
		fs.Usage()
		return 2
	}
	client, err := newLogsClient(ctx, *endpoint, *region)
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch ingest: %v\n", err)
		return 1
	}
	files, err := collectFiles(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch ingest: %v\n", err)
		return 2
	}
	ing := &fileIngester{client: client, group: *group, workers: *workers, maxFile: *maxFileMiB << 20, stderr: stderr}
	start := time.Now()
	stopProgress := func() {}
	if *showProgress {
		stopProgress = ing.startProgress(files)
	}
	err = ing.run(ctx, files)
	stopProgress()
	el := time.Since(start).Seconds()
	st := &ing.stats
	fmt.Fprintf(stdout, "ingested %d events (%.1f MB) from %d files in %.2fs: %.0f events/s, %.1f MB/s; %d files without records, %d failed, %d records skipped, %d rejected by PutLogEvents\n",
		st.events.Load(), float64(st.bytes.Load())/1e6, st.files.Load(), el, float64(st.events.Load())/el, float64(st.bytes.Load())/1e6/el,
		st.skippedFiles.Load(), st.failedFiles.Load(), st.skipped.Load(), st.rejected.Load())
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch ingest: %v\n", err)
		return 1
	}
	if st.failedFiles.Load() > 0 {
		return 1
	}
	return 0
}

func newLogsClient(ctx context.Context, endpoint, region string) (*cloudwatchlogs.Client, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	cfg.HTTPClient = awsclient.Wrap(cfg.HTTPClient)
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// collectFiles expands directories recursively, in lexical order.
func collectFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
	}
	sort.Strings(out)
	return out, nil
}

// fileIngester sends decoded files through PutLogEvents.
type fileIngester struct {
	client  logsAPI
	group   string
	workers int
	// maxFile bounds a file's size on disk and decompressed; 0 means
	// cloudtrail.DefaultMaxDecompressed.
	maxFile int64
	stderr  io.Writer
	stats   ingestStats
	// sizes are the files' sizes on disk when a progress line is shown (startProgress), else nil.
	sizes map[string]int64

	mu      sync.Mutex
	streams map[string]bool
}

// chunkRecords is how many records are gathered before they are cut into batches: enough to fill
// 1 MiB batches (about 800 CloudTrail records) for a few dozen streams, small enough that sending starts
// while later files are still being decoded, and memory stays small.
const chunkRecords = 32768

func (f *fileIngester) run(ctx context.Context, files []string) error {
	if err := f.ensureGroup(ctx); err != nil {
		return err
	}
	f.streams = map[string]bool{}
	batches := make(chan []cloudtrail.Record, f.workers)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range f.workers {
		wg.Go(func() {
			for b := range batches {
				if err := f.put(ctx, b); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
				}
			}
		})
	}
	var pending []cloudtrail.Record
	flush := func() {
		for _, b := range ingest.Batches(pending) {
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
		}
		pending = nil
	}
	// Files are read and decoded by a pool while earlier batches are being sent (gunzip and the JSON
	// scan are this side's CPU cost), and gathered here in whatever order they finish: Batches orders
	// each stream's records by time.
	decoded := make(chan decodedFile, 64)
	paths := make(chan string)
	var decoders sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		decoders.Go(func() {
			for path := range paths {
				d := decodeFile(path, f.maxFile)
				d.path = path
				decoded <- d
			}
		})
	}
	go func() {
		defer close(paths)
		for _, path := range files {
			select {
			case paths <- path:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		decoders.Wait()
		close(decoded)
	}()
	for d := range decoded {
		f.stats.read.Add(f.sizes[d.path])
		switch {
		case d.skipped:
			f.stats.skippedFiles.Add(1)
			continue
		case d.err != nil:
			f.stats.failedFiles.Add(1)
			fmt.Fprintf(f.stderr, "trailwatch ingest: %v\n", d.err)
			continue
		}
		f.stats.files.Add(1)
		f.stats.skipped.Add(int64(d.res.Skipped))
		pending = append(pending, d.res.Records...)
		if len(pending) >= chunkRecords && ctx.Err() == nil {
			flush()
		}
	}
	flush()
	close(batches)
	wg.Wait()
	return firstErr
}

func (f *fileIngester) ensureGroup(ctx context.Context) error {
	_, err := f.client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(f.group)})
	var exists *cwltypes.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("create log group %s: %w", f.group, err)
	}
	_, err = f.client.TagLogGroup(ctx, &cloudwatchlogs.TagLogGroupInput{LogGroupName: aws.String(f.group), Tags: map[string]string{logs.DedupTag: logs.DedupTagValue}})
	if err != nil {
		// Deduplication is trailwatch's; a CloudWatch Logs that refuses the tag still gets the events.
		fmt.Fprintf(f.stderr, "trailwatch ingest: warning: tag log group %s: %v\n", f.group, err)
	}
	return nil
}

func (f *fileIngester) ensureStream(ctx context.Context, name string) error {
	f.mu.Lock()
	done := f.streams[name]
	f.mu.Unlock()
	if done {
		return nil
	}
	_, err := f.client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(f.group), LogStreamName: aws.String(name)})
	var exists *cwltypes.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("create log stream %s: %w", name, err)
	}
	f.mu.Lock()
	f.streams[name] = true
	f.mu.Unlock()
	return nil
}

// decodedFile is one file's outcome: records, or skipped (a digest or a file without records), or an
// error.
type decodedFile struct {
	path    string
	res     cloudtrail.Result
	skipped bool
	err     error
}

// decodeFile reads and decodes one CloudTrail file of at most limit bytes, on disk and decompressed
// (0 means cloudtrail.DefaultMaxDecompressed). Errors name the file.
func decodeFile(path string, limit int64) decodedFile {
	if cloudtrail.ParseKey(filepath.ToSlash(path)).Digest {
		return decodedFile{skipped: true}
	}
	if limit <= 0 {
		limit = cloudtrail.DefaultMaxDecompressed
	}
	data, err := readFileLimit(path, limit)
	if err != nil {
		return decodedFile{err: err}
	}
	res, err := cloudtrail.Decoder{MaxDecompressed: limit}.DecodeObject(filepath.ToSlash(path), data)
	if errors.Is(err, cloudtrail.ErrNotRecords) {
		return decodedFile{skipped: true}
	}
	if errors.Is(err, cloudtrail.ErrTooLarge) {
		return decodedFile{err: fmt.Errorf("%s: %w (--max-file-mib raises the limit)", path, err)}
	}
	if err != nil {
		return decodedFile{err: fmt.Errorf("%s: %w", path, err)}
	}
	return decodedFile{res: res}
}

// readFileLimit reads a file of at most limit bytes; a larger one (or one that grows past the
// limit while being read) is refused without being read whole.
func readFileLimit(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	tooLarge := fmt.Errorf("%s: file size exceeds %d MiB (--max-file-mib raises the limit)", path, limit>>20)
	if fi.Size() > limit {
		return nil, tooLarge
	}
	data := make([]byte, 0, fi.Size()+1)
	buf := bytes.NewBuffer(data)
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(buf.Len()) > limit {
		return nil, tooLarge
	}
	return buf.Bytes(), nil
}

// put sends one batch and counts what PutLogEvents accepted.
func (f *fileIngester) put(ctx context.Context, b []cloudtrail.Record) error {
	stream := b[0].StreamName()
	if err := f.ensureStream(ctx, stream); err != nil {
		return err
	}
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(f.group), LogStreamName: aws.String(stream), LogEvents: make([]cwltypes.InputLogEvent, len(b))}
	var bytes int64
	for i, r := range b {
		in.LogEvents[i] = cwltypes.InputLogEvent{Timestamp: aws.Int64(r.TimestampMillis()), Message: aws.String(string(r.Raw))}
		bytes += int64(len(r.Raw))
	}
	out, err := f.client.PutLogEvents(ctx, in)
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return fmt.Errorf("put log events to %s: %s: %s", stream, ae.ErrorCode(), ae.ErrorMessage())
		}
		return fmt.Errorf("put log events to %s: %w", stream, err)
	}
	rejected := 0
	if ri := out.RejectedLogEventsInfo; ri != nil {
		lo, hi := 0, len(b)
		if ri.TooOldLogEventEndIndex != nil {
			lo = max(lo, int(*ri.TooOldLogEventEndIndex))
		}
		if ri.ExpiredLogEventEndIndex != nil {
			lo = max(lo, int(*ri.ExpiredLogEventEndIndex))
		}
		if ri.TooNewLogEventStartIndex != nil {
			hi = min(hi, int(*ri.TooNewLogEventStartIndex))
		}
		rejected = len(b) - max(0, hi-lo)
	}
	f.stats.events.Add(int64(len(b) - rejected))
	f.stats.rejected.Add(int64(rejected))
	f.stats.bytes.Add(bytes)
	return nil
}

// startProgress shows a progress line on stderr until the returned function is called (before run,
// which it prepares to write its messages around the line): files taken
// from the decoders, events accepted by PutLogEvents, bytes of the files read (against their total size,
// which gives the ETA), and files that failed.
func (f *fileIngester) startProgress(files []string) (stop func()) {
	var total int64
	f.sizes, total = fileSizes(files)
	n := int64(len(files))
	line := progress.New(f.stderr, time.Now)
	f.stderr = line.Writer() // messages about failed files erase the line first
	return progress.Start(line, func() progress.Counts {
		st := &f.stats
		return progress.Counts{FilesDone: st.files.Load() + st.skippedFiles.Load() + st.failedFiles.Load(), FilesTotal: n,
			Events: st.events.Load(), Bytes: st.read.Load(), TotalBytes: total, Errors: st.failedFiles.Load()}
	})
}
