package plan

import (
	"encoding/json"
	"fmt"
	"io"
)

// Pending returns the changes that are not OK: what apply would do or cannot do.
func Pending(cs []Change) []Change {
	out := []Change{}
	for _, c := range cs {
		if c.Action != OK {
			out = append(out, c)
		}
	}
	return out
}

// WriteJSON prints {"changes":[...]}, the contract of `trailwatch apply --plan --format json`: the
// changes only (not what is already in place), an empty list when there is nothing to do.
func WriteJSON(w io.Writer, cs []Change) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Changes []Change `json:"changes"`
	}{Pending(cs)}); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

var marks = map[Action]string{Create: "+", Update: "~", OK: "=", Blocked: "!"}

// WriteTable prints the plan for people, one line per step: `+ create`, `~ update`, `= ok` or
// `! blocked`, the resource and the detail, then a summary.
func WriteTable(w io.Writer, cs []Change) error {
	n := 0
	for _, c := range cs {
		if c.Action != OK {
			n++
		}
		if _, err := fmt.Fprintf(w, "%s %-7s %s %s  %s\n    %s\n", marks[c.Action], c.Action, c.AccountID, c.Region, c.Resource, c.Detail); err != nil {
			return fmt.Errorf("write plan: %w", err)
		}
	}
	summary := fmt.Sprintf("%d change(s)\n", n)
	if n == 0 {
		summary = "nothing to do: everything is in place\n"
	}
	if _, err := io.WriteString(w, summary); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}
