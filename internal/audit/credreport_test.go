package audit

import (
	"errors"
	"testing"
	"time"
)

const reportHeader = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"

func TestParseCredentialReport(t *testing.T) {
	// The root row's shape is IAMUG's (id_credentials_getting-report.md): not_supported for the
	// password dates, N/A for unused keys.
	root := "<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,2026-11-30T08:01:02+00:00,not_supported,not_supported,TRUE,false,N/A,N/A,N/A,N/A,true,2021-01-01T00:00:00+00:00,2026-01-02T03:04:05+00:00,us-east-1,iam,false,N/A,false,N/A\n"
	user := "alice,arn:aws:iam::111122223333:user/alice,2020-01-01T00:00:00+00:00,true,no_information,2020-01-01T00:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
	row, err := ParseCredentialReport([]byte(reportHeader + user + root))
	if err != nil {
		t.Fatal(err)
	}
	want := CredentialRow{User: RootAccountUser, ARN: "arn:aws:iam::111122223333:root", PasswordEnabled: "not_supported",
		PasswordLastUsed: time.Date(2026, 11, 30, 8, 1, 2, 0, time.UTC), MFAActive: true, AccessKey2Active: true,
		AccessKey2LastUsed: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if !row.PasswordLastUsed.Equal(want.PasswordLastUsed) || !row.AccessKey2LastUsed.Equal(want.AccessKey2LastUsed) {
		t.Errorf("times = %v %v", row.PasswordLastUsed, row.AccessKey2LastUsed)
	}
	row.PasswordLastUsed, row.AccessKey2LastUsed = want.PasswordLastUsed, want.AccessKey2LastUsed
	if *row != want {
		t.Errorf("row = %+v\nwant %+v", *row, want)
	}
	// moto 5.2.1's report has the exact header and no root row.
	if _, err := ParseCredentialReport([]byte(reportHeader + user)); !errors.Is(err, ErrNoRootRow) {
		t.Errorf("without a root row: %v", err)
	}
	for _, bad := range []string{"", "a,b\n", "user,arn\n\"unterminated"} {
		if _, err := ParseCredentialReport([]byte(bad)); err == nil {
			t.Errorf("ParseCredentialReport(%q) succeeded", bad)
		}
	}
}

func FuzzParseCredentialReport(f *testing.F) {
	f.Add([]byte(reportHeader + "<root_account>,arn:aws:iam::1:root,x,true,N/A,not_supported,not_supported,false,true,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"))
	f.Add([]byte("user,arn,password_enabled,mfa_active\n<root_account>\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		row, err := ParseCredentialReport(b)
		if err == nil && row.User != RootAccountUser {
			t.Fatalf("returned a row of %q", row.User)
		}
	})
}
