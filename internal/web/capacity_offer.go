package web

import (
	"net/http"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/directory"
)

// A State's focal point records what its State can give; the
// Secretariat records a partner's offer, naming the partner.

type offerFormData struct {
	*capacityChoices
	In capacity.OfferInput
}

func (s *Server) offerForm(w http.ResponseWriter, r *http.Request, status int, in capacity.OfferInput, err error) {
	a := app.ActorFrom(r.Context())
	if !capacity.CanRecordOffer(a) {
		s.fail(w, r, app.ErrForbidden())
		return
	}
	if in.Details.Lang == "" {
		in.Details.Lang = "en"
	}
	p := s.page(r, "capacity.offer_new_title", &offerFormData{capacityChoices: newChoices(a, in.Languages), In: in})
	if err != nil {
		p.withError(err)
	}
	s.render(w, r, status, "capacity_offer.html", p)
}

func (s *Server) offerNewForm(w http.ResponseWriter, r *http.Request) {
	s.offerForm(w, r, http.StatusOK, capacity.OfferInput{Format: "online"}, nil)
}

func (s *Server) offerNewSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 64<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	in := capacity.OfferInput{Partner: f.Get("partner"), Kind: f.Get("kind"), Topics: f["topics"], TopicOther: f.Get("topic_other"),
		Level: directory.Level(f.Get("level")), Languages: formLanguages(f), Format: f.Get("format"), Capacity: atoi(f.Get("capacity")),
		PeriodFrom: f.Get("period_from"), PeriodTo: f.Get("period_to"),
		Details: directory.Text{Lang: f.Get("details_lang"), Text: f.Get("details"), English: f.Get("details_en")}}
	if _, err := s.Capacity.RecordOffer(r.Context(), in); err != nil {
		s.offerForm(w, r, s.errorStatus(r, err), in, err)
		return
	}
	s.done(w, r, "capacity.flash_offer", "/capacity")
}

func (s *Server) offerWithdraw(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "offer")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.Capacity.WithdrawOffer(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "capacity.flash_offer_withdrawn", "/capacity")
}
