package web

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
)

type partialKey struct{}

func partialFrom(ctx context.Context) *account.SessionState {
	st, _ := ctx.Value(partialKey{}).(*account.SessionState)
	return st
}

// authenticate resolves the session cookie (pages) into the actor of the
// request. API tokens are resolved by the API's own middleware.
func (s *Server) authenticate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isPage(r) {
			h.ServeHTTP(w, r)
			return
		}
		c, err := r.Cookie(s.sessionCookie())
		if err != nil || c.Value == "" {
			h.ServeHTTP(w, r)
			return
		}
		st, err := s.Accounts.Authenticate(r.Context(), c.Value)
		if err != nil {
			switch app.ErrorCode(err) {
			case app.Unauthorized:
			case app.Unavailable:
				// The session may be good: it is kept, and the page says
				// that the database does not answer.
				s.Log.Error("session lookup: the database does not answer", "err", err)
				s.fail(w, r, err)
				return
			default:
				s.Log.Error("session lookup", "err", err)
			}
			s.clearSession(w)
			h.ServeHTTP(w, r)
			return
		}
		ctx := context.WithValue(r.Context(), formTokenKey{}, account.FormToken(c.Value))
		if st.Actor != nil {
			ctx = app.WithActor(ctx, st.Actor)
		} else {
			ctx = context.WithValue(ctx, partialKey{}, st)
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// setSession sets the session cookie. It is a browser-session cookie (no
// Expires): it goes when the browser closes, and the server enforces the
// session's idle and absolute limits.
func (s *Server) setSession(w http.ResponseWriter, sess *account.Session) {
	// No Max-Age either. Expires, set from the server's clock, made a
	// browser whose clock is ahead by more than a partial session's
	// lifetime (10 min) drop the cookie at once, so sign-in failed.
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookie(), Value: sess.Token, Path: "/", HttpOnly: true, Secure: s.SecureCookies,
		SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookie(), Value: "", Path: "/", HttpOnly: true, Secure: s.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// apiFirst hands /api/ requests to the API straight away. The middleware
// between here and the pages' mux is the pages': sessions, form tokens,
// cross-origin checks of cookies. The API takes bearer tokens only, checks
// its own queries and bodies, and so has none of that to pass through. Its
// busiest route (a State's entry) is then served with the cost of the API's
// own checks, which the load test compares with a bare handler.
func apiFirst(api, pages http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			api.ServeHTTP(w, r)
			return
		}
		pages.ServeHTTP(w, r)
	})
}

// crossOrigin refuses cross-origin state-changing requests from browsers
// (Sec-Fetch-Site and Origin checks); with SameSite cookies this is pocdir's
// CSRF protection. Requests without those headers (API clients, curl) carry
// no ambient browser credential and pass.
func crossOrigin(h http.Handler) http.Handler {
	return http.NewCrossOriginProtection().Handler(h)
}

// The security headers, with their canonical names, set by direct map
// assignment: Header.Set canonicalises and allocates on every call, which
// showed in the profile of the busiest API route.
var (
	securityHeaderValues = map[string][]string{
		"Content-Security-Policy":      {"default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
		"X-Content-Type-Options":       {"nosniff"},
		"X-Frame-Options":              {"DENY"},
		"Referrer-Policy":              {"no-referrer"},
		"Cross-Origin-Opener-Policy":   {"same-origin"},
		"Cross-Origin-Resource-Policy": {"same-origin"},
		"Permissions-Policy":           {"camera=(), microphone=(), geolocation=(), payment=()"},
	}
	// The API answers data to programs, never a document a browser
	// renders: what protects a page (framing, referrers, feature and
	// window policies) has nothing to act on. It keeps what the OWASP REST
	// cheat sheet asks of an API: no sniffing, no framing, no caching, and
	// a policy that lets nothing load if a browser opens one.
	apiSecurityHeaderValues = map[string][]string{
		"Content-Security-Policy": {"default-src 'none'; frame-ancestors 'none'"},
		"X-Content-Type-Options":  {"nosniff"},
	}
	noStore      = []string{"no-store"}
	varyEncoding = []string{"Accept-Encoding"}
	hsts         = []string{"max-age=63072000; includeSubDomains"}
)

// securityHeaders sets the headers of every response: a strict content
// security policy with no inline script, no framing, no sniffing, no
// referrer leaks, and HSTS over TLS.
func (s *Server) securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		values := securityHeaderValues
		if strings.HasPrefix(r.URL.Path, "/api/") {
			values = apiSecurityHeaderValues
		}
		for k, v := range values {
			hd[k] = v
		}
		if s.HSTS {
			hd["Strict-Transport-Security"] = hsts
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			// Directory data and accounts must not linger in shared caches or
			// in the browser's history cache.
			hd["Cache-Control"] = noStore
		}
		h.ServeHTTP(w, r)
	})
}

// accessLog logs every request that changes something or fails at info level,
// and successful reads at debug level, so that a busy API does not flood the
// log. Secrets in paths (invitation links) are never logged.
func (s *Server) accessLog(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// The metrics' writer, outside, already counts the status and
		// bytes: one writer serves both.
		sw, ok := w.(*app.StatusWriter)
		if !ok {
			sw = &app.StatusWriter{ResponseWriter: w}
		}
		h.ServeHTTP(sw, r)
		if sw.Status == 0 {
			sw.Status = http.StatusOK
		}
		level := slog.LevelDebug
		if r.Method != http.MethodGet && r.Method != http.MethodHead || sw.Status >= 400 {
			level = slog.LevelInfo
		}
		if !s.Log.Enabled(r.Context(), level) {
			return
		}
		s.Log.Log(r.Context(), level, "request", "method", r.Method, "path", loggedPath(r), "status", sw.Status,
			"bytes", sw.Bytes, "duration", time.Since(start), "remote", s.clientIP(r))
	})
}

// loggedPath is the request's path as logs show it: the one-time tokens in
// invitation and check-answer links are secrets, and are not logged.
func loggedPath(r *http.Request) string {
	switch path := r.URL.Path; {
	case strings.HasPrefix(path, "/invite/"):
		return "/invite/…"
	case strings.HasPrefix(path, "/check/"):
		return "/check/…"
	case strings.HasPrefix(path, "/ack/"):
		return "/ack/…"
	default:
		return path
	}
}

// logInternal logs an error answered with a 500: the method, the path
// (tokens masked) and the whole error, whose text carries the chain of
// wrapped errors, then any further attributes. Never the body, which holds
// what people typed.
func (s *Server) logInternal(r *http.Request, msg string, err error, attrs ...any) {
	s.Log.Error(msg, append([]any{"method", r.Method, "path", loggedPath(r), "err", err}, attrs...)...)
}

func (s *Server) recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				err, ok := v.(error)
				if ok && errors.Is(err, http.ErrAbortHandler) {
					// Passed on as itself: net/http compares it with ==
					// to leave an abort out of its log.
					panic(http.ErrAbortHandler)
				}
				if !ok {
					err = fmt.Errorf("%v", v)
				}
				s.logInternal(r, "panic", err)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// compressMin is the size under which a response is sent as it is: gzip
// costs more CPU than it saves bytes on small bodies.
const compressMin = 1400

var gzPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// compress gzips text responses larger than compressMin for clients that
// accept it. Static files are compressed once, at start-up, by their handler.
func compress(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !app.AcceptsGzip(r.Header.Get("Accept-Encoding")) || strings.HasPrefix(r.URL.Path, "/static/") {
			h.ServeHTTP(w, r)
			return
		}
		if h := w.Header(); h["Vary"] == nil {
			h["Vary"] = varyEncoding // as Header.Add would, without allocating
		} else {
			h.Add("Vary", "Accept-Encoding")
		}
		cw := &compressWriter{ResponseWriter: w}
		defer cw.close()
		h.ServeHTTP(cw, r)
	})
}

// compressHarder returns a writer that gzips at the default level, for a
// large page that few request: the dashboard, most of whose weight is its
// map. The middleware's fastest level sends it a quarter heavier (about 5
// KB of 27 in Russian), over the page budget; the default level costs a few
// milliseconds more. The middleware passes a body that is already encoded.
// Call the function returned once the page is written.
func compressHarder(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, func()) {
	if !app.AcceptsGzip(r.Header.Get("Accept-Encoding")) {
		return w, func() {}
	}
	w.Header().Set("Content-Encoding", "gzip")
	if !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
		w.Header().Add("Vary", "Accept-Encoding")
	}
	gz := gzHardPool.Get().(*gzip.Writer)
	gz.Reset(w)
	return gzipWriter{ResponseWriter: w, gz: gz}, func() {
		gz.Close()
		gz.Reset(io.Discard)
		gzHardPool.Put(gz)
	}
}

// gzHardPool keeps compressHarder's writers: each holds about a megabyte
// of tables, which a dashboard allocated per request.
var gzHardPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression)
	return w
}}

type gzipWriter struct {
	http.ResponseWriter
	gz *gzip.Writer
}

func (g gzipWriter) Write(p []byte) (int, error) { return g.gz.Write(p) }

type compressWriter struct {
	http.ResponseWriter
	status  int
	buf     []byte
	gz      *gzip.Writer
	decided bool
}

// Unwrap lets app.FindStatusWriter reach the writer beneath (and
// http.ResponseController what compressWriter does not do itself: it
// flushes through its own Flush).
func (c *compressWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *compressWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *compressWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.decided {
		if c.gz != nil {
			return c.gz.Write(p)
		}
		return c.ResponseWriter.Write(p)
	}
	if len(c.buf) == 0 {
		// A handler that encoded its body itself, or said it is small, is
		// passed through without buffering.
		h := c.ResponseWriter.Header()
		if h.Get("Content-Encoding") != "" || (h.Get("Content-Length") != "" && len(h.Get("Content-Length")) < 4) {
			c.decide(false)
			return c.ResponseWriter.Write(p)
		}
	}
	c.buf = append(c.buf, p...)
	if len(c.buf) >= compressMin {
		c.decide(true)
	}
	return len(p), nil
}

func (c *compressWriter) decide(big bool) {
	c.decided = true
	h := c.ResponseWriter.Header()
	ct := h.Get("Content-Type")
	textual := strings.HasPrefix(ct, "text/") || strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "image/svg") || strings.Contains(ct, "yaml")
	if big && textual && h.Get("Content-Encoding") == "" && c.status != http.StatusNoContent && c.status != http.StatusNotModified {
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
		c.ResponseWriter.WriteHeader(c.status)
		c.gz = gzPool.Get().(*gzip.Writer)
		c.gz.Reset(c.ResponseWriter)
		c.gz.Write(c.buf)
	} else {
		c.ResponseWriter.WriteHeader(c.status)
		c.ResponseWriter.Write(c.buf)
	}
	c.buf = nil
}

func (c *compressWriter) close() {
	if !c.decided {
		if c.status == 0 && len(c.buf) == 0 {
			return
		}
		if c.status == 0 {
			c.status = http.StatusOK
		}
		c.decide(false)
	}
	if c.gz != nil {
		c.gz.Close()
		gzPool.Put(c.gz)
		c.gz = nil
	}
}

// Flush lets streaming handlers push what they have.
func (c *compressWriter) Flush() {
	if !c.decided {
		c.decide(len(c.buf) >= compressMin)
	}
	if c.gz != nil {
		c.gz.Flush()
	}
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// clientIP is the address that login throttling counts and sessions show:
// the peer address or, when the peer is a trusted proxy, the last address in
// X-Forwarded-For (all its lines) that is not one (a client can forge the
// rest). IPv6
// addresses count by their /64, which one subscriber usually holds whole.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if s.trusted(addr) {
		// Every line counts, in order: a proxy that appends a line of its
		// own (haproxy's "option forwardfor") puts the client it saw after
		// whatever the client wrote in the first.
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			addr = a
			if !s.trusted(a) {
				break
			}
		}
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}
