package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/rs/zerolog"
)

// certReloader serves a certificate from files and reloads them on SIGHUP,
// so a renewed certificate is picked up without a restart. A reload that
// fails keeps the previous certificate.
type certReloader struct {
	certFile, keyFile string
	log               zerolog.Logger
	mu                sync.RWMutex
	cert              *tls.Certificate
	stop              chan struct{}
}

func newCertReloader(certFile, keyFile string, log zerolog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, log: log, stop: make(chan struct{})}
	if err := c.load(); err != nil {
		return nil, err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-c.stop:
				return
			case <-hup:
				if err := c.load(); err != nil {
					log.Error().Err(err).Msg("SIGHUP: reloading the TLS certificate failed; keeping the current one")
				} else {
					log.Info().Msg("SIGHUP: TLS certificate reloaded")
				}
			}
		}
	}()
	return c, nil
}

func (c *certReloader) load() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate: %w", err)
	}
	c.mu.Lock()
	c.cert = &cert
	c.mu.Unlock()
	return nil
}

func (c *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cert, nil
}

func (c *certReloader) Close() { close(c.stop) }

// tlsConfig is the server's TLS configuration: TLS 1.2 and later, Go's
// default (modern) cipher suites.
func (c *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.getCertificate}
}
