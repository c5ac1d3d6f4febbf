package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON prints {"findings":[...]}, the contract of `trailwatch audit --format json`; an empty
// result is an empty list, never null.
func WriteJSON(w io.Writer, fs []Finding) error {
	if fs == nil {
		fs = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Findings []Finding `json:"findings"`
	}{fs}); err != nil {
		return fmt.Errorf("write findings: %w", err)
	}
	return nil
}

// WriteTable prints the findings for people: one aligned row per finding, then the remediation of
// each finding that is not PASS under its row number, then a count per status.
func WriteTable(w io.Writer, fs []Finding) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tSTATUS\tCHECK\tACCOUNT\tREGION\tRESOURCE\tREASON")
	for i, f := range fs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, f.Status, f.CheckID, f.AccountID, f.Region, f.Resource, oneLine(f.Reason))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write findings: %w", err)
	}
	counts := map[Status]int{}
	first := true
	for i, f := range fs {
		counts[f.Status]++
		if f.Remediation == "" {
			continue
		}
		if first {
			fmt.Fprintln(w, "\nRemediation:")
			first = false
		}
		fmt.Fprintf(w, "%3d  %s\n", i+1, oneLine(f.Remediation))
	}
	_, err := fmt.Fprintf(w, "\n%d findings: %d FAIL, %d WARNING, %d NO_DATA, %d PASS\n", len(fs), counts[Fail], counts[Warning], counts[NoData], counts[Pass])
	if err != nil {
		return fmt.Errorf("write findings: %w", err)
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
