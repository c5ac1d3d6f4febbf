package app

import (
	"crypto/rsa"
	"maps"
	"net/http"
	"time"

	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/awsapi/receiverapi"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/pagerduty"
	"github.com/trailwatch/trailwatch/internal/notify/slack"
	"github.com/trailwatch/trailwatch/internal/notify/teams"
	"github.com/trailwatch/trailwatch/internal/notify/webhook"
	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// ReceiversPath is the route of receiver endpoints, <public-url>/receivers/<name>.
const ReceiversPath = "POST " + receiver.EndpointPath + "{name}"

// receiverParts is the receiver component once wired.
type receiverParts struct {
	svc      *receiver.Service
	endpoint *receiverapi.Endpoint
}

// wireReceivers builds the receiver service, the integrations it delivers through and its
// endpoint, and installs its senders in the SNS worker: receiver messages go to the receiver
// sender, and SNS deliveries to trailwatch's own receiver endpoints are taken in process
// (notify.LocalRouter) while every other http/https delivery goes out as before.
func (s *Server) wireReceivers(db backend, svc *sns.Service, w *notify.Worker, key *rsa.PublicKey, base, certURL string) *receiverParts {
	rs := receiver.NewService(db, db, s.opts.AccountID, base, s.now)
	client := notify.NewClient(s.opts.SNSAllowPrivate, nil)
	sender := &notify.ReceiverSender{Store: db, AccountID: s.opts.AccountID, PublicURL: base, Now: s.now,
		Integrations: map[string]notify.Integration{
			receiver.TypeSlack:     &slack.Integration{Client: client},
			receiver.TypePagerDuty: &pagerduty.Integration{Client: client},
			receiver.TypeTeams:     &teams.Integration{Client: client},
			receiver.TypeWebhook:   &webhook.Integration{Client: client, PublicURL: base},
		}}
	verifier := &receiverapi.Verifier{OwnCertURL: certURL, OwnKey: key, AllowedHosts: s.opts.ReceiverCertHosts,
		AllowedAccounts: s.opts.ReceiverSNSAccounts, Now: s.now,
		Client: &http.Client{Timeout: 10 * time.Second}}
	rs.Tester = sender
	rs.Confirmer = &receiverapi.Confirmer{SNS: svc, Verifier: verifier}
	rs.OnEnqueue = w.Notify
	ep := &receiverapi.Endpoint{Service: rs, Verifier: verifier, Bodies: s.anonymous, OnError: func(name string, err error) {
		s.logger.Warn("receiver endpoint", "receiver", name, "err", err)
	}}
	router := &notify.LocalRouter{Prefix: base + receiver.EndpointPath, Local: ep.Deliver, Remote: w.Senders["https"]}
	w.Senders["http"], w.Senders["https"], w.Senders[receiver.Protocol] = router, router, sender
	return &receiverParts{svc: rs, endpoint: ep}
}

// extendAPI adds the receiver operations to trailwatch's own API extension (the service with
// SigV4 name "trailwatch", which also serves BackfillMetricFilter).
func (s *Server) extendAPI(services []*awsapi.Service) {
	if s.sns == nil || s.sns.receivers == nil {
		return
	}
	for _, svc := range services {
		if svc.SigningName == "trailwatch" {
			maps.Copy(svc.Operations, receiverapi.Operations(s.sns.receivers.svc))
			return
		}
	}
}
