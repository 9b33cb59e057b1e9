package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Signature algorithms the bridge signs its own tokens with.
const (
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
)

// rsaBits is the size of generated RSA keys.
const rsaBits = 2048

// signingKey is one of the issuer's keys.
type signingKey struct {
	kid  string
	alg  string
	priv crypto.Signer
	// created is when the key started signing (second precision: it is
	// kept in the file name).
	created time.Time
	// path is the key's file in key_dir; "" for a key_file key, which the
	// bridge never deletes.
	path string
}

func (k *signingKey) method() jwt.SigningMethod {
	if k.alg == AlgRS256 {
		return jwt.SigningMethodRS256
	}
	return jwt.SigningMethodES256
}

// generateKey makes a new private key for alg.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case AlgES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	}
	return nil, fmt.Errorf("unsupported algorithm %q", alg)
}

// algOf is the algorithm a private key signs with: ES256 for P-256 ECDSA,
// RS256 for RSA of at least 2048 bits.
func algOf(priv crypto.Signer) (string, error) {
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return "", errors.New("ECDSA keys must be on curve P-256 (ES256)")
		}
		return AlgES256, nil
	case *rsa.PrivateKey:
		if k.N.BitLen() < rsaBits {
			return "", fmt.Errorf("RSA keys must have at least %d bits", rsaBits)
		}
		return AlgRS256, nil
	}
	return "", fmt.Errorf("unsupported key type %T (want ECDSA P-256 or RSA)", priv)
}

// parsePrivateKeyPEM reads the first private key in PEM data: PKCS #8
// ("PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY") or PKCS #1 ("RSA PRIVATE
// KEY"). Encrypted keys are not supported. Errors never quote key bytes.
func parsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM private key found")
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("encrypted private keys are not supported")
		default:
			continue // certificates, parameters: skip
		}
		if err != nil {
			return nil, fmt.Errorf("%s block does not parse", block.Type)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported key type %T", key)
		}
		return signer, nil
	}
}

// thumbprint is the RFC 7638 JWK thumbprint of a public key, base64url:
// the kid, so the same key always has the same kid.
func thumbprint(pub crypto.PublicKey) (string, error) {
	var canon []byte
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		x, y, err := ecPoint(k)
		if err != nil {
			return "", err
		}
		canon = fmt.Appendf(nil, `{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, x, y)
	case *rsa.PublicKey:
		n, e := rsaParams(k)
		canon = fmt.Appendf(nil, `{"e":"%s","kty":"RSA","n":"%s"}`, e, n)
	default:
		return "", fmt.Errorf("unsupported key type %T", pub)
	}
	sum := sha256.Sum256(canon)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

func ecPoint(k *ecdsa.PublicKey) (x, y string, err error) {
	b, err := k.Bytes() // 0x04 || X || Y, each 32 bytes for P-256
	if err != nil || len(b) != 65 {
		return "", "", errors.New("invalid P-256 public key")
	}
	return base64.RawURLEncoding.EncodeToString(b[1:33]), base64.RawURLEncoding.EncodeToString(b[33:]), nil
}

func rsaParams(k *rsa.PublicKey) (n, e string) {
	return base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
		base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())
}

// jwk is a public key as published in the JWKS (RFC 7517).
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

func (k *signingKey) jwk() (jwk, error) {
	j := jwk{Use: "sig", Alg: k.alg, Kid: k.kid}
	switch pub := k.priv.Public().(type) {
	case *ecdsa.PublicKey:
		x, y, err := ecPoint(pub)
		if err != nil {
			return j, err
		}
		j.Kty, j.Crv, j.X, j.Y = "EC", "P-256", x, y
	case *rsa.PublicKey:
		j.Kty = "RSA"
		j.N, j.E = rsaParams(pub)
	default:
		return j, fmt.Errorf("unsupported key type %T", pub)
	}
	return j, nil
}

// newSigningKey wraps a private key, deriving its algorithm and kid.
func newSigningKey(priv crypto.Signer, created time.Time) (*signingKey, error) {
	alg, err := algOf(priv)
	if err != nil {
		return nil, err
	}
	kid, err := thumbprint(priv.Public())
	if err != nil {
		return nil, err
	}
	return &signingKey{kid: kid, alg: alg, priv: priv, created: created.UTC().Truncate(time.Second)}, nil
}

// Key files in key_dir are named signing-<UTC start time>-<kid prefix>.pem;
// the start time orders them, the newest signs.
const (
	keyFilePrefix = "signing-"
	keyFileSuffix = ".pem"
	keyTimeLayout = "20060102T150405Z"
)

func keyFileName(k *signingKey) string {
	return keyFilePrefix + k.created.UTC().Format(keyTimeLayout) + "-" + k.kid[:8] + keyFileSuffix
}

// loadKeyDir reads every key file in dir, oldest first. A missing dir is
// empty. warn receives files readable by others than the owner.
func loadKeyDir(dir string, warn func(path string)) ([]*signingKey, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []*signingKey
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, keyFilePrefix) || !strings.HasSuffix(name, keyFileSuffix) {
			continue
		}
		stamp, _, ok := strings.Cut(strings.TrimPrefix(name, keyFilePrefix), "-")
		if !ok {
			continue
		}
		created, err := time.Parse(keyTimeLayout, stamp)
		if err != nil {
			continue // not one of ours
		}
		path := filepath.Join(dir, name)
		k, err := loadKeyFile(path, created, warn)
		if err != nil {
			return nil, err
		}
		k.path = path
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b *signingKey) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return strings.Compare(a.path, b.path)
	})
	return keys, nil
}

// loadKeyFile reads one PEM private key.
func loadKeyFile(path string, created time.Time, warn func(path string)) (*signingKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 && warn != nil {
		warn(path)
	}
	priv, err := parsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	k, err := newSigningKey(priv, created)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// saveKey writes k to dir as PKCS #8 PEM, mode 0600, atomically (a
// temporary file renamed into place), and sets k.path.
func saveKey(dir string, k *signingKey) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	tmp, err := os.CreateTemp(dir, ".signing-*.tmp") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename: a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	path := filepath.Join(dir, keyFileName(k))
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s exists", path)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	k.path = path
	return nil
}

// jwksJSON renders public keys as a JWK Set.
func jwksJSON(keys []*signingKey) ([]byte, error) {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	for _, k := range keys {
		j, err := k.jwk()
		if err != nil {
			return nil, err
		}
		set.Keys = append(set.Keys, j)
	}
	return json.Marshal(set)
}

// removeKeyFile deletes a retired key's file; key_file keys (no path) are
// left alone.
func removeKeyFile(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
