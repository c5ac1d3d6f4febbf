// Package app is the trailwatch program: the command-line dispatcher, the options of each subcommand, and
// the server that wires storage, the domain services and the AWS-compatible API together. It is kept out of
// package main so that tests (and other programs) can run trailwatch in-process.
package app

import (
	"context"
	"fmt"
	"io"
)

// usage is printed for `trailwatch help` and for an unknown command.
const usage = `trailwatch: CloudTrail root-login alerting, AWS-compatible, in one binary.

Usage:
  trailwatch serve [--listen ADDR] [--data DIR] [--region REGION] [--account-id ID] [--tls-cert FILE --tls-key FILE]
                   [--public-url URL] [--smtp-addr HOST:PORT --smtp-from ADDR [--smtp-tls MODE] [--smtp-user USER]]
                   [--sns-allow-private-endpoints] [CloudTrail source flags: see 'trailwatch serve -h']
  trailwatch test-pattern --filter-pattern PATTERN [--metric-value EXPR] [FILE]
  trailwatch ingest --log-group NAME [--endpoint URL] [--region REGION] PATH...
  trailwatch backfill --log-group NAME --filter-name NAME [--start TIME] [--end TIME] [--endpoint URL] [PATH...]
  trailwatch deliveries [--data DIR] [--status pending|delivered|failed] [--limit N] [--body]
  trailwatch receivers put|get|list|delete|test [--name NAME] [--endpoint URL] ...
  trailwatch healthcheck [--url URL] [--timeout DURATION]
  trailwatch audit [--regions all|LIST] [--org [--role-name NAME]] [--format table|json] [--fail-on warning|fail]
  trailwatch apply --email ADDRESS [--plan] [--format table|json] [--regions LIST] [--cis all] [--org [--role-name NAME]] [--test] [--deliver-to URL]
  trailwatch version

Run 'trailwatch COMMAND -h' for the flags of a command.
`

// Version is the program's version, printed by 'trailwatch version'.
const Version = "0.1.0-dev"

// Main runs one trailwatch command with the given arguments (without the program name) and streams, and
// returns the process exit code: 0 on success, 1 on a runtime failure, 2 on a usage error or invalid input.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "test-pattern":
		return runTestPattern(ctx, rest, stdin, stdout, stderr)
	case "ingest":
		return runIngest(ctx, rest, stdout, stderr)
	case "backfill":
		return runBackfill(ctx, rest, stdout, stderr)
	case "deliveries":
		return runDeliveries(ctx, rest, stdout, stderr)
	case "receivers":
		return runReceivers(ctx, rest, stdin, stdout, stderr)
	case "version", "--version":
		return runVersion(rest, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, rest, stdout, stderr)
	case "audit":
		return runAudit(ctx, rest, stdout, stderr)
	case "apply":
		return runApply(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "trailwatch: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}
