package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeCert writes a certificate for 127.0.0.1 signed by ca (self-signed
// when ca is nil) and returns it.
func writeCert(t *testing.T, certPath, keyPath string, serial int64, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "scimbridge test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: ca == nil,
	}
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca, caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	if certPath != "" {
		os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
		os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	}
	return cert, key
}

// HTTPS with TLS 1.2+, and a renewed certificate picked up on SIGHUP.
func TestTLSAndReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := writeCert(t, "", "", 1, nil, nil)
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeCert(t, certPath, keyPath, 100, ca, caKey)
	d := startServeWith(t, "  tls_cert_file: "+certPath+"\n  tls_key_file: "+keyPath+"\n", "", "")
	if !strings.HasPrefix(d.scim, "http://") {
		t.Fatalf("scim URL %s", d.scim)
	}
	base := "https://" + strings.TrimPrefix(strings.TrimSuffix(d.scim, "/scim/v2"), "http://")
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	serial := func(maxVersion uint16) (int64, error) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: maxVersion}, DisableKeepAlives: true}
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(base + "/healthz")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), nil
	}
	if s, err := serial(0); err != nil || s != 100 {
		t.Fatalf("first certificate: %d %v", s, err)
	}
	if _, err := serial(tls.VersionTLS11); err == nil {
		t.Fatal("TLS 1.1 accepted")
	}
	writeCert(t, certPath, keyPath, 200, ca, caKey)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := serial(0)
		if err == nil && s == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("certificate not reloaded: serial %d, %v", s, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A broken renewal keeps the working certificate.
	os.WriteFile(certPath, []byte("not a certificate"), 0o600)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	time.Sleep(200 * time.Millisecond)
	if s, err := serial(0); err != nil || s != 200 {
		t.Fatalf("after a failed reload: %d %v", s, err)
	}
	if !strings.Contains(d.stderr.String(), "reloading the TLS certificate failed") {
		t.Fatalf("no log of the failed reload:\n%s", d.stderr)
	}
}
