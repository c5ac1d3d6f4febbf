package awsaccount

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/trailwatch/trailwatch/internal/plan"
)

// fakeTrails fails CreateTrail with CloudTrail's IAM-propagation error a number of times.
type fakeTrails struct {
	CloudTrailAPI
	failures int
	calls    int
	err      error
}

func (f *fakeTrails) CreateTrail(context.Context, *cloudtrail.CreateTrailInput, ...func(*cloudtrail.Options)) (*cloudtrail.CreateTrailOutput, error) {
	f.calls++
	if f.calls <= f.failures {
		return nil, f.err
	}
	return &cloudtrail.CreateTrailOutput{}, nil
}

// TestCreateTrailRetriesWhileTheRolePropagates: "Access denied." on a new role is retried for up to
// 60 s (terraform-provider-aws PR #1312), other errors are not; the waits use an injected clock.
func TestCreateTrailRetriesWhileTheRolePropagates(t *testing.T) {
	denied := &cttypes.InvalidCloudWatchLogsRoleArnException{Message: new(string)}
	*denied.Message = "Access denied."
	for _, tc := range []struct {
		name      string
		failures  int
		err       error
		wantCalls int
		wantErr   bool
	}{
		{"succeeds after three denials", 3, denied, 4, false},
		{"gives up after 60 s", 100, denied, 13, true},
		{"other errors are not retried", 1, &cttypes.S3BucketDoesNotExistException{}, 1, true},
		{"log group error is retried", 1, &cttypes.InvalidCloudWatchLogsLogGroupArnException{}, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := &fakeTrails{failures: tc.failures, err: tc.err}
			var waited time.Duration
			x := &Executor{Wait: func(_ context.Context, d time.Duration) error { waited += d; return nil }}
			acct := Account{ID: "1", In: func(string) Clients { return Clients{CloudTrail: ct} }}
			err := x.Run(context.Background(), acct, "us-east-1", []plan.Change{{Action: plan.Create, Op: plan.CreateTrail{Name: "t"}}}, func(plan.Change) {})
			if (err != nil) != tc.wantErr || ct.calls != tc.wantCalls {
				t.Errorf("err %v after %d calls, want error=%v after %d", err, ct.calls, tc.wantErr, tc.wantCalls)
			}
			if waited > 60*time.Second {
				t.Errorf("waited %v", waited)
			}
			if tc.wantErr && tc.err != nil && !errors.As(err, new(interface{ ErrorCode() string })) {
				t.Errorf("error %v lost the AWS error", err)
			}
		})
	}
}
