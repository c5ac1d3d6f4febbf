package alarm_test

import (
	"context"
	"slices"
	"testing"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// TestAllListsEveryScope checks that All returns the alarms of every account and region (the
// console's board spans scopes) and sees deletions.
func TestAllListsEveryScope(t *testing.T) {
	r := newRig(t, nil, nil)
	ctx := context.Background()
	other := alarm.Scope{AccountID: "444455556666", Region: "eu-west-1"}
	if err := r.svc.PutMetricAlarm(ctx, sc, seedAlarm("root", "RootMetric", alarm.TreatNotBreaching), nil); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.PutMetricAlarm(ctx, other, seedAlarm("root-eu", "RootMetric", alarm.TreatNotBreaching), nil); err != nil {
		t.Fatal(err)
	}
	names := func() []string {
		var out []string
		for _, rec := range r.svc.All() {
			out = append(out, rec.Scope.Region+"/"+rec.Name)
		}
		slices.Sort(out)
		return out
	}
	if got, want := names(), []string{"eu-west-1/root-eu", sc.Region + "/root"}; !slices.Equal(got, want) {
		t.Errorf("All = %v, want %v", got, want)
	}
	if err := r.svc.DeleteAlarms(ctx, other, []string{"root-eu"}); err != nil {
		t.Fatal(err)
	}
	if got, want := names(), []string{sc.Region + "/root"}; !slices.Equal(got, want) {
		t.Errorf("All after delete = %v, want %v", got, want)
	}
}
