package sns

import (
	"bytes"
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// Signer signs HTTP and email-json messages the way SNS does [§3.3, SNSDG-SIG]: SignatureVersion
// 1 is SHA1withRSA, 2 is SHA256withRSA, PKCS#1 v1.5, base64. Subscribers verify with the
// certificate served at CertURL. Unlike AWS's, that URL is not on amazonaws.com, so verifiers
// that pin the host must be told the trailwatch host instead.
type Signer struct {
	key *rsa.PrivateKey
	// CertURL is the SigningCertURL put in every signed message.
	CertURL string
}

// NewSigner returns a signer using key, whose certificate is served at certURL.
func NewSigner(key *rsa.PrivateKey, certURL string) *Signer {
	return &Signer{key: key, CertURL: certURL}
}

// Sign returns the base64 signature of data for SignatureVersion version ("1" or "2").
func (s *Signer) Sign(version string, data []byte) (string, error) {
	var h crypto.Hash
	var sum []byte
	switch version {
	case "2":
		d := sha256.Sum256(data)
		h, sum = crypto.SHA256, d[:]
	default:
		d := sha1.Sum(data)
		h, sum = crypto.SHA1, d[:]
	}
	sig, err := rsa.SignPKCS1v15(nil, s.key, h, sum)
	if err != nil {
		return "", fmt.Errorf("sign message: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// SigningCertificate returns a self-signed PEM certificate for key, valid for ten years from
// now, and the file name SNS-style URLs give it (SimpleNotificationService-<md5>.pem).
func SigningCertificate(key *rsa.PrivateKey, now time.Time) (pemBytes []byte, name string, err error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, "", fmt.Errorf("make serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "trailwatch SNS signing", Organization: []string{"trailwatch"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, "", fmt.Errorf("create certificate: %w", err)
	}
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	return b.Bytes(), CertificateName(der), nil
}

// CertificateName is the file name under which a certificate (DER) is served, in SNS's form
// SimpleNotificationService-<md5 hex>.pem.
func CertificateName(der []byte) string {
	sum := md5.Sum(der)
	return "SimpleNotificationService-" + hex.EncodeToString(sum[:]) + ".pem"
}

// StringToSign is the text SNS signs: "Name\nValue\n" for each signed key present, in byte
// order, with the unescaped values. Notifications sign Message, MessageId, Subject (when
// present), Timestamp, TopicArn and Type; confirmations sign Message, MessageId, SubscribeURL,
// Timestamp, Token, TopicArn and Type.
func StringToSign(fields map[string]string) []byte {
	keys := []string{"Message", "MessageId", "Subject", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	notification := fields["Type"] == TypeNotification
	var b bytes.Buffer
	for _, k := range keys {
		v, ok := fields[k]
		if !ok || (notification && (k == "SubscribeURL" || k == "Token")) || (!notification && k == "Subject") {
			continue
		}
		b.WriteString(k)
		b.WriteByte('\n')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
