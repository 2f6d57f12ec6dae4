package notify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
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
	Keep int
	// File, when set, keeps what was received across restarts (the demo's
	// data directory): each message a line of JSON, read back by Load.
	File  string
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

// Load reads back what an earlier run kept in File (the newest Keep).
func (c *Catcher) Load() error {
	if c.File == "" {
		return nil
	}
	f, err := os.Open(c.File)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	c.mu.Lock()
	defer c.mu.Unlock()
	for sc.Scan() {
		var m Caught
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			c.msgs = append(c.msgs, m)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if keep := c.keep(); len(c.msgs) > keep {
		// The file keeps what the page shows, no more.
		c.msgs = c.msgs[len(c.msgs)-keep:]
		var b bytes.Buffer
		for _, m := range c.msgs {
			line, _ := json.Marshal(m)
			b.Write(append(line, '\n'))
		}
		return os.WriteFile(c.File, b.Bytes(), 0o600)
	}
	return nil
}

func (c *Catcher) keep() int {
	if c.Keep <= 0 {
		return 500
	}
	return c.Keep
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
	defer s.c.mu.Unlock()
	if len(s.c.msgs) >= s.c.keep() {
		s.c.msgs = s.c.msgs[1:]
	}
	s.c.msgs = append(s.c.msgs, m)
	s.c.total++
	if s.c.File != "" {
		line, _ := json.Marshal(m)
		f, err := os.OpenFile(s.c.File, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.Write(append(line, '\n')); err != nil {
			return err
		}
	}
	return nil
}
