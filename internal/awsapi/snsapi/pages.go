package snsapi

import (
	"context"
	"html/template"
	"maps"
	"net/http"
	"slices"

	"github.com/trailwatch/trailwatch/internal/sns"
)

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1>{{range .Lines}}<p>{{.}}</p>{{end}}{{if .Action}}
<form method="post" action="{{.Action}}"><button type="submit">Unsubscribe</button></form>{{end}}</body></html>
`))

type page struct {
	Title string
	Lines []string
	// Action, when set, adds the unsubscribe button posting to this URL.
	Action string
}

func render(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	pageTmpl.Execute(w, p)
}

// Pages serves the pages subscribers reach from SNS emails and the signing certificate:
//
//	GET  /confirmation.html?TopicArn=…&Token=…&Endpoint=…  confirms a subscription [§3.2]
//	GET  /unsubscribe.html?SubscriptionArn=…&Endpoint=…     asks, with a button (the email footer link)
//	POST /unsubscribe.html?SubscriptionArn=…&Endpoint=…     unsubscribes (the button, RFC 8058 one-click)
//	GET  /<certName>                                        the PEM signing certificate
//
// Decision: unlike AWS, where visiting the footer link unsubscribes, a GET only asks, so that
// link-scanning mail filters cannot silently cancel a security alert subscription.
//
// They need no credentials: the token, and the subscription ARN's random id, are the proof.
func Pages(svc *sns.Service, certName string, certPEM []byte) map[string]http.Handler {
	return map[string]http.Handler{
		"GET /confirmation.html": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			arn, err := svc.ConfirmSubscription(r.Context(), sns.Scope{}, q.Get("TopicArn"), q.Get("Token"), "")
			if err != nil {
				render(w, http.StatusBadRequest, page{Title: "Subscription not confirmed", Lines: []string{errText(err)}})
				return
			}
			render(w, http.StatusOK, page{Title: "Subscription confirmed!", Lines: []string{
				"You have subscribed " + q.Get("Endpoint") + " to the topic: " + q.Get("TopicArn") + ".",
				"Your subscription's id is: " + arn,
			}})
		}),
		// Visiting the link only asks: mail security scanners open links, and a scanner must
		// not be able to cancel an alert subscription. The button (or a mail client's RFC 8058
		// one-click POST) unsubscribes.
		"GET /unsubscribe.html": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			render(w, http.StatusOK, page{Title: "Unsubscribe", Action: r.URL.RequestURI(), Lines: []string{
				"Stop sending notifications of this topic to " + q.Get("Endpoint") + "?",
				q.Get("SubscriptionArn"),
			}})
		}),
		"POST /unsubscribe.html": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			if err := unsubscribe(r.Context(), svc, q.Get("SubscriptionArn")); err != nil {
				render(w, http.StatusBadRequest, page{Title: "Unsubscribe failed", Lines: []string{errText(err)}})
				return
			}
			render(w, http.StatusOK, page{Title: "Subscription removed", Lines: []string{
				"Your subscription to the topic below has been deactivated for " + q.Get("Endpoint") + ".",
				q.Get("SubscriptionArn"),
			}})
		}),
		"GET /" + certName: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-pem-file")
			w.Write(certPEM)
		}),
	}
}

func unsubscribe(ctx context.Context, svc *sns.Service, arn string) error {
	return svc.Unsubscribe(ctx, sns.Scope{}, arn)
}

func errText(err error) string {
	if e, ok := err.(*sns.Error); ok {
		return e.Message
	}
	return "The request could not be processed."
}
