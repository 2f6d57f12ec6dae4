// Package auditlog owns the accountability log: every event of pocdir
// (directory changes, logins, invitations, and later communications and
// checks) appended to a Merkle tree with RFC 6962 hashing, in the same
// transaction as the change it records; signed checkpoints (C2SP signed
// notes, Ed25519); inclusion and consistency proofs; receipts that verify
// offline; witnesses' cosignatures; and the full verification of the log
// against the database. Entries carry a commitment to the content, never the
// content, so that lawful deletion of content leaves the log verifiable.
package auditlog

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Event is what a capability records.
type Event struct {
	Type       string    `json:"type"`
	ActorID    int64     `json:"actor_id,omitempty"`
	ActorEmail string    `json:"actor"`
	ActorState string    `json:"actor_state,omitempty"`
	Object     string    `json:"object"`
	States     []string  `json:"states"`
	At         time.Time `json:"at"`
	// Commitment is the hex SHA-256 over a salt and the canonical encoding
	// of the content; empty for events without content (a login).
	Commitment string `json:"commitment,omitempty"`
}

// Entry is a logged event with its position in the log.
type Entry struct {
	Index int64 `json:"index"`
	Event
	// Data is the exact encoding that the tree hashes.
	Data []byte `json:"-"`
}

// Encode returns the canonical encoding of an event: JSON with the fields in
// the order of the struct and the time in UTC to the microsecond. The bytes
// are stored as they are, so verification never depends on re-encoding.
func Encode(ev Event) []byte {
	ev.At = ev.At.UTC().Truncate(time.Microsecond)
	if ev.States == nil {
		ev.States = []string{}
	}
	b, _ := json.Marshal(struct {
		V string `json:"v"`
		Event
	}{"pocdir-log/1", ev})
	return b
}

// Decode parses an entry's encoding.
func Decode(data []byte) (Event, error) {
	var ev Event
	err := json.Unmarshal(data, &ev)
	return ev, err
}

// NewSalt returns a random salt for a commitment, so that a commitment to
// short content (a changed phone number) cannot be guessed by trying values.
func NewSalt() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Commit returns the commitment to content under salt: the hex SHA-256 of
// the salt and the JSON encoding of the content. Whoever holds the content
// and its salt can recompute it.
func Commit(salt string, content any) string {
	b, _ := json.Marshal(content)
	h := sha256.New()
	h.Write([]byte(salt))
	h.Write([]byte{0})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}
