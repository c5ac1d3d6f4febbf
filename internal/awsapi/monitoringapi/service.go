// Package monitoringapi is the CloudWatch (monitoring, API version 2010-08-01) adapter: the
// operations' input and output shapes, named exactly as in the AWS model, and their mapping to the
// domain services. It is served in all three protocols CloudWatch accepts (RPC v2 CBOR for the newest
// aws-sdk-go-v2, awsJson 1.0, and awsQuery for the aws CLI) by the awsapi framework.
package monitoringapi

import (
	"context"
	"maps"

	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// errorShapes maps CloudWatch's awsQuery error codes to the modeled error shapes sent as the
// JSON/CBOR __type (from the 2010-08-01 model's error traits). Codes equal to their shape name
// (InvalidNextToken, ResourceNotFound, ...) need no entry.
var errorShapes = map[string]string{
	metrics.CodeInvalidParameterValue:       "InvalidParameterValueException",
	metrics.CodeMissingParameter:            "MissingRequiredParameterException",
	metrics.CodeInvalidParameterCombination: "InvalidParameterCombinationException",
	metrics.CodeValidationError:             "com.amazon.coral.validate#ValidationException",
	"InternalServiceError":                  "InternalServiceFault",
	"LimitExceeded":                         "LimitExceededFault",
	"InvalidFormat":                         "InvalidFormatFault",
	"InvalidParameterInput":                 "DashboardInvalidInputError",
}

// NewService returns the monitoring service with the metric operations of m. extra adds further
// operations (the alarm operations live in their own files of this package and are passed here by
// the wiring); a later map overrides an earlier one for the same name.
func NewService(m *metrics.Service, extra ...map[string]awsapi.Operation) *awsapi.Service {
	h := handlers{svc: m}
	ops := map[string]awsapi.Operation{
		"PutMetricData":       awsapi.Op(h.putMetricData),
		"ListMetrics":         awsapi.Op(h.listMetrics),
		"GetMetricStatistics": awsapi.Op(h.getMetricStatistics),
		"GetMetricData":       awsapi.Op(h.getMetricData),
	}
	for _, e := range extra {
		maps.Copy(ops, e)
	}
	return &awsapi.Service{
		SigningName:     "monitoring",
		TargetPrefixes:  []string{"GraniteServiceVersion20100801"},
		JSONVersion:     "1.0",
		CBORService:     "GraniteServiceVersion20100801",
		QueryVersion:    "2010-08-01",
		XMLNamespace:    "http://monitoring.amazonaws.com/doc/2010-08-01/",
		QueryCompatible: true,
		ErrorNamespace:  "com.amazonaws.cloudwatch.v2010_08_01",
		ErrorShapes:     maps.Clone(errorShapes),
		Operations:      ops,
	}
}

type handlers struct {
	svc *metrics.Service
}

// scope is the caller's account and region, which every metric is keyed by.
func scope(ctx context.Context) metrics.Scope {
	id := awsapi.Caller(ctx)
	return metrics.Scope{AccountID: id.AccountID, Region: id.Region}
}
