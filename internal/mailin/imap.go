package mailin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"
)

// IMAP collects replies from a mailbox, for a deployment behind an existing
// mail system: the reply address's mailbox (reply@…, which receives
// reply+TOKEN@… as a subaddress) is read over IMAP, each message is
// recorded, then deleted from the mailbox. The mailbox must be pocdir's
// own. Several instances may collect from it at once: a message collected
// twice is recorded once.
type IMAP struct {
	g        *Gateway
	addr     string
	mode     string // "tls" (imaps), "starttls" (imap), "none" (imap with ?tls=none, for a server on the same host)
	user     string
	password string
	mailbox  string
	// Batch is how many messages a round collects at most.
	Batch int
	// TLS is the TLS configuration (the system's roots when nil).
	TLS *tls.Config
}

// NewIMAP reads the mailbox's URL: imaps://USER:PASSWORD@HOST[:993]/MAILBOX
// (implicit TLS) or imap://USER:PASSWORD@HOST[:143]/MAILBOX (STARTTLS
// required; ?tls=none only for a server on the same host). The mailbox is
// INBOX when the path is empty.
func (g *Gateway) NewIMAP(rawURL string) (*IMAP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("imap url: %w", err)
	}
	c := &IMAP{g: g, mailbox: strings.TrimPrefix(u.Path, "/"), Batch: 50}
	if c.mailbox == "" {
		c.mailbox = "INBOX"
	}
	port := u.Port()
	switch u.Scheme {
	case "imaps":
		c.mode = "tls"
		if port == "" {
			port = "993"
		}
	case "imap":
		c.mode = "starttls"
		if u.Query().Get("tls") == "none" {
			c.mode = "none"
		}
		if port == "" {
			port = "143"
		}
	default:
		return nil, fmt.Errorf("imap url: the scheme must be imaps or imap, not %q", u.Scheme)
	}
	if u.Hostname() == "" || u.User == nil {
		return nil, errors.New("imap url: give a user and a host: imaps://USER:PASSWORD@HOST/MAILBOX")
	}
	if c.mode == "none" {
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, errors.New("imap url: tls=none is only for a server on the same host")
		}
	}
	c.addr = net.JoinHostPort(u.Hostname(), port)
	c.user = u.User.Username()
	c.password, _ = u.User.Password()
	return c, nil
}

// Collect reads the messages waiting in the mailbox, records each, and
// deletes those it recorded (or found recorded already); one it could not
// record now (the database is unreachable) stays for the next round. It
// returns how many it took.
func (c *IMAP) Collect(ctx context.Context) (int, error) {
	cl, err := c.dial()
	if err != nil {
		return 0, err
	}
	defer cl.Logout()
	if err := cl.Login(c.user, c.password); err != nil {
		return 0, fmt.Errorf("imap: signing in: %w", err)
	}
	if _, err := cl.Select(c.mailbox, false); err != nil {
		return 0, fmt.Errorf("imap: opening %s: %w", c.mailbox, err)
	}
	crit := imap.NewSearchCriteria()
	crit.WithoutFlags = []string{imap.DeletedFlag}
	uids, err := cl.UidSearch(crit)
	if err != nil {
		return 0, fmt.Errorf("imap: searching: %w", err)
	}
	if len(uids) == 0 {
		return 0, nil
	}
	if len(uids) > c.Batch {
		uids = uids[:c.Batch]
	}
	set := new(imap.SeqSet)
	set.AddNum(uids...)
	section := &imap.BodySectionName{Peek: true}
	msgs := make(chan *imap.Message, 8)
	done := make(chan error, 1)
	go func() {
		done <- cl.UidFetch(set, []imap.FetchItem{imap.FetchUid, imap.FetchRFC822Size, section.FetchItem()}, msgs)
	}()
	taken := new(imap.SeqSet)
	n := 0
	var firstErr error
	for m := range msgs {
		if firstErr != nil || ctx.Err() != nil {
			continue // drain the channel
		}
		if int64(m.Size) > c.g.maxSize {
			// Too large to read: recorded as refused without its bytes.
			if _, err := c.g.finish(ctx, &inbound{via: "imap", key: fmt.Sprintf("imap-too-large:%s:%d:%d", c.mailbox, m.Uid, m.Size), at: c.g.now()},
				&Outcome{Result: ResultRefused, Detail: "message too large"}); err != nil {
				firstErr = err
				continue
			}
			taken.AddNum(m.Uid)
			continue
		}
		body := m.GetBody(section)
		if body == nil {
			continue
		}
		raw, err := io.ReadAll(io.LimitReader(body, c.g.maxSize+1))
		if err != nil {
			firstErr = err
			continue
		}
		if _, err := c.g.Deliver(ctx, "imap", nil, raw); err != nil {
			firstErr = err
			continue
		}
		taken.AddNum(m.Uid)
		n++
	}
	if err := <-done; err != nil && firstErr == nil {
		firstErr = fmt.Errorf("imap: fetching: %w", err)
	}
	if !taken.Empty() {
		flags := []any{imap.DeletedFlag}
		if err := cl.UidStore(taken, imap.FormatFlagsOp(imap.AddFlags, true), flags, nil); err != nil {
			return n, fmt.Errorf("imap: deleting what was recorded: %w", err)
		}
		if err := cl.Expunge(nil); err != nil {
			return n, fmt.Errorf("imap: expunging: %w", err)
		}
	}
	return n, firstErr
}

func (c *IMAP) dial() (*client.Client, error) {
	cfg := c.TLS
	if cfg == nil {
		host, _, _ := net.SplitHostPort(c.addr)
		cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	var cl *client.Client
	var err error
	switch c.mode {
	case "tls":
		cl, err = client.DialTLS(c.addr, cfg)
	default:
		cl, err = client.Dial(c.addr)
	}
	if err != nil {
		return nil, fmt.Errorf("imap: connecting to %s: %w", c.addr, err)
	}
	cl.Timeout = time.Minute
	if c.mode == "starttls" {
		if err := cl.StartTLS(cfg); err != nil {
			cl.Logout()
			return nil, fmt.Errorf("imap: STARTTLS: %w", err)
		}
	}
	return cl, nil
}
