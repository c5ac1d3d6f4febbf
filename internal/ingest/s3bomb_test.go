package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// oneObjectBucket is an S3 stand-in that holds one object.
type oneObjectBucket struct {
	key  string
	data []byte
}

func (b oneObjectBucket) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if aws.ToString(in.Key) != b.key {
		return nil, errors.New("NoSuchKey")
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b.data))}, nil
}

func (b oneObjectBucket) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if aws.ToString(in.StartAfter) >= b.key {
		return &s3.ListObjectsV2Output{}, nil
	}
	return &s3.ListObjectsV2Output{Contents: []s3types.Object{{Key: aws.String(b.key), Size: aws.Int64(int64(len(b.data)))}}}, nil
}

// TestS3ObjectBombRefused is the regression test for decompressed sizes bounded per record only:
// an object of 1 MB that inflates to 1 GiB is refused once past 256 MiB, with an error that names
// the bucket and key, and no record of it is delivered.
func TestS3ObjectBombRefused(t *testing.T) {
	// 1,024 gzip members of 1 MiB of zeros each: one gzip file of 1 GiB.
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	bomb := bytes.Repeat(member.Bytes(), 1<<10)
	const key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/111122223333_CloudTrail_us-east-1_20261125T2010Z_bomb.json.gz"
	sink := &tallySink{}
	src := &S3Source{Name: "t", Bucket: "ct-bucket", Prefix: "AWSLogs/", S3: oneObjectBucket{key, bomb},
		Log: &memLog{done: map[string]bool{}}, Sink: sink}
	_, err := src.Round(context.Background())
	want := "decode s3://ct-bucket/" + key + ": gunzip: decompressed size exceeds 256 MiB"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("round over a 1 GiB bomb: %v; want %q", err, want)
	}
	if sink.records != 0 {
		t.Fatalf("%d records delivered", sink.records)
	}
}

// endless is an object body that never ends, counting what was read from it.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.read += int64(len(p))
	return len(p), nil
}

// sizedBucket serves one object whose body and declared size the test chooses.
type sizedBucket struct {
	oneObjectBucket
	body     io.Reader
	declared *int64
}

func (b sizedBucket) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return &s3.GetObjectOutput{Body: io.NopCloser(b.body), ContentLength: b.declared}, nil
}

// TestS3ObjectSizeBounded is the regression test for S3 objects read whole before any limit: a
// plain (not gzipped) object is never decompressed, so only a bound on the object as stored keeps a
// huge one from taking all memory. An object that declares more than the limit is refused unread;
// one whose body runs past the limit is cut there. Both are reported with the object's name, as bad
// objects (recorded, not retried).
func TestS3ObjectSizeBounded(t *testing.T) {
	const key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/111122223333_CloudTrail_us-east-1_20261125T2010Z_big.json"
	const limit = 1 << 20
	for _, tt := range []struct {
		name     string
		declared *int64
		maxRead  int64
	}{
		{"declared too large", aws.Int64(limit + 1), 0},
		{"undeclared, endless", nil, limit + 1 + 64<<10},
		{"declared small, endless", aws.Int64(100), limit + 1 + 64<<10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := &endless{}
			log := &memLog{done: map[string]bool{}}
			src := &S3Source{Name: "t", Bucket: "ct-bucket", Prefix: "AWSLogs/", MaxObjectBytes: limit,
				S3: sizedBucket{oneObjectBucket{key: key}, body, tt.declared}, Log: log, Sink: &tallySink{}}
			_, err := src.Round(context.Background())
			want := "read s3://ct-bucket/" + key + ": object is larger than 1048576 bytes"
			if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, cloudtrail.ErrTooLarge) {
				t.Fatalf("round: %v; want %q", err, want)
			}
			if body.read > tt.maxRead {
				t.Errorf("read %d bytes of the object; at most %d expected", body.read, tt.maxRead)
			}
			if !log.done["t\x00"+key] {
				t.Errorf("the object is not recorded as processed (it would be fetched again every round)")
			}
		})
	}
}
