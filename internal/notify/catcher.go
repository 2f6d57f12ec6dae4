package notify

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Caught is a message received by the Catcher.
type Caught struct {
	At      time.Time
	From    string
	To      []string
	Subject string
	// ReplyTo is where answers go (a reply address, when pocdir receives
	// replies).
	ReplyTo string
	Body    string
	Raw     []byte
}

// Catcher is a small SMTP server on 127.0.0.1 that keeps what it receives in
// memory: the demo sends its emails there and shows them in the browser,
// and tests read them. It is not a mail server for production.
type Catcher struct {
	Addr string
	// Keep is how many messages it keeps, the newest (500 when 0).
	Keep  int
	mu    sync.Mutex
	msgs  []Caught
	total int
	srv   *smtp.Server
	ln    net.Listener
}

// StartCatcher listens on addr ("127.0.0.1:0" for any free port).
func StartCatcher(addr string) (*Catcher, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &Catcher{Addr: ln.Addr().String(), ln: ln}
	c.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &catchSession{c: c}, nil }))
	c.srv.Domain = "localhost"
	c.srv.MaxMessageBytes = 10 << 20
	c.srv.MaxRecipients = 100
	c.srv.ReadTimeout = time.Minute
	c.srv.WriteTimeout = time.Minute
	go c.srv.Serve(ln)
	return c, nil
}

// Received is how many messages it has received in all.
func (c *Catcher) Received() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// Port is the port the catcher listens on.
func (c *Catcher) Port() int { return c.ln.Addr().(*net.TCPAddr).Port }

// Close stops the catcher.
func (c *Catcher) Close() error { return c.srv.Close() }

// Messages returns what was received, newest first.
func (c *Catcher) Messages() []Caught {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Caught, len(c.msgs))
	for i, m := range c.msgs {
		out[len(c.msgs)-1-i] = m
	}
	return out
}

type catchSession struct {
	c    *Catcher
	from string
	to   []string
}

func (s *catchSession) Reset()        { s.from, s.to = "", nil }
func (s *catchSession) Logout() error { return nil }
func (s *catchSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *catchSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *catchSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Caught{At: time.Now().UTC(), From: s.from, To: s.to, Raw: raw}
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		dec := new(mime.WordDecoder)
		if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
			m.Subject = subj
		}
		if a, err := mail.ParseAddress(msg.Header.Get("Reply-To")); err == nil {
			m.ReplyTo = a.Address
		}
		var body io.Reader = msg.Body
		if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		b, _ := io.ReadAll(body)
		m.Body = string(b)
	}
	s.c.mu.Lock()
	keep := s.c.Keep
	if keep <= 0 {
		keep = 500
	}
	if len(s.c.msgs) >= keep {
		s.c.msgs = s.c.msgs[1:]
	}
	s.c.msgs = append(s.c.msgs, m)
	s.c.total++
	s.c.mu.Unlock()
	return nil
}
