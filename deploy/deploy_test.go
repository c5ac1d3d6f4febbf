// Package deploy_test checks the deployment files against the program they deploy: the systemd unit
// passes systemd-analyze verify, and the flags and subcommands that the unit and the Dockerfile give
// trailwatch are ones it has. (The image itself is not built here: there is no Docker daemon in CI.)
package deploy_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// bin is the trailwatch binary that TestMain builds for the tests.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trailwatch-deploy")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "trailwatch")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/trailwatch").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build trailwatch: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// flagsOf returns the flags that 'trailwatch <command> -h' lists.
func flagsOf(t *testing.T, command string) map[string]bool {
	t.Helper()
	out, _ := exec.Command(bin, command, "-h").CombinedOutput() // -h exits 0 or 2 depending on the command
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if len(flags) == 0 {
		t.Fatalf("trailwatch %s -h lists no flags:\n%s", command, out)
	}
	return flags
}

// checkFlags fails unless every --flag in args is one of trailwatch's.
func checkFlags(t *testing.T, what string, args []string, flags map[string]bool) {
	t.Helper()
	for _, a := range args {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if !flags[name] {
				t.Errorf("%s: trailwatch has no flag --%s", what, name)
			}
		}
	}
}

// unitValue returns the value of the only line key=... of the unit.
func unitValue(t *testing.T, unit, key string) string {
	t.Helper()
	var vals []string
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+"="); ok {
			vals = append(vals, v)
		}
	}
	if len(vals) != 1 {
		t.Fatalf("the unit sets %s %d times, want once", key, len(vals))
	}
	return vals[0]
}

// TestSystemdUnit verifies deploy/trailwatch.service with systemd-analyze, where it is installed, on a
// copy whose ExecStart runs the binary TestMain built (verify refuses a command that does not exist), and
// checks that its command line is 'trailwatch serve' with trailwatch's flags, its data in the state
// directory, and the hardening the README promises.
func TestSystemdUnit(t *testing.T) {
	data, err := os.ReadFile("trailwatch.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(data)

	exec0 := strings.Fields(unitValue(t, unit, "ExecStart"))
	if len(exec0) < 2 || exec0[0] != "/usr/local/bin/trailwatch" || exec0[1] != "serve" {
		t.Fatalf("ExecStart %q is not /usr/local/bin/trailwatch serve ...", exec0)
	}
	checkFlags(t, "ExecStart", exec0[2:], flagsOf(t, "serve"))
	if !strings.Contains(strings.Join(exec0, " "), " --data ${STATE_DIRECTORY}") {
		t.Errorf("ExecStart %q does not keep the data in ${STATE_DIRECTORY}", exec0)
	}
	for key, want := range map[string]string{
		"DynamicUser": "yes", "StateDirectory": "trailwatch", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "MemoryDenyWriteExecute": "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "EnvironmentFile": "-/etc/trailwatch/trailwatch.env",
	} {
		if got := unitValue(t, unit, key); got != want {
			t.Errorf("%s=%s, want %s", key, got, want)
		}
	}
	if !strings.Contains(unit, "\nSystemCallFilter=@system-service\n") {
		t.Error("no SystemCallFilter=@system-service")
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit is not verified")
	}
	dir := t.TempDir()
	copyPath := filepath.Join(dir, "trailwatch.service")
	if err := os.WriteFile(copyPath, []byte(strings.ReplaceAll(unit, "/usr/local/bin/trailwatch", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", copyPath).CombinedOutput()
	// verify exits 0 on an unknown key or a bad value, which it only reports, with the unit's name.
	if err != nil || strings.Contains(string(out), "trailwatch.service") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestEnvExample: the example environment file names only variables trailwatch reads (or the AWS SDK's
// and TRAILWATCH_FLAGS, which the unit expands), each once.
func TestEnvExample(t *testing.T) {
	data, err := os.ReadFile("trailwatch.env.example")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"TRAILWATCH_ACCESS_KEY_ID": true, "TRAILWATCH_SECRET_ACCESS_KEY": true, "TRAILWATCH_SMTP_PASSWORD": true,
		"TRAILWATCH_EVENTBRIDGE_KEY": true, "TRAILWATCH_FIREHOSE_KEY": true, "TRAILWATCH_FLAGS": true,
		"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_REGION": true}
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#?([A-Z_]+)=`).FindAllStringSubmatch(string(data), -1) {
		if !known[m[1]] || seen[m[1]] {
			t.Errorf("variable %s: unknown or repeated", m[1])
		}
		seen[m[1]] = true
	}
	if !seen["TRAILWATCH_SECRET_ACCESS_KEY"] || !seen["TRAILWATCH_SMTP_PASSWORD"] {
		t.Error("the example does not show the secrets")
	}
}

// dockerfile is what TestDockerfile reads from the Dockerfile: instructions by name, in order, with
// continuation lines joined.
func dockerfile(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	var cur string
	for line := range strings.SplitSeq(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		cur += " " + strings.TrimSuffix(trimmed, `\`)
		if strings.HasSuffix(trimmed, `\`) {
			continue
		}
		name, rest, _ := strings.Cut(strings.TrimSpace(cur), " ")
		out[strings.ToUpper(name)] = append(out[strings.ToUpper(name)], strings.TrimSpace(rest))
		cur = ""
	}
	return out
}

// execForm decodes an instruction's JSON (exec) form.
func execForm(t *testing.T, s string) []string {
	t.Helper()
	var args []string
	if err := json.Unmarshal([]byte(s), &args); err != nil {
		t.Fatalf("%q is not in exec form: %v", s, err)
	}
	return args
}

// TestDockerfile reads the Dockerfile (the image is not built here) and checks what would go wrong only
// at run time: the static, trimmed build; a non-root final stage; the CMD's subcommand and flags exist,
// listen on every interface at the EXPOSEd port and keep the data in the VOLUME; the HEALTHCHECK runs
// the binary's own healthcheck subcommand against that port.
func TestDockerfile(t *testing.T) {
	d := dockerfile(t)
	if from := d["FROM"]; len(from) != 2 || !strings.HasPrefix(from[0], "golang:1.26 ") || !strings.Contains(from[1], "distroless/static") || !strings.HasSuffix(from[1], ":nonroot") {
		t.Errorf("FROM %q: want a golang:1.26 builder and a distroless static nonroot final stage", from)
	}
	run := strings.Join(d["RUN"], "\n")
	if !strings.Contains(run, "CGO_ENABLED=0 go build -trimpath") || !strings.Contains(run, "./cmd/trailwatch") {
		t.Errorf("RUN %q: want CGO_ENABLED=0 go build -trimpath of ./cmd/trailwatch", run)
	}
	if user := d["USER"]; len(user) != 1 || strings.HasPrefix(user[0], "0") || strings.HasPrefix(user[0], "root") {
		t.Errorf("USER %q: want a non-root user", user)
	}
	entry := execForm(t, d["ENTRYPOINT"][0])
	if len(entry) != 1 || !strings.Contains(strings.Join(d["COPY"], "\n"), "/out/trailwatch "+entry[0]) {
		t.Fatalf("ENTRYPOINT %q is not the binary the final stage copies", entry)
	}
	cmd := execForm(t, d["CMD"][0])
	if len(cmd) == 0 || cmd[0] != "serve" {
		t.Fatalf("CMD %q is not serve", cmd)
	}
	checkFlags(t, "CMD", cmd[1:], flagsOf(t, "serve"))
	arg := func(args []string, flag string) string {
		for i, a := range args {
			if a == flag && i+1 < len(args) {
				return args[i+1]
			}
		}
		return ""
	}
	expose := d["EXPOSE"]
	if len(expose) != 1 || arg(cmd, "--listen") != "0.0.0.0:"+expose[0] {
		t.Errorf("CMD listens on %q, EXPOSE %q: want 0.0.0.0 and the exposed port", arg(cmd, "--listen"), expose)
	}
	if volume := execForm(t, d["VOLUME"][0]); len(volume) != 1 || volume[0] != arg(cmd, "--data") || volume[0] != "/data" {
		t.Errorf("VOLUME %q, --data %q: want /data for both", volume, arg(cmd, "--data"))
	}
	hc := d["HEALTHCHECK"]
	if len(hc) != 1 {
		t.Fatalf("HEALTHCHECK %q", hc)
	}
	_, hcCmd, ok := strings.Cut(hc[0], " CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %q has no CMD", hc[0])
	}
	probe := execForm(t, strings.TrimSpace(hcCmd))
	if len(probe) < 2 || probe[0] != entry[0] || probe[1] != "healthcheck" {
		t.Fatalf("HEALTHCHECK runs %q, want %s healthcheck", probe, entry[0])
	}
	checkFlags(t, "HEALTHCHECK", probe[2:], flagsOf(t, "healthcheck"))
	if u := arg(probe, "--url"); u != "http://127.0.0.1:"+expose[0]+"/healthz" {
		t.Errorf("HEALTHCHECK asks %q, want /healthz on the exposed port", u)
	}
}
