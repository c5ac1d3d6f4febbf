package awsapi_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/trailwatch/trailwatch/internal/awsapi"
)

// ExampleOp shows how a service adapter declares shapes and operations. The json tags name the AWS
// members for every protocol; `aws` tag options rename list and map element names for awsQuery.
func ExampleOp() {
	type Dimension struct {
		Name  string `json:"Name"`
		Value string `json:"Value"`
	}
	type ListMetricsInput struct {
		Namespace  *string     `json:"Namespace,omitempty"` // optional members are pointers
		Dimensions []Dimension `json:"Dimensions,omitempty"`
	}
	type Metric struct {
		Namespace  string      `json:"Namespace"`
		MetricName string      `json:"MetricName"`
		Dimensions []Dimension `json:"Dimensions"` // no omitempty: always sent, <Dimensions/> when empty
	}
	type ListMetricsOutput struct {
		Metrics   []Metric `json:"Metrics"`
		NextToken *string  `json:"NextToken,omitempty"`
	}
	monitoring := &awsapi.Service{
		SigningName:     "monitoring",
		TargetPrefixes:  []string{"GraniteServiceVersion20100801"},
		JSONVersion:     "1.0",
		CBORService:     "GraniteServiceVersion20100801",
		QueryVersion:    "2010-08-01",
		XMLNamespace:    "http://monitoring.amazonaws.com/doc/2010-08-01/",
		QueryCompatible: true,
		ErrorNamespace:  "com.amazonaws.cloudwatch.v2010_08_01",
		Operations: map[string]awsapi.Operation{
			"ListMetrics": awsapi.Op(func(ctx context.Context, in *ListMetricsInput) (*ListMetricsOutput, error) {
				id := awsapi.Caller(ctx) // the verified account and region scope every lookup
				if in.Namespace != nil && *in.Namespace == "" {
					return nil, &awsapi.Error{Code: "InvalidParameterValue", Message: "The parameter Namespace must not be empty.", Sender: true}
				}
				_ = id
				return &ListMetricsOutput{}, nil
			}),
		},
	}
	h, err := awsapi.NewHandler(awsapi.Config{
		Services:    []*awsapi.Service{monitoring},
		Credentials: staticCreds{"AKIDEXAMPLE": {"secret", "111111111111"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.Handle("/", h)
	fmt.Println("ready")
	// Output: ready
}
