package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/system"
)

// writeCert writes a self-signed certificate for localhost, with name as
// its common name, to the two files.
func writeCert(t *testing.T, name, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTLSCertificateReloadsOnSIGHUP serves HTTPS, renews the certificate
// in its files and sends SIGHUP, as "systemctl reload" does: the server
// goes on, now with the new certificate. TLS 1.2 without forward secrecy
// or with CBC is refused.
func TestTLSCertificateReloadsOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, "first", certFile, keyFile)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	sys, err := system.Open(ctx, system.Config{DB: "sqlite:" + filepath.Join(dir, "pocdir.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, sys, serveConfig{addr: "127.0.0.1:0", tlsCert: certFile, tlsKey: keyFile}, func(a string) { ready <- a })
	}()
	addr := <-ready
	served := func(cfg *tls.Config) (string, error) {
		cfg.InsecureSkipVerify = true
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			return "", err
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
	}
	if name, err := served(&tls.Config{}); err != nil || name != "first" {
		t.Fatalf("served %q: %v", name, err)
	}
	writeCert(t, "renewed", certFile, keyFile)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		name, err := served(&tls.Config{})
		if err == nil && name == "renewed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after SIGHUP, still %q: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA} {
		if _, err := served(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}}); err == nil {
			t.Errorf("TLS 1.2 with %s accepted", tls.CipherSuiteName(suite))
		}
	}
	if _, err := served(&tls.Config{MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 accepted")
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}
