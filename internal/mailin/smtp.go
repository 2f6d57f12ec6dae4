package mailin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pocdir/pocdir/internal/db"
)

// SMTP is pocdir's own mail listener, for a deployment that is the mail
// exchanger of its reply domain (an MX record for reply.pocdir.example.org
// pointing at it). It refuses at RCPT time every address it did not issue,
// or that expired, and messages over the size limit; it offers STARTTLS
// when given a certificate, and accepts no relaying and no authentication.
type SMTP struct {
	srv *smtp.Server
	ln  net.Listener
}

// ListenSMTP listens on addr (host:port; ":25" on an MX). tlsConfig, when
// set, is offered with STARTTLS.
func (g *Gateway) ListenSMTP(addr, domain string, tlsConfig *tls.Config) (*SMTP, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("inbound smtp: %w", err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		ip := ""
		if a, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
			ip = a.IP.String()
		}
		return &session{g: g, ip: ip}, nil
	}))
	srv.Domain = domain
	srv.MaxMessageBytes = g.maxSize
	srv.MaxRecipients = 10
	srv.ReadTimeout = 2 * time.Minute
	srv.WriteTimeout = 2 * time.Minute
	srv.TLSConfig = tlsConfig
	return &SMTP{srv: srv, ln: limitListener(ln, maxConnections)}, nil
}

// maxConnections bounds the connections served at once: each may hold a
// message of up to the size limit in memory.
const maxConnections = 32

// limitListener accepts at most n connections at a time; the next wait in
// the kernel's backlog until one closes.
func limitListener(l net.Listener, n int) net.Listener {
	return &limited{Listener: l, slots: make(chan struct{}, n)}
}

type limited struct {
	net.Listener
	slots chan struct{}
}

func (l *limited) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &slotConn{Conn: c, free: func() { <-l.slots }}, nil
}

type slotConn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *slotConn) Close() error {
	c.once.Do(c.free)
	return c.Conn.Close()
}

// Serve answers connections until Close.
func (s *SMTP) Serve() error {
	err := s.srv.Serve(s.ln)
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Addr is the address listened on.
func (s *SMTP) Addr() net.Addr { return s.ln.Addr() }

// Close stops listening and closes the connections.
func (s *SMTP) Close() error { return s.srv.Close() }

// Shutdown stops listening and waits for the connections to end (or ctx).
func (s *SMTP) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// session is one SMTP transaction at a time.
type session struct {
	g     *Gateway
	ip    string
	rcpts []string
}

// Refused recipients are counted per client address, as failed sign-ins
// are: a client that tries many addresses is told to wait.
const (
	refusedWindow = 15 * time.Minute
	refusedLimit  = 30
)

func (s *session) Reset()        { s.rcpts = nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }

// Rcpt refuses what pocdir does not receive at: a random address learns
// nothing but a refusal, as an unknown mailbox would.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := s.g.now()
	if n, err := db.Attempts(ctx, s.g.db, "smtp:"+s.ip, now.Add(-refusedWindow)); err == nil && n >= refusedLimit {
		return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Too many unknown addresses from your address: try later"}
	}
	if err := s.g.Accepts(ctx, to); err != nil {
		if errors.Is(err, ErrUnknownRecipient) {
			db.CountAttempt(ctx, s.g.db, "smtp:"+s.ip, now, now.Add(-refusedWindow))
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such reply address"}
		}
		s.g.log.Error("inbound smtp: checking a recipient", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

// Data reads the message (go-smtp refuses it past MaxMessageBytes) and
// answers 250 only once what it carries is recorded: a failure asks the
// sender to try again, and a retry is not recorded twice.
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(io.LimitReader(r, s.g.maxSize+1))
	if err != nil {
		return err
	}
	if int64(len(raw)) > s.g.maxSize {
		return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "Message too large"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.g.Deliver(ctx, "smtp", s.rcpts, raw); err != nil {
		s.g.log.Error("inbound smtp: recording a message", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	return nil
}
