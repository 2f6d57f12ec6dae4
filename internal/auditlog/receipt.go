package auditlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ReceiptFormat names the version of the receipt format.
const ReceiptFormat = "pocdir-receipt/1"

// Receipt proves that an entry is in the log: the signed checkpoint, the
// entry's index and exact data, and its inclusion proof. It verifies offline
// with only the log's public key.
type Receipt struct {
	Format     string      `json:"format"`
	Checkpoint string      `json:"checkpoint"`
	Index      int64       `json:"index"`
	Entry      []byte      `json:"entry"`
	Proof      []tlog.Hash `json:"proof"`
	// Event is the decoded entry, for the reader; verification uses Entry.
	Event Event `json:"event"`
}

// Receipt builds the receipt of an entry the actor may see, against the
// latest checkpoint.
func (l *Log) Receipt(ctx context.Context, idx int64) (*Receipt, error) {
	e, err := l.Entry(ctx, idx)
	if err != nil {
		return nil, err
	}
	cp, err := l.Latest(ctx)
	if err != nil {
		return nil, err
	}
	proof, err := l.ProveEntry(ctx, idx, cp.Size)
	if err != nil {
		return nil, err
	}
	return &Receipt{Format: ReceiptFormat, Checkpoint: cp.Note, Index: idx, Entry: e.Data, Proof: proof, Event: e.Event}, nil
}

// OpenCheckpoint verifies a signed checkpoint with the verifier key and
// returns its size and root.
func OpenCheckpoint(signed string, vkey string) (origin string, size int64, root tlog.Hash, err error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return "", 0, root, fmt.Errorf("public key: %w", err)
	}
	n, err := note.Open([]byte(signed), note.VerifierList(v))
	if err != nil {
		return "", 0, root, fmt.Errorf("checkpoint signature: %w", err)
	}
	origin, size, root, err = ParseCheckpoint(n.Text)
	if err == nil && origin != v.Name() {
		err = fmt.Errorf("checkpoint of %q, key of %q", origin, v.Name())
	}
	return origin, size, root, err
}

// VerifyReceipt checks a receipt with the log's public key: the checkpoint's
// signature, and the inclusion of the entry's exact data at its index in the
// signed tree. It returns the decoded event.
func VerifyReceipt(data []byte, vkey string) (*Receipt, error) {
	var r Receipt
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("receipt: not valid JSON: %w", err)
	}
	if r.Format != ReceiptFormat {
		var apiErr struct {
			Error *struct{ Message string } `json:"error"`
		}
		if json.Unmarshal(data, &apiErr) == nil && apiErr.Error != nil {
			return nil, fmt.Errorf("receipt: the file holds an error from the server, not a receipt: %s", apiErr.Error.Message)
		}
		return nil, fmt.Errorf("receipt: unknown format %q", r.Format)
	}
	if len(r.Entry) == 0 {
		return nil, errors.New("receipt: no entry")
	}
	_, size, root, err := OpenCheckpoint(r.Checkpoint, vkey)
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	if r.Index < 0 || r.Index >= size {
		return nil, fmt.Errorf("receipt: index %d outside the signed tree of size %d", r.Index, size)
	}
	if err := tlog.CheckRecord(r.Proof, size, root, r.Index, tlog.RecordHash(r.Entry)); err != nil {
		return nil, fmt.Errorf("receipt: the entry is not in the signed tree: %w", err)
	}
	ev, err := Decode(r.Entry)
	if err != nil {
		return nil, fmt.Errorf("receipt: entry: %w", err)
	}
	// The readable copy of the event is what a person reads: an edited
	// copy beside an authentic entry would show them what was not logged.
	if !reflect.DeepEqual(r.Event, Event{}) && !bytes.Equal(Encode(r.Event), Encode(ev)) {
		return nil, errors.New("receipt: the readable event does not match the signed entry (it was edited)")
	}
	r.Event = ev
	return &r, nil
}
