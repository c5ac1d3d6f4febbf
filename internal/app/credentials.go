package app

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// credentialsFile is where a generated key pair is kept inside the data directory, readable only by its
// owner, so that a restart keeps the same credentials.
const credentialsFile = "credentials.json"

// Credential is an access key pair that may call the API, and the account its requests act in.
type Credential struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// keyStore answers SigV4 key lookups for the server: one account, any number of keys.
type keyStore struct {
	accountID string
	keys      map[string]string // access key id -> secret
}

// Lookup returns the secret and account of a known access key.
func (k *keyStore) Lookup(accessKeyID string) (secret, accountID string, ok bool) {
	secret, ok = k.keys[accessKeyID]
	return secret, k.accountID, ok
}

// loadOrCreateCredential returns the credential stored in dir, or generates, stores (mode 0600) and returns
// a new one, reporting created=true so the caller can print it once. A stored file that others may read
// is made private; when that fails (a secret mounted read-only, as Kubernetes and Docker mount them),
// the credential is still used and warn says why it stayed as it was: refusing to start would turn a
// permission trailwatch does not own into an outage of the alerting.
func loadOrCreateCredential(dir string, warn func(msg string, args ...any)) (cred Credential, created bool, err error) {
	path := filepath.Join(dir, credentialsFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := makePrivate(path); err != nil {
			warn("credentials file is readable by others and could not be made private", "path", path, "error", err)
		}
		if err := json.Unmarshal(data, &cred); err != nil {
			return Credential{}, false, fmt.Errorf("read %s: %w", path, err)
		}
		if cred.AccessKeyID == "" || cred.SecretAccessKey == "" {
			return Credential{}, false, fmt.Errorf("read %s: access key or secret is empty", path)
		}
		return cred, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return Credential{}, false, fmt.Errorf("read credentials: %w", err)
	}
	cred = newCredential()
	data, err = json.MarshalIndent(cred, "", "  ")
	if err != nil {
		return Credential{}, false, fmt.Errorf("encode credentials: %w", err)
	}
	if err := writeFileAtomic(path, append(data, '\n')); err != nil {
		return Credential{}, false, fmt.Errorf("write credentials: %w", err)
	}
	return cred, true, nil
}

// dataFiles names the files the server keeps in the data directory besides the database, for
// sqlite.Options.OwnFiles: a directory holding only these is trailwatch's own.
func dataFiles() []string {
	return []string{credentialsFile, credentialsFile + ".tmp", signingKeyFile, signingKeyFile + ".tmp", signingCertFile}
}

// makePrivate takes group and other permissions off the file at path (one written before
// credentials were kept private, or copied in by hand).
func makePrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return os.Chmod(path, fi.Mode().Perm()&0o700)
}

// writeFileAtomic replaces the file at path with data, readable only by its owner, so that a crash
// or power cut leaves either the old file or the new one, complete, never a partial or empty one: it
// writes path+".tmp" (created afresh with mode 0600: a leftover of an earlier crash is removed first,
// since reusing it would keep its mode), fsyncs it, renames it over path and fsyncs the directory
// so the rename itself is durable.
func writeFileAtomic(path string, data []byte) (err error) {
	tmp := path + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// randomString returns n characters drawn uniformly from alphabet using crypto/rand.
func randomString(n int, alphabet string) string {
	out := make([]byte, n)
	buf := make([]byte, 1)
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the modulo
	for i := 0; i < n; {
		if _, err := rand.Read(buf); err != nil {
			panic(fmt.Sprintf("crypto/rand failed: %v", err)) // crypto/rand.Read never fails on Linux
		}
		if int(buf[0]) >= limit {
			continue
		}
		out[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(out)
}

// sharedCredentialName is the shared value (postgres.DB.SharedValue) holding the generated key
// pair of a deployment on PostgreSQL, as JSON like credentials.json.
const sharedCredentialName = "api-credentials"

// newCredential generates a key pair in AWS's format: AKIA and 16 base-32 characters, and a
// 40-character secret.
func newCredential() Credential {
	return Credential{
		AccessKeyID:     "AKIA" + randomString(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
		SecretAccessKey: randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
	}
}

// sharedCredential returns the deployment's generated key pair from the database the replicas
// share, generating it when no replica has yet; created reports whether this call's pair was
// stored (so that exactly one replica prints it).
func sharedCredential(ctx context.Context, shared replicas) (cred Credential, created bool, err error) {
	v, created, err := shared.SharedValue(ctx, sharedCredentialName, func() ([]byte, error) {
		return json.Marshal(newCredential())
	})
	if err != nil {
		return Credential{}, false, fmt.Errorf("shared credentials: %w", err)
	}
	if err := json.Unmarshal(v, &cred); err != nil {
		return Credential{}, false, fmt.Errorf("decode shared credentials: %w", err)
	}
	if cred.AccessKeyID == "" || cred.SecretAccessKey == "" {
		return Credential{}, false, errors.New("decode shared credentials: access key or secret is empty")
	}
	return cred, created, nil
}
