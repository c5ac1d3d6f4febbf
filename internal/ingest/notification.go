package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ObjectRef names one S3 object a notification announces.
type ObjectRef struct {
	Bucket, Key string
}

// ParseNotification reads the objects an SQS message announces. It accepts an S3 event
// notification ({"Records":[{"eventSource":"aws:s3","s3":{...}}]}, keys URL-encoded as S3 sends
// them), the same wrapped in an SNS notification ({"Type":"Notification","Message":"..."}), and
// CloudTrail's own SNS notification of a delivered log file ({"s3Bucket":...,"s3ObjectKey":[...]}).
// S3's s3:TestEvent and events other than ObjectCreated announce nothing.
func ParseNotification(body string) ([]ObjectRef, error) {
	var m struct {
		Type    string `json:"Type"`
		Message string `json:"Message"`
		Event   string `json:"Event"`
		Records []struct {
			EventSource string `json:"eventSource"`
			EventName   string `json:"eventName"`
			S3          struct {
				Bucket struct {
					Name string `json:"name"`
				} `json:"bucket"`
				Object struct {
					Key string `json:"key"`
				} `json:"object"`
			} `json:"s3"`
		} `json:"Records"`
		S3Bucket    string   `json:"s3Bucket"`
		S3ObjectKey []string `json:"s3ObjectKey"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return nil, fmt.Errorf("decode notification: %w", err)
	}
	if m.Type == "Notification" && m.Message != "" {
		return ParseNotification(m.Message)
	}
	if m.Event == "s3:TestEvent" {
		return nil, nil
	}
	var out []ObjectRef
	if m.S3Bucket != "" {
		for _, k := range m.S3ObjectKey {
			out = append(out, ObjectRef{Bucket: m.S3Bucket, Key: k})
		}
		return out, nil
	}
	if m.Records == nil {
		return nil, errors.New("decode notification: neither an S3 event nor a CloudTrail notification")
	}
	for _, r := range m.Records {
		if r.EventSource != "aws:s3" || !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			return nil, fmt.Errorf("decode notification: object key %q: %w", r.S3.Object.Key, err)
		}
		out = append(out, ObjectRef{Bucket: r.S3.Bucket.Name, Key: key})
	}
	return out, nil
}
