package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailwatch/trailwatch/internal/audit"
	"github.com/trailwatch/trailwatch/internal/awsaccount"
	"github.com/trailwatch/trailwatch/internal/awsclient"
	"github.com/trailwatch/trailwatch/internal/plan"
)

const auditUsage = `Usage: trailwatch audit [--regions all|LIST] [--org [--role-name NAME]] [--format table|json] [--fail-on warning|fail]

Reads an AWS account (or, with --org, every account of the organization) and checks that its
root-login alert chain works and its root user is safe: Security Hub's CloudWatch.1-14, IAM.4,
IAM.6 and IAM.9 with Security Hub's PASS/FAIL/WARNING/NO_DATA rules, and trailwatch.* checks for
what makes an alert never fire. Read-only: it changes nothing.

Credentials, the default Region and endpoints come from the standard AWS chain, including
AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>. --regions all means the Regions enabled by
default in every account; name opt-in Regions explicitly.

Exit status: 0, or 1 when a finding at or above --fail-on exists (or the account cannot be
read); 2 for usage errors.

Flags:
`

const applyUsage = `Usage: trailwatch apply --email ADDRESS [--plan] [--format table|json] [--regions LIST] [--cis all] [--org [--role-name NAME]] [--test] [--deliver-to URL]

Creates what trailwatch audit finds missing for the root-login alert: the S3 bucket and its
policy, a multi-Region trail with its CloudWatch Logs log group and delivery role, the CIS
root-usage metric filter (all 14 CIS filters with --cis all), the alarm (Sum >= 1 over 5 minutes,
missing data not breaching, ALARM and OK actions), the SNS topic with a policy that lets
CloudWatch publish, and an email subscription. The first Region of --regions is the home Region.

It is idempotent (a second run changes nothing and says so), merges into existing policies,
never deletes anything, and with --plan prints exactly what it would do and changes nothing.
--test then sets the alarm to ALARM and back to OK so that the email can be seen arriving.
--deliver-to URL also sends the account's CloudTrail management events to a trailwatch server in
seconds: an EventBridge rule in the home Region with an API destination posting to
URL/ingest/eventbridge with the API key TRAILWATCH_EVENTBRIDGE_KEY in the x-trailwatch-api-key
header (start the server with --eventbridge-log-group and --eventbridge-header x-trailwatch-api-key).

Exit status: 0; 1 when a change is blocked (shown with !) or a call fails; 2 for usage errors.

Flags:
`

// defaultRegions are the Regions enabled by default in every account, what --regions all means
// (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html). Opt-in Regions
// need ec2:DescribeRegions or account:ListRegions, which this command does not call; name them.
var defaultRegions = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "sa-east-1"}

// accountFlags are the flags audit and apply share.
type accountFlags struct {
	regions, roleName, format string
	cloudwatchProtocol        string
	org                       bool
	concurrency               int
}

func (a *accountFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.regions, "regions", "", "`all` or a comma-separated list of Regions (default: the configured Region)")
	fs.BoolVar(&a.org, "org", false, "every account of the organization (run from the management account)")
	fs.StringVar(&a.roleName, "role-name", "OrganizationAccountAccessRole", "the `role` assumed in each member account with --org")
	fs.StringVar(&a.format, "format", "table", "output `format`: table or json")
	fs.IntVar(&a.concurrency, "concurrency", 4, "accounts read at a time with --org")
	fs.StringVar(&a.cloudwatchProtocol, "cloudwatch-protocol", "cbor", "`protocol` of CloudWatch calls: cbor (AWS's default) or query (for stand-ins such as moto 5.2.1)")
}

func (a *accountFlags) validate() error {
	if a.format != "table" && a.format != "json" {
		return fmt.Errorf("--format must be table or json, not %q", a.format)
	}
	if a.cloudwatchProtocol != "cbor" && a.cloudwatchProtocol != "query" {
		return fmt.Errorf("--cloudwatch-protocol must be cbor or query, not %q", a.cloudwatchProtocol)
	}
	if a.concurrency < 1 {
		return errors.New("--concurrency must be positive")
	}
	return nil
}

// session is what audit and apply need from the AWS configuration.
type session struct {
	cfg     aws.Config
	wire    awsaccount.Wire
	regions []string
}

func newSession(ctx context.Context, regions, cloudwatchProtocol string) (*session, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	cfg.HTTPClient = awsclient.Wrap(cfg.HTTPClient)
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	s := &session{cfg: cfg, wire: awsaccount.Wire{
		PathStyle:       os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != "",
		CloudWatchQuery: cloudwatchProtocol == "query",
	}}
	switch regions {
	case "":
		s.regions = []string{cfg.Region}
	case "all":
		s.regions = defaultRegions
	default:
		for _, r := range strings.Split(regions, ",") {
			if r = strings.TrimSpace(r); r != "" {
				s.regions = append(s.regions, r)
			}
		}
	}
	return s, nil
}

// account returns the clients of the account cfg's credentials act in.
func (s *session) account(ctx context.Context, cfg aws.Config) (awsaccount.Account, error) {
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return awsaccount.Account{}, fmt.Errorf("get caller identity: %w", err)
	}
	var mu sync.Mutex
	cache := map[string]awsaccount.Clients{}
	return awsaccount.Account{ID: aws.ToString(id.Account), In: func(region string) awsaccount.Clients {
		mu.Lock()
		defer mu.Unlock()
		c, ok := cache[region]
		if !ok {
			c = awsaccount.NewClients(cfg, region, s.wire)
			cache[region] = c
		}
		return c
	}}, nil
}

// target is one account to work on: its clients, or why they could not be had.
type target struct {
	id          string
	acct        awsaccount.Account
	unreachable string
}

// targets returns the caller's account, or with org every active account of the organization,
// members reached by assuming roleName (an account whose role cannot be assumed is returned with
// unreachable set: a finding, not a crash).
func (s *session) targets(ctx context.Context, f accountFlags) ([]target, error) {
	self, err := s.account(ctx, s.cfg)
	if err != nil {
		return nil, err
	}
	if !f.org {
		return []target{{id: self.ID, acct: self}}, nil
	}
	var ids []string
	p := organizations.NewListAccountsPaginator(organizations.NewFromConfig(s.cfg), &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list organization accounts: %w", err)
		}
		for _, a := range page.Accounts {
			if a.State == orgtypes.AccountStateActive || (a.State == "" && a.Status == orgtypes.AccountStatusActive) {
				ids = append(ids, aws.ToString(a.Id))
			}
		}
	}
	out := make([]target, len(ids))
	sem := make(chan struct{}, f.concurrency)
	var wg sync.WaitGroup
	stsc := sts.NewFromConfig(s.cfg)
	for i, id := range ids {
		if id == self.ID {
			out[i] = target{id: id, acct: self}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			role := "arn:aws:iam::" + id + ":role/" + f.roleName
			cfg := s.cfg.Copy()
			cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsc, role, func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "trailwatch-audit" }))
			acct, err := s.account(ctx, cfg)
			switch {
			case err != nil:
				out[i] = target{id: id, unreachable: fmt.Sprintf("cannot assume %s: %v", role, err)}
			case acct.ID != id:
				out[i] = target{id: id, unreachable: fmt.Sprintf("assuming %s gave account %s", role, acct.ID)}
			default:
				out[i] = target{id: id, acct: acct}
			}
		}()
	}
	wg.Wait()
	return out, nil
}

func newGatherer() *awsaccount.Gatherer {
	return &awsaccount.Gatherer{Now: time.Now, Wait: awsaccount.Sleep}
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, auditUsage); fs.PrintDefaults() }
	var af accountFlags
	af.register(fs)
	failOn := fs.String("fail-on", "fail", "exit 1 when a finding is at least this `status`: warning or fail")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	err := af.validate()
	if err == nil && *failOn != "warning" && *failOn != "fail" {
		err = fmt.Errorf("--fail-on must be warning or fail, not %q", *failOn)
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch audit: %v\n", err)
		fs.Usage()
		return 2
	}
	s, err := newSession(ctx, af.regions, af.cloudwatchProtocol)
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch audit: %v\n", err)
		return 1
	}
	ts, err := s.targets(ctx, af)
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch audit: %v\n", err)
		return 1
	}
	findings, err := auditTargets(ctx, s, ts, af.concurrency)
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch audit: %v\n", err)
		return 1
	}
	if af.format == "json" {
		err = audit.WriteJSON(stdout, findings)
	} else {
		err = audit.WriteTable(stdout, findings)
	}
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch audit: %v\n", err)
		return 1
	}
	min := audit.Fail
	if *failOn == "warning" {
		min = audit.Warning
	}
	if w := audit.Worst(findings); w.AtLeast(min) && w != audit.Pass {
		return 1
	}
	return 0
}

// auditTargets reads and checks the accounts, a bounded number at a time.
func auditTargets(ctx context.Context, s *session, ts []target, concurrency int) ([]audit.Finding, error) {
	results := make([][]audit.Finding, len(ts))
	errs := make([]error, len(ts))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	g := newGatherer()
	for i, t := range ts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if t.unreachable != "" {
				results[i] = audit.Evaluate(&audit.Facts{AccountID: t.id, Unreachable: t.unreachable}, audit.Options{})
				return
			}
			f, err := g.Facts(ctx, t.acct, s.regions)
			if err != nil {
				errs[i] = fmt.Errorf("read account %s: %w", t.id, err)
				return
			}
			results[i] = audit.Evaluate(f, audit.Options{})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var all []audit.Finding
	for _, r := range results {
		all = append(all, r...)
	}
	audit.Sort(all)
	return all, nil
}

func runApply(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, applyUsage); fs.PrintDefaults() }
	var af accountFlags
	af.register(fs)
	email := fs.String("email", "", "the `address` the alarm emails go to (required)")
	planOnly := fs.Bool("plan", false, "print what would be done and change nothing")
	cis := fs.String("cis", "", "`all`: install all 14 CIS filters and alarms, not only root usage")
	test := fs.Bool("test", false, "after applying, set the alarm to ALARM and back to OK so that the email arrives")
	deliverTo := fs.String("deliver-to", "", "base `URL` of a trailwatch server that an EventBridge API destination posts CloudTrail events to (API key: TRAILWATCH_EVENTBRIDGE_KEY)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	err := af.validate()
	switch {
	case err != nil:
	case *email == "" || !strings.Contains(*email, "@"):
		err = errors.New("--email ADDRESS is required")
	case *cis != "" && *cis != "all":
		err = fmt.Errorf("--cis takes only all, not %q", *cis)
	case *planOnly && *test:
		err = errors.New("--test changes alarm states; it cannot go with --plan")
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *deliverTo != "" && !strings.HasPrefix(*deliverTo, "https://") && !strings.HasPrefix(*deliverTo, "http://"):
		err = fmt.Errorf("--deliver-to must be an http(s) URL, not %q", *deliverTo)
	case *deliverTo != "" && os.Getenv("TRAILWATCH_EVENTBRIDGE_KEY") == "":
		err = errors.New("--deliver-to needs the server's API key in TRAILWATCH_EVENTBRIDGE_KEY")
	}
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch apply: %v\n", err)
		fs.Usage()
		return 2
	}
	s, err := newSession(ctx, af.regions, af.cloudwatchProtocol)
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch apply: %v\n", err)
		return 1
	}
	ts, err := s.targets(ctx, af)
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch apply: %v\n", err)
		return 1
	}
	home := s.regions[0]
	g := newGatherer()
	var all []plan.Change
	code := 0
	for _, t := range ts {
		if t.unreachable != "" {
			all = append(all, plan.Change{AccountID: t.id, Region: home, Action: plan.Blocked, Resource: "arn:aws:iam::" + t.id + ":root", Detail: t.unreachable})
			code = 1
			continue
		}
		changes, err := planAccount(ctx, g, s, t.acct, plan.Options{Region: home, Email: *email, AllCIS: *cis == "all", DeliverTo: *deliverTo, DeliverKey: os.Getenv("TRAILWATCH_EVENTBRIDGE_KEY")})
		if err != nil {
			fmt.Fprintf(stderr, "trailwatch apply: account %s: %v\n", t.id, err)
			return 1
		}
		all = append(all, changes...)
		if *planOnly {
			continue
		}
		x := &awsaccount.Executor{Wait: awsaccount.Sleep}
		err = x.Run(ctx, t.acct, home, changes, func(c plan.Change) {
			if af.format == "table" {
				fmt.Fprintf(stderr, "done: %s %s (%s)\n", c.Action, c.Resource, c.Detail)
			}
		})
		if err != nil {
			fmt.Fprintf(stderr, "trailwatch apply: account %s: %v\n", t.id, err)
			return 1
		}
		if *test {
			if err := awsaccount.Test(ctx, t.acct, home, alarmNames(changes)); err != nil {
				fmt.Fprintf(stderr, "trailwatch apply: account %s: %v\n", t.id, err)
				return 1
			}
			fmt.Fprintf(stderr, "test: alarms %s set to ALARM and back to OK; an email should arrive at %s\n", strings.Join(alarmNames(changes), ", "), *email)
		}
	}
	if af.format == "json" {
		err = plan.WriteJSON(stdout, all)
	} else {
		err = plan.WriteTable(stdout, all)
	}
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch apply: %v\n", err)
		return 1
	}
	for _, c := range all {
		if c.Action == plan.Blocked {
			code = 1
		}
	}
	return code
}

// planAccount reads one account and plans its changes.
func planAccount(ctx context.Context, g *awsaccount.Gatherer, s *session, acct awsaccount.Account, o plan.Options) ([]plan.Change, error) {
	facts, err := g.Facts(ctx, acct, s.regions)
	if err != nil {
		return nil, err
	}
	o.Names = plan.DefaultNames(acct.ID, o.Region)
	extra, err := g.Extra(ctx, acct, o.Region, o.Names, o.DeliverTo != "")
	if err != nil {
		return nil, err
	}
	return plan.Make(facts, extra, o), nil
}

// alarmNames are the alarms a plan created, updated or found in place.
func alarmNames(cs []plan.Change) []string {
	var out []string
	for _, c := range cs {
		if i := strings.Index(c.Resource, ":alarm:"); i >= 0 && strings.HasPrefix(c.Resource, "arn:aws:cloudwatch:") {
			out = append(out, c.Resource[i+len(":alarm:"):])
		}
	}
	return out
}
