package cloudtrail

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Result is what a decoder found: the records, and how many it skipped as unusable (not an object,
// no eventTime, larger than CloudWatch Logs accepts).
type Result struct {
	Records []Record
	Skipped int
}

// add keeps rec unless it is unusable. Every record comes from the strict scanner (ParseRecord or
// scanRecord), so its Raw is valid JSON and valid UTF-8 already.
func (r *Result) add(rec Record, err error) {
	if err != nil || len(rec.Raw) > MaxRecordBytes {
		r.Skipped++
		return
	}
	r.Records = append(r.Records, rec)
}

// DefaultMaxDecompressed is how far one input (an S3 object, a file, a CloudWatch Logs subscription
// payload, a Firehose delivery request) may decompress when Decoder.MaxDecompressed is 0: 256 MiB.
// CloudTrail log files are in practice at most a few tens of MB decompressed: CloudTrail writes a
// new file about every five minutes per account and region, and a typical record is 1 to 2 KB.
// 256 MiB leaves an order of magnitude of room for the busiest trails while keeping a hostile
// object (a 1 MB gzip of zeros inflates to 1 GiB) from taking more than that much memory, times
// the few objects an S3 source reads at once. A caller that reads larger exports sets
// Decoder.MaxDecompressed.
const DefaultMaxDecompressed = 256 << 20

// maxHintRatio caps the output buffer sized from gzip's trailer: at most this many times the
// compressed size. CloudTrail files compress about 6.5 times (measured on the detonation logs of
// DataDog/stratus-red-team, docs/detonation-logs), so the hint still sizes a real file's buffer in
// one allocation, while a forged trailer can no longer make a few bytes allocate a gigabyte.
const maxHintRatio = 16

// ErrTooLarge is returned, wrapped, when an input decompresses to more than its decoder's limit.
// The message says which limit; the caller names the object.
var ErrTooLarge = errors.New("decompressed size exceeds the limit")

// tooLargeError is ErrTooLarge with the limit, and what it applies to, in its message.
type tooLargeError struct {
	limit int64
	scope string // "" or e.g. "in total for the request"
}

func (e *tooLargeError) Error() string {
	msg := "decompressed size exceeds " + formatSize(e.limit)
	if e.scope != "" {
		msg += " " + e.scope
	}
	return msg
}

func (e *tooLargeError) Is(target error) bool { return target == ErrTooLarge }

// formatSize prints a byte count in the largest binary unit that divides it.
func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Decoder decodes CloudTrail records with a bound on decompression. Its zero value uses
// DefaultMaxDecompressed; the package-level functions use the zero value.
type Decoder struct {
	// MaxDecompressed bounds the total decompressed size of one input: one object or file for
	// DecodeObject, one payload for DecodeSubscription, all the records of one request for
	// DecodeFirehose. 0 (or less) means DefaultMaxDecompressed; more than 64 TiB means 64 TiB.
	// Input that is not gzipped is not counted: it is already in memory.
	MaxDecompressed int64
}

func (d Decoder) limit() int64 {
	if d.MaxDecompressed > 0 {
		return min(d.MaxDecompressed, 1<<46)
	}
	return DefaultMaxDecompressed
}

// gunzip returns data decompressed when it starts with the gzip magic, else data itself; it refuses
// to produce more than limit bytes. klauspost/compress's inflater is about 1.4 times as fast as
// compress/gzip's on CloudTrail files. gzip's trailer (ISIZE, the size modulo 2^32 of the last
// member) is only a hint, and an attacker's: it sizes the first buffer only up to maxHintRatio times
// the compressed size and never beyond the limit, and the buffer then grows by doubling, never past
// limit+1 bytes. Past the limit it returns tooLarge, wrapped.
func gunzip(data []byte, limit int64, tooLarge error) ([]byte, error) {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	hint := int64(bytes.MinRead)
	if len(data) >= 18 {
		isize := int64(binary.LittleEndian.Uint32(data[len(data)-4:]))
		hint = max(hint, min(isize+1, maxHintRatio*int64(len(data))))
	}
	buf := make([]byte, 0, min(hint, limit+1))
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return nil, fmt.Errorf("gunzip: %w", tooLarge)
			}
			// Grown by hand rather than by append, whose policy may overshoot limit+1.
			grown := make([]byte, len(buf), min(max(2*int64(cap(buf)), bytes.MinRead), limit+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := zr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, fmt.Errorf("gunzip: %w", tooLarge)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
	}
}

// KeyInfo is what CloudTrail's S3 key layout says about an object:
// AWSLogs/[o-orgid/]<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<time>_<id>.json.gz.
type KeyInfo struct {
	AccountID, Region string
	// Digest is set for digest files (CloudTrail-Digest), which hold no records.
	Digest bool
}

// ParseKey reads the account, region and kind of a CloudTrail S3 key; fields it cannot find are "".
func ParseKey(key string) KeyInfo {
	var k KeyInfo
	parts := strings.Split(key, "/")
	for i, p := range parts {
		switch p {
		case "CloudTrail-Digest":
			k.Digest = true
			fallthrough
		case "CloudTrail", "CloudTrail-Insight":
			if i >= 1 {
				k.AccountID = parts[i-1]
			}
			if i+1 < len(parts) {
				k.Region = parts[i+1]
			}
		}
	}
	if strings.Contains(path.Base(key), "_CloudTrail-Digest_") {
		k.Digest = true
	}
	return k
}

// DecodeObject decodes a CloudTrail log file (an S3 object or a file on disk), gzipped or not:
// {"Records":[...]}, a JSON array of records, or newline-delimited records. key is the object key
// or file path, used to recognise digest files and to fill a record's missing account or region.
// Digest files and JSON objects without Records give ErrNotRecords.
//
// It decompresses at most DefaultMaxDecompressed; Decoder.DecodeObject takes another limit.
func DecodeObject(key string, data []byte) (Result, error) {
	return Decoder{}.DecodeObject(key, data)
}

// DecodeObject is the package's DecodeObject with d's limit: an object that decompresses to more
// gives an error wrapping ErrTooLarge, before more than the limit is allocated.
func (d Decoder) DecodeObject(key string, data []byte) (Result, error) {
	ki := ParseKey(key)
	if ki.Digest {
		return Result{}, ErrNotRecords
	}
	data, err := gunzip(data, d.limit(), &tooLargeError{limit: d.limit()})
	if err != nil {
		return Result{}, err
	}
	res, err := DecodeRecords(data)
	if err != nil {
		return res, err
	}
	for i := range res.Records {
		fill(&res.Records[i], ki.AccountID, ki.Region)
	}
	return res, nil
}

func fill(r *Record, account, region string) {
	if r.AccountID == "" {
		r.AccountID = account
	}
	if r.Region == "" {
		r.Region = region
	}
}

// DecodeRecords decodes uncompressed records in any of the file shapes DecodeObject accepts.
func DecodeRecords(data []byte) (Result, error) {
	i := skipSpace(data, 0)
	if i == len(data) {
		return Result{}, nil
	}
	switch data[i] {
	case '[':
		var raws []json.RawMessage
		if err := json.Unmarshal(data, &raws); err != nil {
			return Result{}, fmt.Errorf("decode record array: %w", err)
		}
		var res Result
		for _, raw := range raws {
			res.add(ParseRecord(raw))
		}
		return res, nil
	case '{':
		// A CloudTrail log file: one pass that checks the JSON and splits and reads the records.
		if hasRecordsKey(data, i) {
			res, end, err := decodeFile(data, i)
			if err != nil {
				return Result{}, fmt.Errorf("decode record file: %w", err)
			}
			if skipSpace(data, end) == len(data) {
				return res, nil
			}
			return decodeLines(data)
		}
		// One object spanning the input is a single record, a digest or some other object;
		// several objects are newline-delimited records. A structural skip tells them apart
		// without judging the first line, which decodeLines may skip alone.
		end, err := skipValue(data, i)
		if err != nil {
			return Result{}, fmt.Errorf("decode records: %w", err)
		}
		if skipSpace(data, end) != len(data) {
			return decodeLines(data)
		}
		res, _, err := decodeFile(data[:end], i)
		if err != nil {
			return Result{}, fmt.Errorf("decode record file: %w", err)
		}
		return res, nil
	default:
		return Result{}, errors.New("input is neither a JSON object, an array nor newline-delimited records")
	}
}

// hasRecordsKey reports whether the object at data[i] starts with a "Records" member, as every
// CloudTrail log file does.
func hasRecordsKey(data []byte, i int) bool {
	j := skipSpace(data, i+1)
	return len(data)-j >= len(`"Records"`) && string(data[j:j+len(`"Records"`)]) == `"Records"`
}

var errRecordsNotArray = errors.New("the Records member is not an array")

// decodeFile decodes the JSON object at data[i]: a {"Records":[...]} file, a single record, or a
// non-record object (ErrNotRecords), checking it strictly in the same pass. It returns the index
// just past the object.
func decodeFile(data []byte, i int) (Result, int, error) {
	var (
		res                       Result
		records, digest, isRecord bool
		notArray                  bool
	)
	end, err := scanMembers(data, i, 1, func(key []byte, j int) (int, error) {
		switch string(key) {
		case "Records":
			if j >= len(data) || data[j] != '[' {
				notArray = true
				break
			}
			records, notArray = true, false
			res = Result{} // a repeated member replaces the earlier one, as with encoding/json
			return scanElements(data, j, 2, func(k int) (int, error) {
				if data[k] != '{' {
					end, err := scanValue(data, k, 2)
					res.Skipped++
					return end, err
				}
				end, f, err := scanRecord(data, k, 2)
				if err != nil {
					return 0, err
				}
				res.add(f.record(Record{Raw: data[k:end]}))
				return end, nil
			})
		case "digestStartTime":
			digest = true
		case "eventTime", "eventVersion":
			isRecord = true
		}
		return scanValue(data, j, 1)
	})
	if err != nil {
		return Result{}, 0, err
	}
	switch {
	case notArray:
		return Result{}, end, errRecordsNotArray
	case records:
		return res, end, nil
	case digest:
		return Result{}, end, ErrNotRecords
	case isRecord:
		res.add(ParseRecord(data[i:end]))
		return res, end, nil
	default:
		return Result{}, end, ErrNotRecords
	}
}

// decodeLines decodes newline-delimited records; blank lines are ignored and each unusable line
// is skipped.
func decodeLines(data []byte) (Result, error) {
	var res Result
	for len(data) > 0 {
		line := data
		if n := bytes.IndexByte(data, '\n'); n >= 0 {
			line, data = data[:n], data[n+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		res.add(ParseRecord(line))
	}
	return res, nil
}

// EventBridge detail types that carry a CloudTrail record ("Events delivered via CloudTrail",
// EventBridge user guide). The console sign-in spelling is the one real events carry, "AWS Console
// Sign In via CloudTrail"; the guide's "AWS Console Signin via CloudTrail" is accepted too.
var eventBridgeTypes = map[string]bool{
	"AWS API Call via CloudTrail":                           true,
	"AWS Console Sign In via CloudTrail":                    true,
	"AWS Console Signin via CloudTrail":                     true,
	"AWS Service Event via CloudTrail":                      true,
	"AWS Insight via CloudTrail":                            true,
	"AWS Console Action via CloudTrail":                     true,
	"AWS Console Sign In and Console Action via CloudTrail": true,
}

// ErrNotCloudTrail is returned for an EventBridge event whose detail-type does not carry a
// CloudTrail record.
var ErrNotCloudTrail = errors.New("EventBridge event is not a CloudTrail event")

// DecodeEventBridge decodes one EventBridge event as an API destination delivers it (the whole
// event as the body, when the rule has no input transformer): the record is "detail". A JSON array
// of such events is accepted too.
func DecodeEventBridge(body []byte) (Result, error) {
	i := skipSpace(body, 0)
	if i < len(body) && body[i] == '[' {
		var events []json.RawMessage
		if err := json.Unmarshal(body, &events); err != nil {
			return Result{}, fmt.Errorf("decode EventBridge events: %w", err)
		}
		var res Result
		for _, e := range events {
			r, err := DecodeEventBridge(e)
			if err != nil {
				return Result{}, err
			}
			res.Records = append(res.Records, r.Records...)
			res.Skipped += r.Skipped
		}
		return res, nil
	}
	var ev struct {
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Account    string          `json:"account"`
		Region     string          `json:"region"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return Result{}, fmt.Errorf("decode EventBridge event: %w", err)
	}
	if !eventBridgeTypes[ev.DetailType] {
		return Result{}, fmt.Errorf("%w: detail-type %q", ErrNotCloudTrail, ev.DetailType)
	}
	if len(ev.Detail) == 0 || ev.Detail[0] != '{' {
		return Result{}, errors.New("decode EventBridge event: detail is not a JSON object")
	}
	var res Result
	rec, err := ParseRecord(ev.Detail)
	fill(&rec, ev.Account, ev.Region)
	res.add(rec, err)
	return res, nil
}

// DecodeSubscription decodes a CloudWatch Logs subscription payload (gzipped JSON or plain):
// a DATA_MESSAGE's logEvents[].message are the records; a CONTROL_MESSAGE gives ErrNotRecords.
// Records keep the message text as their raw bytes. It decompresses at most DefaultMaxDecompressed;
// Decoder.DecodeSubscription takes another limit.
func DecodeSubscription(data []byte) (Result, error) {
	return Decoder{}.DecodeSubscription(data)
}

// DecodeSubscription is the package's DecodeSubscription with d's limit.
func (d Decoder) DecodeSubscription(data []byte) (Result, error) {
	data, err := gunzip(data, d.limit(), &tooLargeError{limit: d.limit()})
	if err != nil {
		return Result{}, err
	}
	var p struct {
		MessageType string `json:"messageType"`
		Owner       string `json:"owner"`
		LogEvents   []struct {
			ID        string `json:"id"`
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		} `json:"logEvents"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return Result{}, fmt.Errorf("decode subscription payload: %w", err)
	}
	switch p.MessageType {
	case "DATA_MESSAGE":
	case "CONTROL_MESSAGE":
		return Result{}, ErrNotRecords
	default:
		return Result{}, fmt.Errorf("decode subscription payload: messageType %q", p.MessageType)
	}
	var res Result
	for _, e := range p.LogEvents {
		res.add(ParseRecord([]byte(e.Message)))
	}
	return res, nil
}

// FirehoseRequest is an Amazon Data Firehose HTTP endpoint delivery request ("Appendix - HTTP
// Endpoint Delivery Request and Response Specifications", Firehose developer guide).
type FirehoseRequest struct {
	RequestID string `json:"requestId"`
	Timestamp int64  `json:"timestamp"`
	Records   []struct {
		Data string `json:"data"`
	} `json:"records"`
}

// DecodeFirehose decodes a Firehose delivery request whose records are CloudWatch Logs
// subscription payloads (as a subscription filter to a Firehose stream sends them), or raw
// CloudTrail records or files. It returns the request id, which the response must echo. All its
// records together decompress to at most DefaultMaxDecompressed; Decoder.DecodeFirehose takes
// another limit.
func DecodeFirehose(body []byte) (requestID string, res Result, err error) {
	return Decoder{}.DecodeFirehose(body)
}

// DecodeFirehose is the package's DecodeFirehose with d's limit, which bounds the decompressed
// size of the whole request (the sum over its records), not of each record: a request of many
// small bombs is refused as surely as one large one.
func (d Decoder) DecodeFirehose(body []byte) (requestID string, res Result, err error) {
	var req FirehoseRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return "", Result{}, fmt.Errorf("decode Firehose request: %w", err)
	}
	if req.RequestID == "" {
		return "", Result{}, errors.New("decode Firehose request: requestId is missing")
	}
	budget := d.limit()
	for i, r := range req.Records {
		data, err := base64.StdEncoding.DecodeString(r.Data)
		if err != nil {
			return req.RequestID, Result{}, fmt.Errorf("decode Firehose record %d: %w", i, err)
		}
		compressed := len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
		data, err = gunzip(data, budget, &tooLargeError{limit: d.limit(), scope: "in total for the request"})
		if err != nil {
			return req.RequestID, Result{}, fmt.Errorf("decode Firehose record %d: %w", i, err)
		}
		if compressed {
			budget -= int64(len(data))
		}
		var part Result
		if bytes.Contains(data[:min(len(data), 64)], []byte(`"messageType"`)) || isSubscription(data) {
			part, err = d.DecodeSubscription(data)
		} else {
			part, err = DecodeRecords(data)
		}
		if errors.Is(err, ErrNotRecords) {
			continue
		}
		if err != nil {
			return req.RequestID, Result{}, fmt.Errorf("decode Firehose record %d: %w", i, err)
		}
		res.Records = append(res.Records, part.Records...)
		res.Skipped += part.Skipped
	}
	return req.RequestID, res, nil
}

// isSubscription reports whether a JSON object has a top-level messageType member.
func isSubscription(data []byte) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	found := false
	_, _ = scanMembers(data, i, 1, func(key []byte, j int) (int, error) {
		if string(key) == "messageType" {
			found = true
		}
		return scanValue(data, j, 1)
	})
	return found
}
