package audit

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// CredentialRow is the <root_account> row of an IAM credential report, in the fields the root checks
// read (IAMUG id_credentials_getting-report.md).
type CredentialRow struct {
	User, ARN string
	// PasswordEnabled is "true", "false" or "not_supported" (IAMUG: root is always not_supported;
	// Prowler PR #7967 reads true; open question 3 of the reference). Compared case-insensitively.
	PasswordEnabled string
	// PasswordLastUsed, AccessKey1LastUsed and AccessKey2LastUsed are zero when the report says
	// N/A, no_information or not_supported.
	PasswordLastUsed                       time.Time
	MFAActive                              bool
	AccessKey1Active, AccessKey2Active     bool
	AccessKey1LastUsed, AccessKey2LastUsed time.Time
}

// RootAccountUser is the user column of the root row.
const RootAccountUser = "<root_account>"

// ErrNoRootRow is returned when a credential report has no <root_account> row: moto 5.2.1 omits it.
var ErrNoRootRow = errors.New("credential report has no <root_account> row")

// ParseCredentialReport returns the <root_account> row of a credential report (the decoded CSV of
// GetCredentialReport's Content). Columns are found by header name, so added columns do no harm.
func ParseCredentialReport(content []byte) (*CredentialRow, error) {
	r := csv.NewReader(bytes.NewReader(content))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read credential report header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, need := range []string{"user", "arn", "password_enabled", "mfa_active"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("read credential report: no %q column", need)
		}
	}
	for {
		rec, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, ErrNoRootRow
			}
			return nil, fmt.Errorf("read credential report: %w", err)
		}
		get := func(name string) string {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		if get("user") != RootAccountUser {
			continue
		}
		return &CredentialRow{
			User:               get("user"),
			ARN:                get("arn"),
			PasswordEnabled:    strings.ToLower(get("password_enabled")),
			PasswordLastUsed:   reportTime(get("password_last_used")),
			MFAActive:          strings.EqualFold(get("mfa_active"), "true"),
			AccessKey1Active:   strings.EqualFold(get("access_key_1_active"), "true"),
			AccessKey2Active:   strings.EqualFold(get("access_key_2_active"), "true"),
			AccessKey1LastUsed: reportTime(get("access_key_1_last_used_date")),
			AccessKey2LastUsed: reportTime(get("access_key_2_last_used_date")),
		}, nil
	}
}

// reportTime parses an ISO 8601 time; N/A, no_information and not_supported give the zero time.
func reportTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
