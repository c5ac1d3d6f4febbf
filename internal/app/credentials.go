package app

import (
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
// a new one, reporting created=true so the caller can print it once.
func loadOrCreateCredential(dir string) (cred Credential, created bool, err error) {
	path := filepath.Join(dir, credentialsFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
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
	cred = Credential{
		AccessKeyID:     "AKIA" + randomString(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
		SecretAccessKey: randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
	}
	data, err = json.MarshalIndent(cred, "", "  ")
	if err != nil {
		return Credential{}, false, fmt.Errorf("encode credentials: %w", err)
	}
	// Write to a temporary file and rename, so a crash never leaves a half-written credentials file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return Credential{}, false, fmt.Errorf("write credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return Credential{}, false, fmt.Errorf("write credentials: %w", err)
	}
	return cred, true, nil
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
