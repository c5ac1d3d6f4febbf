package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// pages holds one template set per page, each the layout plus the page's own file.
type pages struct {
	byName map[string]*template.Template
}

// pageNames are the templates under templates/, each defining "content".
var pageNames = []string{"login", "board", "alarm", "feed", "evidence", "coverage", "workbench", "notifications", "sources", "error"}

func parsePages() (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		p.byName[name] = t
	}
	return p, nil
}

// base is what the layout renders around a page.
type base struct {
	Title    string
	Page     string
	LoggedIn bool
	Now      time.Time
	Data     any
}

// render executes a page into a buffer first, so that a template error becomes a clean 500
// instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	var buf bytes.Buffer
	b := base{Title: title, Page: page, LoggedIn: page != "login", Now: c.now().UTC(), Data: data}
	if err := c.pages.byName[page].Execute(&buf, b); err != nil {
		c.log.Error("console render failed", "page", page, "err", err)
		http.Error(w, "The page could not be rendered.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct{ Message string }

func (c *Console) notFound(w http.ResponseWriter, r *http.Request, msg string) {
	c.render(w, r, http.StatusNotFound, "error", "Not found", errorData{Message: msg})
}

func (c *Console) failed(w http.ResponseWriter, r *http.Request, what string, err error) {
	c.log.Error("console: "+what, "err", err)
	c.render(w, r, http.StatusInternalServerError, "error", "Error", errorData{Message: "Could not " + what + ": " + err.Error()})
}

// AlarmPath is the console URL of an alarm, the contract other components link to:
// /console/alarms/<accountId>/<region>/<alarmName path-escaped>.
func AlarmPath(accountID, region, name string) string {
	return "/console/alarms/" + url.PathEscape(accountID) + "/" + url.PathEscape(region) + "/" + url.PathEscape(name)
}

var funcs = template.FuncMap{
	"alarmURL": AlarmPath,
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"ms": func(ms int64) time.Time {
		if ms == 0 {
			return time.Time{}
		}
		return time.UnixMilli(ms).UTC()
	},
	"ago": ago,
	"stateIcon": func(s alarm.State) string {
		switch s {
		case alarm.StateAlarm:
			return "▲"
		case alarm.StateOK:
			return "✓"
		}
		return "?"
	},
	"stateClass": func(s alarm.State) string {
		switch s {
		case alarm.StateAlarm:
			return "st-alarm"
		case alarm.StateOK:
			return "st-ok"
		}
		return "st-insufficient"
	},
	"num":  func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) },
	"join": strings.Join,
	"add":  func(a, b int) int { return a + b },
}

// ago says how long before now t was, coarsely ("3m ago"); "never" for the zero time.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, " ahead"
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds%s", int(d/time.Second), suffix)
	case d < time.Hour:
		return fmt.Sprintf("%dm%s", int(d/time.Minute), suffix)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%s", int(d/time.Hour), suffix)
	}
	return fmt.Sprintf("%dd%s", int(d/(24*time.Hour)), suffix)
}
