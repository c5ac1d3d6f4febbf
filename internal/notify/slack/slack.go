// Package slack sends receiver notifications to Slack, through an incoming webhook (the URL is the
// secret) or, with a bot token and a channel, through the Web API's chat.postMessage, where the
// OK notification updates the original ALARM message (chat.update, keeping its ts) and replies in
// its thread (reference §A2).
//
// Messages are Block Kit within Slack's limits: at most 50 blocks, 3,000 characters per section
// text, 2,000 per field, 150 per header, with &, < and > escaped everywhere (and nothing else
// entity-encoded), plus a text fallback for notifications and screen readers. Success is a 200
// with the body "ok" for webhooks and "ok": true for the Web API; an HTTP 200 with "ok": false
// is a permanent failure, as Alertmanager treats it; 429 (honouring Retry-After) and 5xx are
// retried, other statuses are not.
package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/notify"
)

// Slack's limits (reference §A2: api.slack.com/reference/block-kit/blocks and the limits table).
const (
	MaxBlocks      = 50
	MaxSectionText = 3000
	MaxFieldText   = 2000
	MaxFields      = 10
	MaxHeaderText  = 150
	MaxButtonText  = 75
	MaxURL         = 3000
	// MaxText bounds the fallback text (Slack truncates at 40,000 and advises less than 4,000).
	MaxText = 3000
)

// Integration is the Slack integration.
type Integration struct {
	Client *http.Client
}

// Escape applies Slack's text escaping: only &, < and > become &amp; &lt; &gt;.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// fit escapes s and cuts it to at most n characters (runes, as Slack counts them), never inside
// an entity, marking a cut with "…".
func fit(s string, n int) string {
	e := Escape(s)
	if utf8.RuneCountInString(e) <= n {
		return e
	}
	r := []rune(e)[:n-1]
	// Do not leave half an entity (&amp; is 5 runes) at the end.
	for i := len(r) - 1; i >= 0 && i >= len(r)-5; i-- {
		if r[i] == ';' {
			break
		}
		if r[i] == '&' {
			r = r[:i]
			break
		}
	}
	return string(r) + "…"
}

// prefixFitting returns the longest prefix of s whose escaped form has at most n characters.
func prefixFitting(s string, n int) string {
	cost := 0
	for i, r := range s {
		c := 1
		switch r {
		case '&':
			c = 5
		case '<', '>':
			c = 4
		}
		if cost+c > n {
			return s[:i]
		}
		cost += c
	}
	return s
}

// Block is one Block Kit block.
type Block map[string]any

// Message is a Slack message body (webhook or chat.postMessage / chat.update).
type Message struct {
	Channel     string  `json:"channel,omitempty"`
	TS          string  `json:"ts,omitempty"`
	ThreadTS    string  `json:"thread_ts,omitempty"`
	Text        string  `json:"text"`
	Blocks      []Block `json:"blocks"`
	UnfurlLinks *bool   `json:"unfurl_links,omitempty"`
}

func mrkdwn(s string) map[string]any { return map[string]any{"type": "mrkdwn", "text": s} }
func plainText(s string) map[string]any {
	return map[string]any{"type": "plain_text", "text": s, "emoji": true}
}

func emoji(a alert.Alert) string {
	switch {
	case !a.IsAlarm:
		return ":envelope:"
	case a.NewState == alert.StateAlarm:
		return ":rotating_light:"
	case a.NewState == alert.StateOK:
		return ":white_check_mark:"
	}
	return ":grey_question:"
}

// Render builds the Block Kit message of an alert, within Slack's limits.
func Render(a alert.Alert) Message {
	m := Message{Text: fit(a.Summary(), MaxText)}
	blocks := []Block{{"type": "header", "text": plainText(fit(emoji(a)+" "+a.Title(), MaxHeaderText))}}
	var tail []Block
	if a.Link != "" && len(a.Link) <= MaxURL {
		tail = append(tail, Block{"type": "actions", "elements": []any{map[string]any{
			"type": "button", "text": plainText(fit("Open in trailwatch", MaxButtonText)), "url": a.Link,
		}}})
	}
	if !a.IsAlarm {
		text := a.Text
		for len(blocks) < MaxBlocks-len(tail) && text != "" {
			chunk := prefixFitting(text, MaxSectionText)
			text = text[len(chunk):]
			if len(blocks) == MaxBlocks-len(tail)-1 && text != "" {
				blocks = append(blocks, Block{"type": "section", "text": mrkdwn(fit(chunk+text, MaxSectionText))})
				break
			}
			blocks = append(blocks, Block{"type": "section", "text": mrkdwn(Escape(chunk))})
		}
		m.Blocks = append(blocks, tail...)
		return m
	}
	var fields []any
	for _, f := range a.Facts() {
		if len(fields) < MaxFields {
			fields = append(fields, mrkdwn(fit("*"+f.Name+"*\n"+f.Value, MaxFieldText)))
		}
	}
	blocks = append(blocks, Block{"type": "section", "fields": fields})
	blocks = append(blocks, Block{"type": "section", "text": mrkdwn(fit("*Reason*\n"+a.Reason, MaxSectionText))})
	if a.AlarmDescription != "" {
		blocks = append(blocks, Block{"type": "section", "text": mrkdwn(fit("*Description*\n"+a.AlarmDescription, MaxSectionText))})
	}
	shown := 0
	room := MaxBlocks - len(blocks) - len(tail) - 1 // one for the closing context line
	for i, e := range a.Evidence {
		if shown == room {
			break
		}
		var b strings.Builder
		b.WriteString("*" + alert.EvidenceHeading(i, e) + "*")
		for _, f := range alert.EvidenceFacts(e) {
			b.WriteString("\n*" + f.Name + ":* " + f.Value)
		}
		blocks = append(blocks, Block{"type": "section", "text": mrkdwn(fit(b.String(), MaxSectionText))})
		shown++
	}
	if len(a.Evidence) > 0 {
		more := alert.MoreText(shown, a.Omitted+len(a.Evidence)-shown, a.OmittedIsLowerBound)
		blocks = append(blocks, Block{"type": "context", "elements": []any{mrkdwn(fit(more, MaxFieldText))}})
	}
	m.Blocks = append(blocks, tail...)
	return m
}

// apiAnswer is a Web API response.
type apiAnswer struct {
	OK      bool   `json:"ok"`
	Error   string `json:"error"`
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// Notify implements notify.Integration.
func (s *Integration) Notify(ctx context.Context, n notify.Notification) (notify.Result, error) {
	msg := Render(n.Alert)
	if !n.Receiver.SlackBot() {
		body, err := notify.MarshalJSON(msg)
		if err != nil {
			return notify.Result{}, &notify.DeliveryError{Detail: "encode message: " + err.Error(), Permanent: true}
		}
		r, err := notify.Post(ctx, s.Client, n.Receiver.URL, nil, body)
		if err != nil {
			return notify.Result{}, err
		}
		text := notify.ErrorText(r.Body)
		if r.Status == http.StatusOK && text == "ok" {
			return notify.Result{Status: r.Status, Detail: notify.StatusText(r.Status, text), Thread: n.Thread}, nil
		}
		if r.Status == http.StatusOK {
			// Anything but "ok" in a 200 is an error Slack will repeat (Alertmanager's rule).
			return notify.Result{}, &notify.DeliveryError{Status: r.Status, Detail: notify.StatusText(r.Status, text), Permanent: true}
		}
		return notify.Result{}, notify.Failure(r, text, n.Now)
	}
	base := n.Receiver.TargetURL()
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	th := n.Thread
	if n.Alert.Resolved() && th.TS != "" {
		upd := msg
		upd.Channel, upd.TS = th.Channel, th.TS
		if _, err := s.call(ctx, n, base+"chat.update", upd); err != nil {
			return notify.Result{}, err
		}
		reply := msg
		reply.Channel, reply.ThreadTS = th.Channel, th.TS
		ans, err := s.call(ctx, n, base+"chat.postMessage", reply)
		if err != nil {
			return notify.Result{}, err
		}
		return notify.Result{Status: http.StatusOK, Detail: "HTTP 200: ok, updated " + th.TS + " and replied " + ans.TS, Thread: th}, nil
	}
	msg.Channel = n.Receiver.Channel
	ans, err := s.call(ctx, n, base+"chat.postMessage", msg)
	if err != nil {
		return notify.Result{}, err
	}
	if n.Alert.IsAlarm && n.Alert.NewState == alert.StateAlarm {
		th.Channel, th.TS = ans.Channel, ans.TS
	}
	return notify.Result{Status: http.StatusOK, Detail: "HTTP 200: ok, ts " + ans.TS, Thread: th}, nil
}

func (s *Integration) call(ctx context.Context, n notify.Notification, url string, msg Message) (apiAnswer, error) {
	body, err := notify.MarshalJSON(msg)
	if err != nil {
		return apiAnswer{}, &notify.DeliveryError{Detail: "encode message: " + err.Error(), Permanent: true}
	}
	r, err := notify.Post(ctx, s.Client, url, map[string]string{"Authorization": "Bearer " + n.Receiver.BotToken}, body)
	if err != nil {
		return apiAnswer{}, err
	}
	if r.Status != http.StatusOK {
		return apiAnswer{}, notify.Failure(r, notify.ErrorText(r.Body), n.Now)
	}
	var ans apiAnswer
	if err := json.Unmarshal(r.Body, &ans); err != nil {
		return apiAnswer{}, &notify.DeliveryError{Status: r.Status, Detail: notify.StatusText(r.Status, "unreadable answer: "+notify.ErrorText(r.Body)), Permanent: true}
	}
	if !ans.OK {
		return apiAnswer{}, &notify.DeliveryError{Status: r.Status, Detail: notify.StatusText(r.Status, `"ok": false, error `+ans.Error), Permanent: true}
	}
	return ans, nil
}
