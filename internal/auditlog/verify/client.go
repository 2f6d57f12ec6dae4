// Package verify checks a pocdir server's accountability log from outside,
// through its API, as a State's national system or a witness does: that the
// server shows one history (no fork, no rollback, each tree extending the
// last one verified), that every entry the caller may see is in the signed
// tree, and that the content the caller can read (their State's directory
// changes and communications) still matches the commitments in the log. It
// also cosigns a verified checkpoint, as a witness. "pocdir audit verify"
// and "pocdir audit cosign" are this package behind flags; receipts verify
// offline with auditlog.VerifyReceipt.
//
// It is a package of its own, not part of auditlog, because it recomputes
// the commitments of directory changes and communications, and the packages
// that own them append to the log: they import auditlog.
package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/pocdir/pocdir/internal/auditlog"
)

// Client talks to a pocdir server's API with a token.
type Client struct {
	base, token string
	http        *http.Client
	// Note, when set, is told as it goes what a person running the
	// verification should know though nothing is wrong: that the server's
	// key was trusted on first use, that only the newest communications
	// were checked. A command prints it; others may log it or leave it nil.
	Note func(msg string)
}

// NewClient returns a client of the server at serverURL (such as
// https://pocdir.example.org) that authenticates with an API token: read
// scope is enough to verify, cosigning needs write scope. A nil httpClient
// is http.DefaultClient, which has no timeout.
func NewClient(serverURL, token string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: serverURL, token: token, http: httpClient}
}

// Receipt downloads the receipt of log entry index against the latest
// checkpoint, as the server sends it: keep the bytes, and check them
// offline with auditlog.VerifyReceipt and the log's public key.
func (c *Client) Receipt(ctx context.Context, index int64) ([]byte, error) {
	var s string
	if err := c.get(ctx, "/api/v1/log/receipts/"+strconv.FormatInt(index, 10), &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// Cosign signs, as the witness whose keys are given, the checkpoint that
// Verify verified, and sends the cosignature to the server. It takes a
// Result so that only a verified checkpoint is cosigned.
func (c *Client) Cosign(ctx context.Context, verified *Result, witness *auditlog.Keys) error {
	body := auditlog.CheckpointBodyOf(verified.Checkpoint)
	signed, err := note.Sign(&note.Note{Text: body}, witness.Signer)
	if err != nil {
		return err
	}
	payload, _ := json.Marshal(map[string]any{"size": verified.Size, "witness": witness.VerifierKey, "signature": string(signed)})
	req, err := http.NewRequestWithContext(ctx, "POST", c.url("/api/v1/log/cosignatures"), bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req, nil)
}

func (c *Client) url(path string) string { return strings.TrimRight(c.base, "/") + path }

func (c *Client) note(format string, args ...any) {
	if c.Note != nil {
		c.Note(fmt.Sprintf(format, args...))
	}
}

// get reads path into v: JSON into a struct, the body as it is into a
// *string.
func (c *Client) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.url(path), nil)
	if err != nil {
		return err
	}
	return c.do(req, v)
}

func (c *Client) do(req *http.Request, v any) error {
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, strings.TrimSpace(string(b)))
	}
	switch v := v.(type) {
	case nil:
		return nil
	case *string:
		*v = string(b)
		return nil
	default:
		return json.Unmarshal(b, v)
	}
}
