// Package receiverapi is the wire of receivers: the PutReceiver, GetReceiver, ListReceivers,
// DeleteReceiver and TestReceiver operations of trailwatch's API extension (awsJson 1.1, target
// prefix TrailWatch_20261125, SigV4 service name "trailwatch", camelCase members), and the
// receiver endpoints <public-url>/receivers/<name> that SNS https subscriptions deliver to, from
// trailwatch itself or from real AWS SNS after the message's signature verified.
//
// Decisions: the endpoint needs no credentials (SNS sends none); the signature is the proof. The
// message's Timestamp is not checked for freshness: a replayed message is harmless, since the
// outbox's dedup key (one message per alarm transition or SNS message id, kept 14 days) drops it.
// Raw deliveries (RawMessageDelivery=true) carry no signature and are refused over HTTP; from
// trailwatch's own outbox they are taken in process. A body is read (at most MaxBody) before its
// signature is checked, so it is charged to the API's budget of unauthenticated bodies
// (awsapi.AnonymousBodies: 2 MiB in all, shared with the API's unsigned requests) as its bytes
// arrive, under a read deadline; deliveries past the budget are answered 503, which SNS retries.
package receiverapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// ReceiverShape is a receiver as the API returns it, secrets masked.
type ReceiverShape struct {
	Name          string       `json:"name"`
	Type          string       `json:"type"`
	URL           string       `json:"url,omitempty"`
	RoutingKey    string       `json:"routingKey,omitempty"`
	BotToken      string       `json:"botToken,omitempty"`
	Channel       string       `json:"channel,omitempty"`
	SigningSecret string       `json:"signingSecret,omitempty"`
	Severity      string       `json:"severity,omitempty"`
	SendResolved  bool         `json:"sendResolved"`
	Endpoint      string       `json:"endpoint"`
	CreationTime  *awsapi.Time `json:"creationTime,omitempty"`
	UpdateTime    *awsapi.Time `json:"updateTime,omitempty"`
}

// PutReceiverInput is PutReceiver's input.
type PutReceiverInput struct {
	Name          string `json:"name,omitempty"`
	Type          string `json:"type,omitempty"`
	URL           string `json:"url,omitempty"`
	RoutingKey    string `json:"routingKey,omitempty"`
	BotToken      string `json:"botToken,omitempty"`
	Channel       string `json:"channel,omitempty"`
	SigningSecret string `json:"signingSecret,omitempty"`
	Severity      string `json:"severity,omitempty"`
	SendResolved  *bool  `json:"sendResolved,omitempty"`
}

// PutReceiverOutput is PutReceiver's output.
type PutReceiverOutput struct {
	Endpoint string `json:"endpoint"`
}

// NameInput is the input of the operations on one receiver.
type NameInput struct {
	Name string `json:"name,omitempty"`
}

// GetReceiverOutput is GetReceiver's output.
type GetReceiverOutput struct {
	Receiver ReceiverShape `json:"receiver"`
}

// ListReceiversInput is ListReceivers' input (none).
type ListReceiversInput struct{}

// ListReceiversOutput is ListReceivers' output.
type ListReceiversOutput struct {
	Receivers []ReceiverShape `json:"receivers"`
}

// TestReceiverOutput is TestReceiver's output: the provider's answer.
type TestReceiverOutput struct {
	Delivered  bool   `json:"delivered"`
	StatusCode int    `json:"statusCode"`
	Detail     string `json:"detail"`
}

func shape(svc *receiver.Service, r *receiver.Receiver) ReceiverShape {
	return ReceiverShape{Name: r.Name, Type: r.Type, URL: r.URL, RoutingKey: r.RoutingKey, BotToken: r.BotToken, Channel: r.Channel,
		SigningSecret: r.SigningSecret, Severity: r.Severity, SendResolved: r.SendResolved, Endpoint: svc.Endpoint(r.Name),
		CreationTime: &awsapi.Time{Time: r.Created}, UpdateTime: &awsapi.Time{Time: r.Updated}}
}

// Operations returns the receiver operations, to be served by trailwatch's extension service.
func Operations(svc *receiver.Service) map[string]awsapi.Operation {
	return map[string]awsapi.Operation{
		"PutReceiver": awsapi.Op(func(ctx context.Context, in *PutReceiverInput) (*PutReceiverOutput, error) {
			r := receiver.Receiver{Name: in.Name, Type: in.Type, URL: in.URL, RoutingKey: in.RoutingKey, BotToken: in.BotToken,
				Channel: in.Channel, SigningSecret: in.SigningSecret, Severity: in.Severity, SendResolved: in.SendResolved == nil || *in.SendResolved}
			ep, err := svc.Put(ctx, awsapi.Caller(ctx).AccountID, r)
			if err != nil {
				return nil, err
			}
			return &PutReceiverOutput{Endpoint: ep}, nil
		}),
		"GetReceiver": awsapi.Op(func(ctx context.Context, in *NameInput) (*GetReceiverOutput, error) {
			r, err := svc.Get(ctx, awsapi.Caller(ctx).AccountID, in.Name)
			if err != nil {
				return nil, err
			}
			return &GetReceiverOutput{Receiver: shape(svc, r)}, nil
		}),
		"ListReceivers": awsapi.Op(func(ctx context.Context, _ *ListReceiversInput) (*ListReceiversOutput, error) {
			rs, err := svc.List(ctx, awsapi.Caller(ctx).AccountID)
			if err != nil {
				return nil, err
			}
			out := &ListReceiversOutput{Receivers: []ReceiverShape{}}
			for _, r := range rs {
				out.Receivers = append(out.Receivers, shape(svc, r))
			}
			return out, nil
		}),
		"DeleteReceiver": awsapi.Op(func(ctx context.Context, in *NameInput) (*struct{}, error) {
			return nil, svc.Delete(ctx, awsapi.Caller(ctx).AccountID, in.Name)
		}),
		"TestReceiver": awsapi.Op(func(ctx context.Context, in *NameInput) (*TestReceiverOutput, error) {
			id := awsapi.Caller(ctx)
			res, err := svc.Test(ctx, id.AccountID, id.Region, in.Name)
			if err != nil {
				return nil, err
			}
			return &TestReceiverOutput{Delivered: res.Delivered, StatusCode: res.StatusCode, Detail: res.Detail}, nil
		}),
	}
}

// MaxBody bounds a delivery's body: SNS's 256 KiB message (attributes included), whose quotes,
// backslashes and line breaks (the only characters SNS and trailwatch's envelope escape; control
// characters are not allowed in messages) at most double it in JSON, in its envelope of about
// 1 KiB, with room to spare. It must fit one client's share of the unauthenticated budget
// (awsapi.MaxAnonymousBody).
const MaxBody = 768 << 10

// Endpoint serves the receiver endpoints and takes trailwatch's own deliveries in process.
type Endpoint struct {
	Service  *receiver.Service
	Verifier *Verifier
	// Bodies is the budget the bodies of deliveries are charged to before their signature is
	// checked: the application shares the API's (awsapi.Config.Anonymous). Nil means a budget of
	// the endpoint's own, made on first use.
	Bodies *awsapi.AnonymousBodies
	// OnError, when set, receives failures worth a log line.
	OnError func(name string, err error)

	bodiesOnce sync.Once
}

// bodies returns the budget of unauthenticated bodies.
func (h *Endpoint) bodies() *awsapi.AnonymousBodies {
	h.bodiesOnce.Do(func() {
		if h.Bodies == nil {
			h.Bodies = awsapi.NewAnonymousBodies()
		}
	})
	return h.Bodies
}

// ServeHTTP serves POST /receivers/{name}: a verified SNS message is handed to the receiver
// service. Answers: 200 when taken, 403 for a message whose signature does not verify (or a raw
// delivery, which carries none), 404 for a receiver that does not exist, 400 for a body that is
// not an SNS message, 500 for a failure worth SNS's retry.
func (h *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	body, release, status, err := h.bodies().Read(w, r, MaxBody)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	defer release()
	e, err := ParseEnvelope(r.Header.Get, body)
	if errors.Is(err, ErrRaw) {
		http.Error(w, "raw message delivery carries no signature; turn RawMessageDelivery off for receiver endpoints", http.StatusForbidden)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	origin, err := h.Verifier.Verify(r.Context(), e)
	if err != nil {
		h.fail(name, err)
		http.Error(w, "SNS signature refused: "+err.Error(), http.StatusForbidden)
		return
	}
	detail, err := h.Service.Accept(r.Context(), name, e.Inbound(r.Header.Get("x-amz-sns-subscription-arn"), origin))
	if err != nil {
		var re *receiver.Error
		if errors.As(err, &re) {
			http.Error(w, re.Error(), re.HTTPStatusCode())
			return
		}
		// trailwatch's own failure: its text (paths, store errors, URLs visited) is for the log,
		// not for an unauthenticated caller; SNS retries the 500.
		h.fail(name, err)
		http.Error(w, "internal error; retry later", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, detail+"\n")
}

func (h *Endpoint) fail(name string, err error) {
	if h.OnError != nil {
		h.OnError(name, err)
	}
}

// Deliver takes a delivery of trailwatch's own outbox to receiver name in process, as the
// endpoint would take it over HTTP (notify.LocalRouter's Local). It needs no signature check
// (the message never left trailwatch), so raw deliveries are taken too. Its answer follows SNS's
// rule for HTTP endpoints: a missing receiver is an "HTTP 404" that counts as delivered; other
// failures are errors, retried under the subscription's policy.
func (h *Endpoint) Deliver(ctx context.Context, name string, d sns.Delivery) (string, error) {
	e, err := ParseEnvelope(func(k string) string { return headerOf(d.Headers, k) }, []byte(d.Body))
	if err != nil && !errors.Is(err, ErrRaw) {
		return "HTTP 400: " + err.Error(), nil
	}
	detail, err := h.Service.Accept(ctx, name, e.Inbound(d.SubscriptionARN, receiver.OriginTrailwatch))
	if err != nil {
		var re *receiver.Error
		if errors.As(err, &re) && re.HTTPStatusCode() < 500 {
			h.fail(name, err)
			return "HTTP " + strconv.Itoa(re.HTTPStatusCode()) + ": " + re.Message, nil
		}
		return "", err
	}
	return "HTTP 200: " + detail, nil
}

func headerOf(h map[string]string, k string) string {
	for hk, v := range h {
		if strings.EqualFold(hk, k) {
			return v
		}
	}
	return ""
}
