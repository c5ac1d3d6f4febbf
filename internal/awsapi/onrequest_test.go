package awsapi_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/awsapi"
)

// TestOnRequest checks that every answered request, refused ones included, reaches
// Config.OnRequest with the service, the operation as named, whether it exists, and the status.
func TestOnRequest(t *testing.T) {
	svc := &awsapi.Service{SigningName: "logs", TargetPrefixes: []string{"Logs_20140328"}, JSONVersion: "1.1", Operations: map[string]awsapi.Operation{
		"Ok":   awsapi.Op(func(context.Context, *struct{}) (*struct{}, error) { return &struct{}{}, nil }),
		"Fail": awsapi.Op(func(context.Context, *struct{}) (*struct{}, error) { return nil, errSecret }),
	}}
	var mu sync.Mutex
	var got []awsapi.RequestInfo
	clock := fixedNow
	h, err := awsapi.NewHandler(awsapi.Config{Services: []*awsapi.Service{svc}, Credentials: staticCreds{testAccessKey: {testSecret, testAccount}},
		Now: func() time.Time { return clock },
		OnRequest: func(ri awsapi.RequestInfo) {
			mu.Lock()
			got = append(got, ri)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{srv: newServer(t, h)}
	e.do(t, jsonReq("Logs_20140328.Ok", "1.1", `{}`))
	e.do(t, jsonReq("Logs_20140328.Fail", "1.1", `{}`))
	e.do(t, jsonReq("Logs_20140328.NoSuchOperation", "1.1", `{}`))
	e.do(t, rawReq{method: http.MethodGet, noSign: true, path: "/metrics"})
	want := []awsapi.RequestInfo{
		{Service: "logs", Operation: "Ok", Known: true, Status: 200},
		{Service: "logs", Operation: "Fail", Known: true, Status: 500},
		{Service: "logs", Operation: "NoSuchOperation", Known: false, Status: 400},
		{Service: "", Operation: "", Known: false, Status: 405},
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("OnRequest saw\n%+v\nwant\n%+v", got, want)
	}
}
