package web

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"net/http"
	"net/url"

	"github.com/pquerna/otp"

	"github.com/pocdir/pocdir/internal/app"
)

type enrolData struct {
	Secret string
	// QR is the data: URL of the QR code PNG. It is a template.URL because
	// html/template replaces data: URLs in src by "#ZgotmplZ"; the URL is
	// built here from our own PNG, never from input.
	QR template.URL
}

func (s *Server) enrolData(r *http.Request, token string) (*enrolData, error) {
	e, err := s.Accounts.BeginTOTPEnrolment(r.Context(), token)
	if err != nil {
		return nil, err
	}
	d := &enrolData{Secret: e.Secret}
	if k, err := otp.NewKeyFromURL(e.URL); err == nil {
		if img, err := k.Image(200, 200); err == nil {
			var buf bytes.Buffer
			if png.Encode(&buf, img) == nil {
				d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
			}
		}
	}
	return d, nil
}

func (s *Server) enrolTOTPForm(w http.ResponseWriter, r *http.Request) {
	token, ok := s.partialSession(w, r)
	if !ok {
		return
	}
	d, err := s.enrolData(r, token)
	if err != nil {
		if app.ErrorCode(err) == app.Conflict {
			seeOther(w, r, "/login/totp")
			return
		}
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "enrol_totp.html", s.page(r, "enrol.title", d))
}

func (s *Server) enrolTOTPSubmit(w http.ResponseWriter, r *http.Request) {
	token, ok := s.partialSession(w, r)
	if !ok {
		return
	}
	if err := parseForm(w, r, 4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	sess, err := s.Accounts.ConfirmTOTPEnrolment(r.Context(), token, r.PostForm.Get("code"))
	if err != nil {
		d, _ := s.enrolData(r, token)
		s.render(w, r, s.errorStatus(r, err), "enrol_totp.html", s.page(r, "enrol.title", d).withError(err))
		return
	}
	s.setSession(w, sess)
	s.done(w, r, "enrol.done", s.afterSignIn(w, r))
}

func (s *Server) inviteAcceptForm(w http.ResponseWriter, r *http.Request) {
	inv, err := s.Accounts.LookupInvitation(r.Context(), r.PathValue("token"))
	if err != nil {
		s.render(w, r, s.errorStatus(r, err), "invite_accept.html", s.page(r, "invite.accept_title", nil).withError(err))
		return
	}
	s.render(w, r, http.StatusOK, "invite_accept.html", s.page(r, "invite.accept_title", inv))
}

func (s *Server) inviteAcceptSubmit(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if err := parseForm(w, r, 8<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	sess, err := s.Accounts.AcceptInvitation(r.Context(), token, r.PostForm.Get("name"), r.PostForm.Get("password"), s.clientIP(r), r.UserAgent())
	if err != nil {
		inv, lerr := s.Accounts.LookupInvitation(r.Context(), token)
		p := s.page(r, "invite.accept_title", nil)
		if lerr == nil {
			p.Data = inv
		}
		p.withError(err)
		p.Form = url.Values{"name": {r.PostForm.Get("name")}}
		s.render(w, r, s.errorStatus(r, err), "invite_accept.html", p)
		return
	}
	s.setSession(w, sess)
	seeOther(w, r, "/enrol/totp")
}
