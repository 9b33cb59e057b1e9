package hubspot

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http/httptrace"
	"sync/atomic"
	"syscall"
)

// connTrace watches one attempt's connection: whether the transport looked
// for a connection (GetConn) and whether it got one (GotConn). net/http
// writes nothing of a request before handing it a connection, so an
// attempt that failed after GetConn and before GotConn never left this
// process: the dial, the DNS lookup, the proxy's CONNECT or the TLS
// handshake failed.
type connTrace struct {
	looked atomic.Bool
	got    atomic.Bool
}

func (t *connTrace) with(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn: func(string) { t.looked.Store(true) },
		GotConn: func(httptrace.GotConnInfo) { t.got.Store(true) },
	})
}

// unsent reports whether a failed attempt provably never reached HubSpot,
// so that HubSpot cannot have counted it against the app's limits.
//
// Once a connection was handed to the request, bytes may have left: a
// timeout after that, a reset, a cut answer all count. When the transport
// reported looking for a connection and never got one, nothing was sent.
// A transport that reports neither (a custom HTTPClient) is judged by the
// error alone: connection refused, a DNS failure, a dial or proxy-connect
// error, a TLS handshake error.
func unsent(err error, t *connTrace) bool {
	switch {
	case err == nil || t.got.Load():
		return false
	case t.looked.Load():
		return true
	}
	return unsentError(err)
}

// unsentError reports whether err can only come from before a request is
// written.
func unsentError(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var (
		dns     *net.DNSError
		op      *net.OpError
		header  tls.RecordHeaderError
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &dns):
		return true
	case errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect"):
		return true
	case errors.As(err, &header), errors.As(err, &verify), errors.As(err, &unknown),
		errors.As(err, &host), errors.As(err, &invalid):
		// Handshake failures. A TLS alert is left out: in TLS 1.3 a server
		// may send one after the client has written its request.
		return true
	}
	return false
}
