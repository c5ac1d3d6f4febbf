package audit

import (
	"cmp"
	"slices"
)

// Status is a finding's result, with Security Hub's names.
type Status string

// The four statuses, as Security Hub decides them (SH23 controls-findings-create-update.md).
const (
	Pass    Status = "PASS"
	Fail    Status = "FAIL"
	Warning Status = "WARNING"
	NoData  Status = "NO_DATA"
)

// rank orders statuses by severity for --fail-on and sorting.
func (s Status) rank() int {
	switch s {
	case Fail:
		return 3
	case Warning:
		return 2
	case NoData:
		return 1
	}
	return 0
}

// AtLeast says whether s is at least as severe as min (FAIL > WARNING > NO_DATA > PASS).
func (s Status) AtLeast(min Status) bool { return s.rank() >= min.rank() }

// GlobalRegion is the Region of findings about global resources (IAM, the root user, the account).
const GlobalRegion = "global"

// Finding is one check's result for one account and Region. Its JSON shape is a contract of
// `trailwatch audit --format json`.
type Finding struct {
	AccountID   string `json:"accountId"`
	Region      string `json:"region"`
	CheckID     string `json:"checkId"`
	Status      Status `json:"status"`
	Resource    string `json:"resource"`
	Reason      string `json:"reason"`
	Remediation string `json:"remediation"`
}

// Sort orders findings by account, Region (global first), check id in control order, then resource,
// so that output is stable across runs.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if c := cmp.Compare(a.AccountID, b.AccountID); c != 0 {
			return c
		}
		if c := cmp.Compare(regionOrder(a.Region), regionOrder(b.Region)); c != 0 {
			return c
		}
		if c := compareCheck(a.CheckID, b.CheckID); c != 0 {
			return c
		}
		return cmp.Compare(a.Resource, b.Resource)
	})
}

func regionOrder(r string) string {
	if r == GlobalRegion {
		return ""
	}
	return r
}

// compareCheck orders "CloudWatch.2" before "CloudWatch.10", Security Hub ids before trailwatch's.
func compareCheck(a, b string) int {
	pa, na := splitCheck(a)
	pb, nb := splitCheck(b)
	if c := cmp.Compare(pa, pb); c != 0 {
		return c
	}
	if c := cmp.Compare(na, nb); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

func splitCheck(id string) (prefix string, n int) {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] < '0' || id[i] > '9' {
			if i == len(id)-1 {
				return id, 0
			}
			for _, c := range id[i+1:] {
				n = n*10 + int(c-'0')
			}
			return id[:i+1], n
		}
	}
	return id, 0
}

// Worst returns the most severe status among fs (PASS for none).
func Worst(fs []Finding) Status {
	w := Pass
	for _, f := range fs {
		if f.Status.rank() > w.rank() {
			w = f.Status
		}
	}
	return w
}
