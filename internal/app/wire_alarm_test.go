package app

import (
	"context"
	"errors"
	"testing"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// Before SNS is wired nothing can be sent, so the alarm publisher must not report success (which
// wrote "Successfully executed action" for a mail nobody sent): it fails transiently, and the
// dispatcher keeps the action pending until a server with SNS delivers it (issue 11, item 12).
func TestAlarmPublisherWithoutSNSKeepsActionsPending(t *testing.T) {
	srv, err := New(Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Region: "us-east-1", AccountID: "111122223333"})
	if err != nil {
		t.Fatal(err)
	}
	err = srv.alarmPublisher(nil).PublishAction(context.Background(), alarm.Action{ID: 1, ActionARN: "arn:aws:sns:us-east-1:111122223333:t"})
	var perm *alarm.PermanentError
	if err == nil || errors.As(err, &perm) {
		t.Fatalf("PublishAction without SNS = %v, want a transient error", err)
	}
}
