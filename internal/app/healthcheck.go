package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

const healthcheckUsage = `Usage: trailwatch healthcheck [--url URL] [--timeout DURATION]

Asks a trailwatch server whether it is healthy: GET URL, exit status 0 when it answers 200 OK, 1
otherwise (not listening, starting or stopping, too slow). It is the container image's HEALTHCHECK,
since the image holds no curl or wget: only the trailwatch binary.

Flags:
`

// DefaultHealthURL is the health endpoint of a server started with the default --listen.
const DefaultHealthURL = "http://" + DefaultListen + "/healthz"

// runHealthcheck is 'trailwatch healthcheck'.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, healthcheckUsage); fs.PrintDefaults() }
	url := fs.String("url", DefaultHealthURL, "health endpoint `URL` of the server")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this `duration`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || *timeout <= 0 {
		fmt.Fprintln(stderr, "trailwatch healthcheck: takes no arguments, and --timeout must be positive")
		return 2
	}
	if err := checkHealth(ctx, *url, *timeout); err != nil {
		fmt.Fprintf(stderr, "trailwatch healthcheck: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "ok")
	return 0
}

// checkHealth GETs url and returns nil if the answer is 200 OK within timeout.
func checkHealth(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: %s: %s", url, resp.Status, strings.TrimRight(string(body), "\r\n"))
	}
	return nil
}
