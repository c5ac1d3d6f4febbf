package audit

import (
	"regexp"
	"strings"

	"github.com/trailwatch/trailwatch/internal/pattern"
)

// Control is one CIS monitoring control Security Hub checks (CloudWatch.1-14), with the filter and
// metric trailwatch apply installs for it.
type Control struct {
	// ID is the Security Hub control id.
	ID string
	// Title says what the filter watches.
	Title string
	// Pattern is the filter pattern byte for byte as Security Hub documents it (SH23).
	Pattern string
	// Metric is the metric name trailwatch apply gives the filter and alarm (namespace
	// CISBenchmark, as CIS's remediation text suggests).
	Metric string
	// Alarm is the alarm name trailwatch apply creates.
	Alarm string
	// canon is Pattern's canonical form, and canonExcluded that of the root filter with the
	// AssumeRoot exclusion (root control only).
	canon, canonExcluded string
}

// Namespace is the metric namespace of the filters trailwatch apply creates: CIS's remediation text
// uses CISBenchmark (PRW, SPM).
const Namespace = "CISBenchmark"

// RootControl is the id of the root-usage control, the seed's alert.
const RootControl = "CloudWatch.1"

// AssumeRootExclusion is the clause that, appended to the CIS root filter, ignores AssumeRoot sessions
// of centralized root access. `assumedRoot != "true"` would be false on every event without the field
// and silence all root events (filter-patterns.md §10c), hence NOT EXISTS.
const AssumeRootExclusion = `$.userIdentity.sessionContext.assumedRoot NOT EXISTS`

var controlNames = map[string][2]string{
	"CloudWatch.1":  {"root account usage", "RootAccountUsage"},
	"CloudWatch.2":  {"unauthorized API calls", "UnauthorizedAPICalls"},
	"CloudWatch.3":  {"console sign-in without MFA", "ConsoleSigninWithoutMFA"},
	"CloudWatch.4":  {"IAM policy changes", "IAMPolicyChanges"},
	"CloudWatch.5":  {"CloudTrail configuration changes", "CloudTrailChanges"},
	"CloudWatch.6":  {"console authentication failures", "ConsoleAuthenticationFailure"},
	"CloudWatch.7":  {"disabling or scheduled deletion of customer managed keys", "DisableOrDeleteCMK"},
	"CloudWatch.8":  {"S3 bucket policy changes", "S3BucketPolicyChanges"},
	"CloudWatch.9":  {"AWS Config configuration changes", "AWSConfigChanges"},
	"CloudWatch.10": {"security group changes", "SecurityGroupChanges"},
	"CloudWatch.11": {"network ACL changes", "NetworkACLChanges"},
	"CloudWatch.12": {"network gateway changes", "NetworkGatewayChanges"},
	"CloudWatch.13": {"route table changes", "RouteTableChanges"},
	"CloudWatch.14": {"VPC changes", "VPCChanges"},
}

// Controls returns the 14 controls in order, as a new slice each time. The patterns are
// pattern.CIS(), the one copy the whole module shares.
func Controls() []Control {
	cis := pattern.CIS()
	out := make([]Control, len(cis))
	for i, c := range cis {
		n := controlNames[c.Control]
		out[i] = Control{ID: c.Control, Title: n[0], Pattern: c.Pattern, Metric: n[1], Alarm: "CIS-" + c.Control + "-" + n[1], canon: canonical(c.Pattern)}
		if c.Control == RootControl {
			out[i].canonExcluded = canonical(RootPatternExcludingAssumeRoot())
		}
	}
	return out
}

// Match says how a filter pattern compares with a control's prescribed text.
type Match int

// How a pattern compares with the CIS text, best first.
const (
	// MatchNone: a different filter.
	MatchNone Match = iota
	// MatchEquivalent: not the text, but the same filter once parsed (trailwatch's canonical form
	// is equal: for example extra parentheses or unquoted values). The chain works; Security Hub
	// fails it (CLOUDTRAIL_METRIC_FILTER_NOT_VALID: "exactly what they have defined. No regex",
	// nozaq PR #319).
	MatchEquivalent
	// MatchAssumeRootExcluded: the root filter with AssumeRootExclusion appended. It alerts on every
	// root use except AssumeRoot sessions, by choice; Security Hub fails it as not exact.
	MatchAssumeRootExcluded
	// MatchNormalized: equal to the text once whitespace outside quotes is removed. Security Hub
	// appears to accept these ([derived] from TFCW PR #48/#50, whose passing patterns differ from
	// SH23 in spaces only), and so does trailwatch's audit.
	MatchNormalized
	// MatchExact: byte-equal to Security Hub's text.
	MatchExact
)

// SecurityHubAccepts says whether Security Hub counts a filter with this match as the control's.
func (m Match) SecurityHubAccepts() bool { return m >= MatchNormalized }

// Fires says whether a filter with this match raises the control's alert on real events.
func (m Match) Fires() bool { return m != MatchNone }

// String says how the pattern compares, for reasons.
func (m Match) String() string {
	switch m {
	case MatchExact:
		return "exact"
	case MatchNormalized:
		return "equal but for whitespace"
	case MatchAssumeRootExcluded:
		return "the CIS root filter with the AssumeRoot exclusion"
	case MatchEquivalent:
		return "equivalent but not textually exact"
	}
	return "different"
}

// Compare says how pattern compares with the control's text.
func (c Control) Compare(p string) Match {
	if p == c.Pattern {
		return MatchExact
	}
	if squeeze(p) == squeeze(c.Pattern) {
		return MatchNormalized
	}
	got := canonical(p)
	switch {
	case got == "":
		return MatchNone
	case got == c.canon:
		return MatchEquivalent
	case got == c.canonExcluded:
		return MatchAssumeRootExcluded
	}
	return MatchNone
}

// canonical is trailwatch's canonical form of a pattern (empty when it does not parse): two
// patterns with the same form match the same events.
func canonical(p string) string {
	c, err := pattern.Compile(p)
	if err != nil {
		return ""
	}
	return c.String()
}

// RootPatternExcludingAssumeRoot is the CIS root filter that ignores AssumeRoot sessions.
func RootPatternExcludingAssumeRoot() string {
	p := pattern.CIS()[0].Pattern
	return strings.TrimSuffix(p, "}") + " && " + AssumeRootExclusion + "}"
}

var space = regexp.MustCompile(`\s+`)

// squeeze removes whitespace outside double-quoted strings.
func squeeze(p string) string {
	var b strings.Builder
	inQuote, esc := false, false
	for _, r := range p {
		switch {
		case esc:
			esc = false
		case inQuote && r == '\\':
			esc = true
		case r == '"':
			inQuote = !inQuote
		case !inQuote && space.MatchString(string(r)):
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
