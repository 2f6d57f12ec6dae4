package directory

import (
	"context"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/notify"
)

// What a nomination changes, as its pages and the API show it.

func diffEntry(old *State, in *EntryInput) []FieldChange {
	var diff []FieldChange
	diff = addDiff(diff, "initiate_via", old.InitiateVia, strings.TrimSpace(in.InitiateVia))
	diff = addDiff(diff, "notes_lang", old.Notes.Lang, in.Notes.Lang)
	diff = addDiff(diff, "notes", old.Notes.Text, in.Notes.Text)
	diff = addDiff(diff, "notes_en", old.Notes.English, in.Notes.English)
	return diff
}

// withDiff fills what the nomination changes: the applied change once
// validated, else the proposal against the entry as it stands.
func (s *Service) withDiff(ctx context.Context, n *Nomination) (*Nomination, error) {
	return s.withDiffOf(ctx, n, nil)
}

// withDiffOf is withDiff with the applied change taken from changes when
// it is there (a list reads them together).
func (s *Service) withDiffOf(ctx context.Context, n *Nomination, changes map[int64]*Change) (*Nomination, error) {
	n.Diff = []FieldChange{}
	if n.Status == NomSubmitted {
		var err error
		if n.Awaiting, err = s.awaiting(ctx, s.DB, n); err != nil {
			return nil, err
		}
	}
	if n.ChangeID != 0 {
		c := changes[n.ChangeID]
		if c == nil {
			var err error
			if c, err = getChange(ctx, s.DB, n.ChangeID); err != nil {
				return nil, err
			}
		}
		n.Diff = c.Diff
		return n, nil
	}
	switch n.Action {
	case "poc.create":
		n.Diff = diffPoC(&PoC{}, pocFromInput(n.State, *n.PoC, keyInfoOf(n.PoC.PGPKey)))
	case "poc.update", "poc.remove":
		old, err := getPoCAny(ctx, s.DB, n.PoCID)
		if err != nil {
			return nil, err
		}
		if old == nil {
			break
		}
		if n.Action == "poc.remove" {
			n.Diff = diffPoC(old, &PoC{})
		} else {
			n.Diff = diffPoC(old, pocFromInput(n.State, *n.PoC, keyInfoOf(n.PoC.PGPKey)))
		}
	case "entry.update":
		old, err := getState(ctx, s.DB, n.State)
		if err != nil {
			return nil, err
		}
		if old != nil {
			n.Diff = diffEntry(old, n.Entry)
		}
	}
	if n.Diff == nil {
		n.Diff = []FieldChange{}
	}
	return n, nil
}

// keyInfoOf reads an OpenPGP key for display; a key that no longer parses
// shows without fingerprint (validation refuses it).
func keyInfoOf(armored string) *notify.KeyInfo {
	if strings.TrimSpace(armored) == "" {
		return nil
	}
	k, err := notify.ParsePublicKey(armored, time.Now())
	if err != nil {
		return nil
	}
	return k
}
