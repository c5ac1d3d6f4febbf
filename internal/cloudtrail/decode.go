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

// maxDecompressed bounds what one gzipped input may expand to, so that a hostile object cannot
// exhaust memory: 1 GiB, far above CloudTrail's largest log files.
const maxDecompressed = 1 << 30

// gunzip returns data decompressed when it starts with the gzip magic, else data itself.
// klauspost/compress's inflater is about 1.4 times as fast as compress/gzip's on CloudTrail files,
// and gzip's trailer (ISIZE, the size modulo 2^32 of the last member) sizes the output buffer up
// front instead of growing it by doubling; a wrong hint only costs a reallocation.
func gunzip(data []byte) ([]byte, error) {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	var buf bytes.Buffer
	if len(data) >= 18 {
		if hint := binary.LittleEndian.Uint32(data[len(data)-4:]); hint <= maxDecompressed {
			buf.Grow(int(hint) + bytes.MinRead)
		}
	}
	if _, err := buf.ReadFrom(io.LimitReader(zr, maxDecompressed+1)); err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	if buf.Len() > maxDecompressed {
		return nil, errors.New("gunzip: decompressed size exceeds 1 GiB")
	}
	return buf.Bytes(), nil
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
func DecodeObject(key string, data []byte) (Result, error) {
	ki := ParseKey(key)
	if ki.Digest {
		return Result{}, ErrNotRecords
	}
	data, err := gunzip(data)
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

var errRecordsNotArray = errors.New("Records is not an array")

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
// Records keep the message text as their raw bytes.
func DecodeSubscription(data []byte) (Result, error) {
	data, err := gunzip(data)
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
// CloudTrail records or files. It returns the request id, which the response must echo.
func DecodeFirehose(body []byte) (requestID string, res Result, err error) {
	var req FirehoseRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return "", Result{}, fmt.Errorf("decode Firehose request: %w", err)
	}
	if req.RequestID == "" {
		return "", Result{}, errors.New("decode Firehose request: requestId is missing")
	}
	for i, r := range req.Records {
		data, err := base64.StdEncoding.DecodeString(r.Data)
		if err != nil {
			return req.RequestID, Result{}, fmt.Errorf("decode Firehose record %d: %w", i, err)
		}
		data, err = gunzip(data)
		if err != nil {
			return req.RequestID, Result{}, fmt.Errorf("decode Firehose record %d: %w", i, err)
		}
		var part Result
		if bytes.Contains(data[:min(len(data), 64)], []byte(`"messageType"`)) || isSubscription(data) {
			part, err = DecodeSubscription(data)
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
