package app

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/trailwatch/trailwatch/internal/awsapi/receiverapi"
)

const receiversUsage = `Usage:
  trailwatch receivers put --name NAME --type slack|pagerduty|teams|webhook [--channel C] [--severity S]
                           [--send-resolved=false] [--stdin] [--endpoint URL] [--region REGION]
  trailwatch receivers get --name NAME [--endpoint URL]
  trailwatch receivers list [--endpoint URL]
  trailwatch receivers delete --name NAME [--endpoint URL]
  trailwatch receivers test --name NAME [--endpoint URL]

Manages the Slack, PagerDuty, Microsoft Teams and webhook receivers of a trailwatch server through its
API extension (awsJson 1.1, X-Amz-Target TrailWatch_20261125.<Operation>, SigV4 service "trailwatch").
Credentials and region come from the usual AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_REGION or a profile).

Secrets are never taken from flags (they would show in ps and shell history). put reads them from
TRAILWATCH_RECEIVER_URL, TRAILWATCH_RECEIVER_ROUTING_KEY, TRAILWATCH_RECEIVER_BOT_TOKEN and
TRAILWATCH_RECEIVER_SIGNING_SECRET, or with --stdin from standard input as lines
url=..., routingKey=..., botToken=..., signingSecret=... (which take precedence).
put prints the endpoint to subscribe an SNS topic to; get and list print receivers with their secrets
masked; test sends a sample root-login alarm and prints the provider's answer (exit status 1 when it
was not delivered).
`

// secretEnv maps the put input's secret members to their environment variables.
var secretEnv = map[string]string{
	"url": "TRAILWATCH_RECEIVER_URL", "routingKey": "TRAILWATCH_RECEIVER_ROUTING_KEY",
	"botToken": "TRAILWATCH_RECEIVER_BOT_TOKEN", "signingSecret": "TRAILWATCH_RECEIVER_SIGNING_SECRET",
}

// runReceivers is `trailwatch receivers`.
func runReceivers(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, receiversUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	fs := flag.NewFlagSet("receivers "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, receiversUsage) }
	endpoint := fs.String("endpoint", "http://"+DefaultListen, "`URL` of the trailwatch server")
	region := fs.String("region", "", "`region` to sign requests for (default: the AWS configuration's, else "+DefaultRegion+")")
	name := fs.String("name", "", "receiver `name`")
	var in receiverapi.PutReceiverInput
	var useStdin bool
	sendResolved := true
	if sub == "put" {
		fs.StringVar(&in.Type, "type", "", "receiver `type`: slack, pagerduty, teams or webhook")
		fs.StringVar(&in.Channel, "channel", "", "Slack `channel` (with a bot token)")
		fs.StringVar(&in.Severity, "severity", "", "PagerDuty `severity`: critical (default), error, warning or info")
		fs.BoolVar(&sendResolved, "send-resolved", true, "send OK notifications (resolve, update)")
		fs.BoolVar(&useStdin, "stdin", false, "read secrets from standard input as key=value lines")
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "trailwatch receivers %s: unexpected argument %q (secrets go in the environment or on standard input)\n", sub, fs.Arg(0))
		return 2
	}
	var op string
	var body any
	switch sub {
	case "put":
		in.Name, in.SendResolved = *name, &sendResolved
		secrets := map[string]*string{"url": &in.URL, "routingKey": &in.RoutingKey, "botToken": &in.BotToken, "signingSecret": &in.SigningSecret}
		for k, env := range secretEnv {
			*secrets[k] = os.Getenv(env)
		}
		if useStdin {
			sc := bufio.NewScanner(stdin)
			for sc.Scan() {
				line := strings.TrimSpace(sc.Text())
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				k, v, ok := strings.Cut(line, "=")
				p := secrets[strings.TrimSpace(k)]
				if !ok || p == nil {
					fmt.Fprintf(stderr, "trailwatch receivers put: standard input: expected url=, routingKey=, botToken= or signingSecret= lines\n")
					return 2
				}
				*p = strings.TrimSpace(v)
			}
		}
		op, body = "PutReceiver", in
	case "get", "delete", "test":
		op, body = map[string]string{"get": "GetReceiver", "delete": "DeleteReceiver", "test": "TestReceiver"}[sub], receiverapi.NameInput{Name: *name}
	case "list":
		op, body = "ListReceivers", struct{}{}
	default:
		fmt.Fprintf(stderr, "trailwatch receivers: unknown command %q\n\n%s", sub, receiversUsage)
		return 2
	}
	if sub != "list" && *name == "" {
		fmt.Fprintf(stderr, "trailwatch receivers %s: --name is required\n", sub)
		return 2
	}
	out, err := callExtension(ctx, *endpoint, *region, op, body)
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch receivers %s: %v\n", sub, err)
		return 1
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		pretty.Write(out)
	}
	fmt.Fprintln(stdout, pretty.String())
	if sub == "test" {
		var res receiverapi.TestReceiverOutput
		if json.Unmarshal(out, &res) != nil || !res.Delivered {
			return 1
		}
	}
	return 0
}

// callExtension calls one operation of trailwatch's API extension, signed with SigV4 for the
// service name "trailwatch", and returns the JSON output; an API error becomes "Code: message".
func callExtension(ctx context.Context, endpoint, region, op string, in any) ([]byte, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", BackfillTarget+"."+op)
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("retrieve credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "trailwatch", cfg.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	client := &http.Client{Timeout: time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s response: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(data, &e)
		return nil, fmt.Errorf("%s: %s", e.Type, e.Message)
	}
	return data, nil
}
