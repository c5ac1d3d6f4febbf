// Package teams sends receiver notifications to Microsoft Teams through a Workflows (Power
// Automate) webhook, the only path left after Office 365 connectors were retired (reference §A4):
// the body is {"type":"message","attachments":[{"contentType":
// "application/vnd.microsoft.card.adaptive","content":<Adaptive Card>}]}, which the "Send webhook
// alerts to a channel" template loops over, kept under Teams' 28 KB by leaving evidence events
// out, last first. A Workflows webhook answers 202 before the flow runs, so success means
// "accepted, not confirmed" and says so in the delivery log; 200 (older endpoints) is success too;
// 429 (honouring Retry-After) and 5xx are retried; 400, 413 and other statuses are not.
package teams

import (
	"context"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/notify"
)

// MaxBody is the size budget of a request: Teams refuses messages over about 28 KB (413); a
// kilobyte is kept in reserve, as elementary-data does.
const MaxBody = 27 * 1024

// Integration is the Teams integration.
type Integration struct {
	Client *http.Client
}

// Envelope is the Workflows webhook body.
type Envelope struct {
	Type        string       `json:"type"`
	Attachments []Attachment `json:"attachments"`
}

// Attachment carries the card.
type Attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     Card    `json:"content"`
}

// Card is an Adaptive Card.
type Card struct {
	Schema  string `json:"$schema"`
	Type    string `json:"type"`
	Version string `json:"version"`
	Body    []any  `json:"body"`
	Actions []any  `json:"actions,omitempty"`
	MSTeams any    `json:"msteams,omitempty"`
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func color(a alert.Alert) string {
	switch {
	case !a.IsAlarm:
		return "Default"
	case a.NewState == alert.StateAlarm:
		return "Attention"
	case a.NewState == alert.StateOK:
		return "Good"
	}
	return "Warning"
}

func textBlock(s string, extra map[string]any) map[string]any {
	b := map[string]any{"type": "TextBlock", "text": s, "wrap": true}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func factSet(fs []alert.Fact) map[string]any {
	facts := make([]any, len(fs))
	for i, f := range fs {
		facts[i] = map[string]string{"title": f.Name, "value": cut(f.Value, 1000)}
	}
	return map[string]any{"type": "FactSet", "facts": facts}
}

// Render builds the body of an alert with at most shown evidence events.
func render(a alert.Alert, shown int) Envelope {
	body := []any{textBlock(cut(a.Title(), 300), map[string]any{"weight": "Bolder", "size": "Medium", "style": "heading", "color": color(a)})}
	if a.IsAlarm {
		body = append(body, factSet(a.Facts()), textBlock(cut("Reason: "+a.Reason, 2000), nil))
		if a.AlarmDescription != "" {
			body = append(body, textBlock(cut(a.AlarmDescription, 1000), map[string]any{"isSubtle": true}))
		}
		for i, e := range a.Evidence[:shown] {
			body = append(body, map[string]any{"type": "Container", "separator": true, "items": []any{
				textBlock(alert.EvidenceHeading(i, e), map[string]any{"weight": "Bolder", "size": "Small"}),
				factSet(alert.EvidenceFacts(e)),
			}})
		}
		if len(a.Evidence) > 0 {
			body = append(body, textBlock(alert.MoreText(shown, a.Omitted+len(a.Evidence)-shown, a.OmittedIsLowerBound), map[string]any{"isSubtle": true}))
		}
	} else {
		body = append(body, textBlock(cut(a.Text, 20000), nil))
	}
	card := Card{Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4", Body: body,
		MSTeams: map[string]string{"width": "full"}}
	if a.Link != "" {
		card.Actions = []any{map[string]string{"type": "Action.OpenUrl", "title": "Open in trailwatch", "url": a.Link}}
	}
	return Envelope{Type: "message", Attachments: []Attachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: card}}}
}

// Render returns the request body of an alert, within MaxBody: evidence events are left out,
// last first, until it fits (with a note of how many there were).
func Render(a alert.Alert) ([]byte, error) {
	b, err := notify.MarshalJSON(render(a, len(a.Evidence)))
	if err != nil || len(b) <= MaxBody {
		return b, err
	}
	// Binary search for the most events that fit.
	lo, hi := 0, len(a.Evidence)-1
	best, err := notify.MarshalJSON(render(a, 0))
	if err != nil {
		return nil, err
	}
	for lo <= hi {
		mid := (lo + hi) / 2
		b, err := notify.MarshalJSON(render(a, mid))
		if err != nil {
			return nil, err
		}
		if len(b) <= MaxBody {
			best, lo = b, mid+1
		} else {
			hi = mid - 1
		}
	}
	return best, nil
}

// Notify implements notify.Integration.
func (t *Integration) Notify(ctx context.Context, n notify.Notification) (notify.Result, error) {
	body, err := Render(n.Alert)
	if err != nil {
		return notify.Result{}, &notify.DeliveryError{Detail: "encode card: " + err.Error(), Permanent: true}
	}
	if len(body) > MaxBody {
		return notify.Result{}, &notify.DeliveryError{Detail: "card of " + strconv.Itoa(len(body)) + " bytes exceeds Teams' 28 KB", Permanent: true}
	}
	r, err := notify.Post(ctx, t.Client, n.Receiver.URL, nil, body)
	if err != nil {
		return notify.Result{}, err
	}
	switch r.Status {
	case http.StatusAccepted:
		return notify.Result{Status: r.Status, Detail: "HTTP 202: accepted, not confirmed (the flow runs after the answer)", Thread: n.Thread}, nil
	case http.StatusOK:
		return notify.Result{Status: r.Status, Detail: notify.StatusText(r.Status, notify.ErrorText(r.Body)), Thread: n.Thread}, nil
	}
	return notify.Result{}, notify.Failure(r, notify.ErrorText(r.Body), n.Now)
}
