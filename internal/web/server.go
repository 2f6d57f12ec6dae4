// Package web serves pocdir's HTML pages: one file per page or action,
// server-rendered templates that work without JavaScript and print, and the
// middleware every request passes (security headers, compression, sessions,
// cross-origin protection).
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/export"
	"github.com/pocdir/pocdir/internal/i18n"
	"github.com/pocdir/pocdir/internal/inbox"
	"github.com/pocdir/pocdir/internal/mailin"
	"github.com/pocdir/pocdir/internal/metrics"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/offline"
	"github.com/pocdir/pocdir/internal/regional"
	"github.com/pocdir/pocdir/internal/upload"
)

// Server holds what the pages need.
type Server struct {
	DB        *db.DB
	Directory *directory.Service
	// Export makes the directory's downloads (CSV, JSON, vCard).
	Export *export.Service
	// Offline makes the signed and encrypted offline copies.
	Offline  *offline.Service
	Accounts *account.Service
	Checks   *checks.Service
	// CII holds the States' lists of critical information infrastructure.
	CII *cii.Service
	// Regional holds the regional directories' contacts.
	Regional  *regional.Service
	Capacity  *capacity.Service
	Comms     *comms.Service
	Audit     *auditlog.Log
	Outbox    *notify.Outbox
	Exercises *exercises.Service
	// Catcher, in the demo, holds the emails pocdir sent, shown at /demo/mail.
	Catcher *notify.Catcher
	// Inbound receives replies by email (nil when pocdir does not).
	Inbound *mailin.Gateway
	// Inbox lists what waits for the signed-in user.
	Inbox *inbox.Service
	// Metrics, when set, serves the operator's metrics at /metrics (it
	// checks the metrics token itself).
	Metrics http.Handler
	// OpenPGPKey is pocdir's public OpenPGP key (armored), which signs the
	// content it emails encrypted to PoCs: published at /openpgp.asc.
	OpenPGPKey string
	Catalog    *i18n.Catalog
	Log        *slog.Logger
	// SecureCookies marks cookies Secure; set when served over TLS or behind
	// a TLS-terminating proxy.
	SecureCookies bool
	// HSTS sends Strict-Transport-Security; set when served over TLS.
	HSTS bool
	// API is mounted under /api/v1 when set.
	API http.Handler
	// Uploads hands large bodies to the handlers a few at a time (shared
	// with the API).
	Uploads *upload.Limiter
	// TrustedProxies are the addresses of reverse proxies whose
	// X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// BaseURL is the public address of the site (for invitation links);
	// taken from the request when empty.
	BaseURL string
	// Demo shows the banner that says the data is fictional.
	Demo bool

	tmpl   *templates
	static *staticFiles
}

// sessionCookie names the session cookie: with the __Host- prefix when it
// is Secure, so that the browser refuses one set by another host of the
// domain or over plain HTTP.
func (s *Server) sessionCookie() string {
	if s.SecureCookies {
		return "__Host-pocdir_session"
	}
	return "pocdir_session"
}

// Handler returns the HTTP handler of the whole site.
func (s *Server) Handler() http.Handler {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	s.tmpl = mustParseTemplates()
	s.static = loadStatic()
	mux := http.NewServeMux()

	// Reachable without a session.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /static/{name}", s.serveStatic)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.loginSubmit)
	mux.HandleFunc("GET /login/totp", s.totpForm)
	mux.HandleFunc("POST /login/totp", s.totpSubmit)
	mux.HandleFunc("GET /enrol/totp", s.enrolTOTPForm)
	mux.HandleFunc("POST /enrol/totp", s.enrolTOTPSubmit)
	mux.HandleFunc("GET /invite/{token}", s.inviteAcceptForm)
	mux.HandleFunc("POST /invite/{token}", s.inviteAcceptSubmit)
	mux.HandleFunc("POST /login/passkey/options", s.passkeyLoginOptions)
	mux.HandleFunc("POST /login/passkey", s.passkeyLogin)
	mux.HandleFunc("POST /login/reset", s.resetRequest)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("POST /language", s.languageChange)
	// A check's one-time answer link needs no login: it tests that the
	// message arrived.
	mux.HandleFunc("GET /check/{token}", s.checkAnswer)
	mux.HandleFunc("POST /check/{token}", s.checkAnswer)
	mux.HandleFunc("GET /ack/{token}", s.ackLink)
	mux.HandleFunc("POST /ack/{token}", s.ackLink)
	// The public key that signs encrypted notifications, so that a PoC can
	// verify them.
	mux.HandleFunc("GET /openpgp.asc", s.openPGPKey)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}

	// Everything else needs a full session.
	page := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.requireLogin(h)) }
	page("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, home, http.StatusSeeOther) })
	page("GET /inbox", s.inboxPage)
	page("GET /directory", s.directoryPage)
	page("GET /directory/export", s.directoryExport)
	page("GET /states/{code}/export", s.stateExport)
	page("GET /pocs/{id}/vcard", s.pocVCard)
	page("GET /offline-copy", s.offlineCopyPage)
	page("POST /offline-copy", s.offlineCopyDownload)
	page("POST /offline-copy/mail", s.offlineMailChange)
	page("GET /states/{code}", s.statePage)
	page("GET /states/{code}/history", s.historyPage)
	page("GET /states/{code}/cii", s.ciiStatePage)
	page("GET /states/{code}/cii/edit", s.ciiForm)
	page("POST /states/{code}/cii/edit", s.ciiSubmit)
	page("GET /states/{code}/regional", s.regionalStatePage)
	page("GET /regional", s.regionalPage)
	page("POST /regional/import", s.regionalImport)
	page("GET /regional/imports/{id}", s.regionalImportPage)
	page("GET /regional/bodies/{body}", s.regionalBodyPage)
	page("POST /regional/bodies/{body}/rematch", s.regionalRematch)
	page("GET /regional/bodies/{body}/export.csv", s.regionalExport)
	page("POST /regional/contacts/{id}/{decision}", s.regionalReview)
	page("GET /cii", s.ciiPage)
	page("GET /cii.csv", s.ciiCSV)
	page("POST /states/{code}/reconfirm", s.reconfirm)
	page("GET /states/{code}/edit", s.entryEditForm)
	page("POST /states/{code}/edit", s.entryEditSubmit)
	page("GET /states/{code}/pocs/new", s.pocNewForm)
	page("POST /states/{code}/pocs/new", s.pocNewSubmit)
	page("GET /pocs/{id}/edit", s.pocEditForm)
	page("POST /pocs/{id}/edit", s.pocEditSubmit)
	page("GET /pocs/{id}/remove", s.pocRemoveForm)
	page("POST /pocs/{id}/remove", s.pocRemoveSubmit)
	page("GET /nominations", s.nominationsPage)
	page("GET /nominations/{id}", s.nominationPage)
	page("GET /nominations/{id}/edit", s.nominationEditForm)
	page("POST /nominations/{id}/edit", s.nominationEditSubmit)
	page("POST /nominations/{id}/{step}", s.nominationStep)
	page("GET /dashboard", s.dashboardPage)
	page("GET /dashboard/{name}", s.dashboardCSV)
	page("GET /checks", s.checksPage)
	page("GET /checks/new", s.checkNewForm)
	page("POST /checks/new", s.checkNewSubmit)
	page("GET /checks/{id}", s.checkPage)
	page("GET /checks/{id}/results.csv", s.checkCSV)
	page("POST /checks/{id}/cancel", s.checkCancel)
	page("POST /checks/targets/{id}/{how}", s.checkTargetAnswer)
	page("GET /exercises", s.exercisesPage)
	page("GET /exercises/new", s.exerciseNewForm)
	page("POST /exercises/new", s.exerciseNewSubmit)
	page("GET /exercises/{id}", s.exercisePage)
	page("POST /exercises/{id}/injects", s.exerciseInject)
	page("POST /exercises/{id}/injects/{inject}/release", s.exerciseRelease)
	page("POST /exercises/{id}/note", s.exerciseNote)
	page("POST /exercises/{id}/agree", s.exerciseAgree)
	page("POST /exercises/{id}/confirm", s.exerciseConfirm)
	page("POST /exercises/{id}/withdraw", s.exerciseWithdraw)
	page("POST /exercises/{id}/decline", s.exerciseDecline)
	page("GET /exercises/{id}/report", s.exerciseReportPage)
	page("GET /exercises/{id}/report.csv", s.exerciseCSV)
	page("GET /capacity", s.capacityPage)
	page("GET /capacity/needs/new", s.needNewForm)
	page("POST /capacity/needs/new", s.needNewSubmit)
	page("GET /capacity/needs/{id}/edit", s.needEditForm)
	page("POST /capacity/needs/{id}/edit", s.needEditSubmit)
	page("POST /capacity/needs/{id}/withdraw", s.needWithdraw)
	page("GET /capacity/offers/new", s.offerNewForm)
	page("POST /capacity/offers/new", s.offerNewSubmit)
	page("POST /capacity/offers/{id}/withdraw", s.offerWithdraw)
	page("POST /capacity/matches", s.matchPropose)
	page("POST /capacity/matches/{id}/{answer}", s.matchAnswer)
	page("GET /capacity/activities/{id}", s.activityPage)
	page("POST /capacity/activities/{id}", s.activitySubmit)
	page("GET /capacity/progress", s.capacityProgressPage)
	page("GET /capacity/progress/{name}", s.capacityCSV)
	page("POST /capacity/plan", s.planSubmit)
	page("POST /capacity/plan/measures", s.measureSubmit)
	page("GET /comms", s.commsPage)
	page("GET /comms/new", s.commNewForm)
	page("POST /comms/new", s.commNewSubmit)
	page("GET /comms/routing", s.routingPage)
	page("POST /comms/routing", s.routingSubmit)
	page("GET /comms/{id}", s.commPage)
	page("GET /comms/{id}/edit", s.commEditForm)
	page("POST /comms/{id}/edit", s.commEditSubmit)
	page("GET /comms/{id}/ack", s.commAckForm)
	page("GET /comms/{id}/confirm", s.commConfirm)
	page("GET /comms/{id}/stix.json", s.commSTIX)
	page("GET /comms/{id}/attachments/{aid}", s.commAttachment)
	page("POST /comms/{id}/{act}", s.commAct)
	page("GET /templates", s.templatesPage)
	page("GET /templates/new", s.templateForm)
	page("POST /templates/new", s.templateSubmit)
	page("GET /templates/{id}", s.templatePage)
	page("GET /templates/{id}/edit", s.templateForm)
	page("POST /templates/{id}/edit", s.templateSubmit)
	page("POST /templates/{id}/{action}", s.templateStatus)
	page("GET /users", s.usersPage)
	page("POST /users/{id}/disable", s.userDisable)
	page("GET /invitations/new", s.inviteForm)
	page("POST /invitations/new", s.inviteSubmit)
	page("POST /invitations/{id}/revoke", s.inviteRevoke)
	page("POST /invitations/{id}/approve", s.inviteApprove)
	page("GET /observers", s.observersPage)
	page("POST /observers/{id}/grant", s.observerGrant)
	page("POST /observers/grants/{id}/approve", s.observerGrantApprove)
	page("POST /observers/grants/{id}/withdraw", s.observerGrantWithdraw)
	page("GET /states/{code}/access", s.accessPage)
	page("GET /account", s.accountPage)
	page("POST /account/sessions/{id}/revoke", s.sessionRevoke)
	page("POST /account/tokens", s.tokenCreate)
	page("POST /account/tokens/{id}/revoke", s.tokenRevoke)
	page("POST /account/password", s.passwordChange)
	page("POST /account/time-zone", s.timeZoneChange)
	page("POST /account/notifications", s.notificationsChange)
	page("POST /account/passkeys/options", s.passkeyOptions)
	page("POST /account/passkeys", s.passkeyAdd)
	page("POST /account/passkeys/{id}/remove", s.passkeyRemove)
	page("POST /account/passkeys-only", s.passkeysOnly)
	page("POST /account/openpgp-key", s.openPGPKeyChange)
	page("POST /resets/{id}/{decision}", s.resetDecide)
	page("GET /log", s.logPage)
	page("GET /admin/outbox", s.outboxPage)
	if s.Catcher != nil {
		page("GET /demo/mail", s.demoMailPage)
	}
	page("GET /log/receipts/{index}", s.receipt)

	if s.Uploads == nil {
		s.Uploads = upload.New(0, 0)
	}
	var h = metrics.Routes(mux)
	h = s.checkQuery(h)
	h = s.boundUploads(h)
	h = s.forgeryProtection(h)
	h = s.authenticate(h)
	h = crossOrigin(h)
	if s.API != nil {
		h = apiFirst(s.API, h)
	}
	h = compress(h)
	h = s.securityHeaders(h)
	h = s.recoverer(h)
	h = s.accessLog(h)
	return h
}

// home is the page after sign-in: what waits for the user.
const home = "/inbox"

func (s *Server) openPGPKey(w http.ResponseWriter, r *http.Request) {
	if s.OpenPGPKey == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/pgp-keys")
	w.Write([]byte(s.OpenPGPKey))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.DB.PingContext(ctx); err != nil {
		s.Log.Error("readiness: database unreachable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("database unreachable\n"))
		return
	}
	w.Write([]byte("ready\n"))
}

// requireLogin sends visitors without a full session to the login page, and
// those who have given only their password to the second factor.
func (s *Server) requireLogin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if app.ActorFrom(r.Context()) != nil {
			h.ServeHTTP(w, r)
			return
		}
		if st := partialFrom(r.Context()); st != nil {
			if st.User.HasSecondFactor() {
				http.Redirect(w, r, "/login/totp", http.StatusSeeOther)
			} else {
				http.Redirect(w, r, "/enrol/totp", http.StatusSeeOther)
			}
			return
		}
		s.rememberReturn(w, r)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
}
