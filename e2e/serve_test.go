package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/trailwatch/trailwatch/internal/awsclient"
)

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and its key, and returns their paths and
// a pool trusting the certificate.
func writeSelfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "trailwatch e2e"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS serves the API over HTTPS with --tls-cert/--tls-key and drives it with the SDK.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := writeSelfSigned(t)
	s := startServerScheme(t, "https", "", "--tls-cert", certFile, "--tls-key", keyFile)
	cfg := sdkConfig(s)
	cfg.HTTPClient = awsclient.Wrap(&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}})
	lc := cloudwatchlogs.NewFromConfig(cfg)
	ctx := context.Background()
	if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("over-tls")}); err != nil {
		t.Fatal(err)
	}
	out, err := lc.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.LogGroups) != 1 || aws.ToString(out.LogGroups[0].LogGroupName) != "over-tls" {
		t.Fatalf("DescribeLogGroups over TLS = %+v", out.LogGroups)
	}
	// Plain HTTP to the TLS listener is refused, not served.
	if resp, err := http.Get("http://" + s.Addr + "/healthz"); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP was served on the TLS listener")
	}
}

// TestRegionsAndAccountsAreIsolated checks that a request signed for another region sees nothing of
// us-east-1's resources.
func TestRegionsAndAccountsAreIsolated(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	east := logsClient(s)
	if _, err := east.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	cfg := sdkConfig(s)
	cfg.Region = "eu-west-1"
	west := cloudwatchlogs.NewFromConfig(cfg)
	out, err := west.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.LogGroups) != 0 {
		t.Fatalf("eu-west-1 sees %d log groups created in us-east-1", len(out.LogGroups))
	}
	// The same name is free in the other region.
	if _, err := west.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	got, err := east.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.LogGroups) != 1 || !strings.Contains(aws.ToString(got.LogGroups[0].Arn), ":us-east-1:"+testAccount+":") {
		t.Fatalf("us-east-1 log groups = %+v", got.LogGroups)
	}
}

// TestGeneratedCredentials starts the server without configured keys: it generates a pair, prints it once,
// keeps it (mode 0600) across restarts, and accepts only it.
func TestGeneratedCredentials(t *testing.T) {
	dir := t.TempDir()
	run := func() (string, *exec.Cmd) {
		addr := freeAddr(t)
		cmd := exec.Command(binPath, "serve", "--listen", addr, "--data", dir)
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "TRAILWATCH_") {
				env = append(env, kv)
			}
		}
		cmd.Env = env
		var stdout strings.Builder
		cmd.Stdout = &stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil && resp.StatusCode == 200 {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatal("server did not start")
			}
			time.Sleep(20 * time.Millisecond)
		}
		return addr, cmd
	}
	stopCmd := func(cmd *exec.Cmd) string {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		return cmd.Stdout.(*strings.Builder).String()
	}

	_, cmd := run()
	printed := stopCmd(cmd)
	info, err := os.Stat(filepath.Join(dir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("credentials.json mode %v, want 0600", info.Mode().Perm())
	}
	var cred struct {
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, "credentials.json"))
	if err := json.Unmarshal(data, &cred); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(printed, cred.AccessKeyID) || !strings.Contains(printed, cred.SecretAccessKey) {
		t.Fatalf("first start printed %q, want the generated pair", printed)
	}

	addr, cmd := run()
	defer stopCmd(cmd)
	ctx := context.Background()
	client := func(id, secret string) *cloudwatchlogs.Client {
		return cloudwatchlogs.NewFromConfig(aws.Config{Region: "us-east-1", RetryMaxAttempts: 1, BaseEndpoint: aws.String("http://" + addr),
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), HTTPClient: awsclient.HTTPClient()})
	}
	if _, err := client(cred.AccessKeyID, cred.SecretAccessKey).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{}); err != nil {
		t.Fatalf("the stored credentials are not accepted after a restart: %v", err)
	}
	_, err = client("AKIAUNKNOWNKEY000000", cred.SecretAccessKey).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err == nil || !strings.Contains(err.Error(), "UnrecognizedClientException") {
		t.Fatalf("an unknown key: %v, want UnrecognizedClientException", err)
	}
}
