// Command killtest runs three pocdir instances on one PostgreSQL database
// behind a real reverse proxy (haproxy or nginx), drives a burst of
// nominations and communications through the proxy, kills one instance
// with SIGKILL in the middle of it, and then shows that nothing
// acknowledged was lost: every write answered with success is there, every
// email the outbox holds reached the mail server (the test's own, on
// 127.0.0.1), none twice under two Message-IDs, and `pocdir audit check`
// passes. It exits non-zero on a lost write or email, or a failed check.
//
//	go run ./scripts/killtest [-proxy haproxy|nginx] [-writes 400] [-admin postgres://…/postgres]
//
// It creates (and drops first) the database pocdir_killtest on the server
// of -admin.
package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
	_ "github.com/jackc/pgx/v5/stdlib"
)

var states = []string{"FRA", "DEU", "KEN", "BRA", "JPN", "IND"}

func main() {
	proxy := flag.String("proxy", "haproxy", "the reverse proxy in front of the instances: haproxy or nginx")
	writes := flag.Int("writes", 1000, "how many writes the burst makes (half nominations, half communications)")
	delay := flag.Duration("mail-delay", 20*time.Millisecond, "how long the mail server takes to accept a message, so that the kill finds an instance sending")
	admin := flag.String("admin", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "a PostgreSQL URL with the right to create databases")
	flag.Parse()
	log.SetFlags(log.Ltime)
	if err := run(*proxy, *writes, *admin, *delay); err != nil {
		log.Printf("FAIL: %v", err)
		os.Exit(1)
	}
	log.Print("PASS: nothing acknowledged was lost")
}

// instance is one pocdir serve process.
type instance struct {
	addr string
	cmd  *exec.Cmd
}

func run(proxyName string, writes int, adminURL string, mailDelay time.Duration) error {
	work, err := os.MkdirTemp("", "killtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	dbURL, err := freshDatabase(adminURL, "pocdir_killtest")
	if err != nil {
		return err
	}
	bin := filepath.Join(work, "pocdir")
	log.Print("building pocdir")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/pocdir").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	pocdir := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("pocdir %s: %v\n%s", args[0], err, errb.String())
		}
		return strings.TrimSpace(out.String()), nil
	}
	if _, err := pocdir("", "migrate", "--db", dbURL); err != nil {
		return err
	}
	// The accounts: a focal point of each State, and the Secretariat,
	// which validates their PoCs; each gets a token.
	tokens := map[string]string{}
	for _, who := range append([]string{"UN"}, states...) {
		email, args := strings.ToLower(who)+"@kill.test", []string{"--role", "focal-point", "--state", who}
		if who == "UN" {
			args = []string{"--role", "secretariat"}
		}
		if _, err := pocdir("a long password for the kill test\n", append([]string{"user", "create", "--db", dbURL, "--email", email}, args...)...); err != nil {
			return err
		}
		if tokens[who], err = pocdir("", "token", "create", "--db", dbURL, "--email", email, "--name", "killtest", "--scope", "write"); err != nil {
			return err
		}
	}

	mail := &sink{seen: map[string]int{}, delay: mailDelay}
	smtpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := smtp.NewServer(mail)
	srv.Domain, srv.AllowInsecureAuth = "sink.kill.test", true
	go srv.Serve(smtpLn)
	defer srv.Close()

	keys := []string{"--log-key", filepath.Join(work, "log.key"), "--data-key", filepath.Join(work, "data.key"), "--openpgp-key", filepath.Join(work, "openpgp.key")}
	start := func(i int) (*instance, error) {
		addr := freeAddr()
		args := append([]string{"serve", "--db", dbURL, "--addr", addr, "--log-level", "warn", "--log-format", "text",
			"--smtp-host", "127.0.0.1", "--smtp-port", fmt.Sprint(smtpLn.Addr().(*net.TCPAddr).Port), "--smtp-tls", "none",
			"--smtp-from", "pocdir@kill.test", "--api-rate-limit", "1000000", "--trusted-proxy", "127.0.0.1"}, keys...)
		cmd := exec.Command(bin, args...)
		logf, _ := os.Create(filepath.Join(work, fmt.Sprintf("instance-%d.log", i)))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		if err := waitHealthy("http://" + addr); err != nil {
			return nil, fmt.Errorf("instance %d: %w (see its log)", i, err)
		}
		return &instance{addr: addr, cmd: cmd}, nil
	}
	var instances []*instance
	defer func() {
		for _, in := range instances {
			if in.cmd.ProcessState != nil {
				continue // the one killed
			}
			in.cmd.Process.Signal(syscall.SIGTERM)
			in.cmd.Wait()
		}
	}()
	for i := range 3 {
		in, err := start(i) // the first creates the key files the others read
		if err != nil {
			return err
		}
		instances = append(instances, in)
	}
	front, stopProxy, err := startProxy(proxyName, work, instances)
	if err != nil {
		return err
	}
	defer stopProxy()
	api := &client{base: "http://" + front, http: &http.Client{Timeout: 60 * time.Second}}
	log.Printf("three instances behind %s at %s", proxyName, front)

	// Each State gets a PoC in force, so that communications can reach it.
	for _, s := range states {
		var n struct {
			ID      int64 `json:"id"`
			Version int   `json:"version"`
		}
		if code, err := api.do(tokens[s], "POST", "/api/v1/states/"+s+"/pocs", poc(s, 0), &n); err != nil || code != http.StatusAccepted {
			return fmt.Errorf("proposing %s's PoC: %d %v", s, code, err)
		}
		if code, err := api.do(tokens["UN"], "POST", fmt.Sprintf("/api/v1/nominations/%d/validate", n.ID), map[string]any{"version": n.Version, "reference": "Note verbale No. 1/2026"}, nil); err != nil || code != http.StatusOK {
			return fmt.Errorf("validating %s's PoC: %d %v", s, code, err)
		}
	}

	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()

	// The burst: eight clients; the second instance is killed when a third
	// of the writes were answered.
	var (
		mu          sync.Mutex
		nominations []int64
		comms       []int64
		failed      int
		answered    atomic.Int64
		killOnce    sync.Once
		next        atomic.Int64
	)
	victim := instances[1]
	kill := func() {
		// The instance sending to the mail server now, found by the
		// connection's port: it holds claims on emails.
		if port := mail.sender.Load(); port != 0 {
			for _, in := range instances {
				if owns(in.cmd.Process.Pid, int(port)) {
					victim = in
				}
			}
		}
		log.Printf("SIGKILL to the instance at %s (sending: %v), %d writes in", victim.addr, mail.sender.Load() != 0, answered.Load())
		victim.cmd.Process.Kill()
		victim.cmd.Wait()
	}
	var wg sync.WaitGroup
	defer killOnce.Do(func() {})
	began := time.Now()
	for range 8 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(writes) {
					return
				}
				from := states[i%int64(len(states))]
				var got struct {
					ID int64 `json:"id"`
				}
				var code int
				var err error
				if i%2 == 0 {
					code, err = api.do(tokens[from], "POST", "/api/v1/states/"+from+"/pocs", poc(from, i), &got)
				} else {
					to := states[(i+1)%int64(len(states))]
					code, err = api.do(tokens[from], "POST", "/api/v1/comms", communication(to, i), &got)
				}
				mu.Lock()
				switch {
				case err == nil && code == http.StatusAccepted:
					nominations = append(nominations, got.ID)
				case err == nil && code == http.StatusCreated:
					comms = append(comms, got.ID)
				default:
					failed++ // not acknowledged: the client would try again
				}
				mu.Unlock()
				if answered.Add(1) == int64(writes/3) {
					// The kill waits for the mail server to be receiving, and
					// kills the instance sending: it holds claims on emails.
					go killOnce.Do(func() {
						for mail.receiving.Load() == 0 {
							time.Sleep(time.Millisecond)
						}
						kill()
					})
				}
			}
		})
	}
	wg.Wait()
	killOnce.Do(kill) // if the mail server never got busy during the burst
	var claimed int
	if err := db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND claimed_until IS NOT NULL`).Scan(&claimed); err == nil {
		log.Printf("%d emails claimed for sending when the burst ended (some by the dead instance: they go out when its claim lapses)", claimed)
	}
	log.Printf("burst done in %s: %d nominations and %d communications acknowledged, %d writes not acknowledged (in flight at the kill)",
		time.Since(began).Round(time.Millisecond), len(nominations), len(comms), failed)

	// What was acknowledged is there, read through the proxy.
	lost := 0
	for _, id := range nominations {
		if code, err := api.do(tokens["UN"], "GET", fmt.Sprintf("/api/v1/nominations/%d", id), nil, nil); err != nil || code != http.StatusOK {
			log.Printf("LOST: nomination %d (%d %v)", id, code, err)
			lost++
		}
	}
	for _, id := range comms {
		var status string
		if err := db.QueryRow(`SELECT status FROM comms WHERE id = $1`, id).Scan(&status); err != nil || status != "sent" {
			log.Printf("LOST: communication %d (%q %v)", id, status, err)
			lost++
		}
	}

	// Every email reaches the mail server: the claims of the killed
	// instance lapse after 30 s, and another instance sends what it held.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var queued int
		if err := db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL`).Scan(&queued); err != nil {
			return err
		}
		if queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d emails still queued after three minutes", queued)
		}
		time.Sleep(time.Second)
	}
	rows, err := db.Query(`SELECT id, message_id, failed_at IS NOT NULL FROM outbox`)
	if err != nil {
		return err
	}
	emails, missing, failedMail := 0, 0, 0
	ids := map[string]bool{}
	for rows.Next() {
		var id int64
		var mid string
		var fail bool
		if err := rows.Scan(&id, &mid, &fail); err != nil {
			return err
		}
		emails++
		if fail {
			failedMail++
			continue
		}
		ids[mid] = true
		if mail.count(mid) == 0 {
			log.Printf("LOST: email %d (Message-ID random part %s) marked sent, never received", id, mid)
			missing++
		}
	}
	rows.Close()
	again, strangers := mail.repeats(ids)
	log.Printf("emails: %d in the outbox, %d received by the mail server, %d refused for good, %d received again under the same Message-ID, %d unknown to the outbox",
		emails, mail.total(), failedMail, again, strangers)
	if again > 0 {
		log.Printf("(the emails the killed instance was handing to the mail server at the kill, one per connection, or had handed in the last moments before it: nothing had recorded them as sent, so another instance sent them again, with the same Message-ID, which mail clients show once)")
	}

	// The killed instance's entries committed with their changes but not
	// yet integrated into the tree wait in log_pending: the surviving
	// instances' "log" job integrates them within a second.
	var pending int
	for wait := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if err := db.QueryRow(`SELECT COUNT(*) FROM log_pending`).Scan(&pending); err != nil {
			return err
		}
		if pending == 0 || time.Now().After(wait) {
			break
		}
	}
	var unindexed int
	if err := db.QueryRow(`SELECT COUNT(*) FROM comms WHERE status <> 'draft' AND log_index IS NULL`).Scan(&unindexed); err != nil {
		return err
	}
	log.Printf("log: %d entries waiting to be integrated ten seconds on, %d sent communications without their entry's index", pending, unindexed)

	out, err := pocdir("", append([]string{"audit", "check", "--db", dbURL}, keys[:4]...)...)
	log.Printf("audit check: %s", lastLine(out))
	var problems []string
	if err != nil {
		problems = append(problems, "audit check failed: "+err.Error())
	}
	if pending > 0 || unindexed > 0 {
		problems = append(problems, fmt.Sprintf("%d log entries never integrated, %d communications without their index", pending, unindexed))
	}
	if lost > 0 {
		problems = append(problems, fmt.Sprintf("%d acknowledged writes lost", lost))
	}
	if missing > 0 || failedMail > 0 || strangers > 0 {
		problems = append(problems, fmt.Sprintf("%d emails lost, %d refused, %d unknown", missing, failedMail, strangers))
	}
	if len(nominations)+len(comms) < writes/2 {
		problems = append(problems, fmt.Sprintf("only %d of %d writes acknowledged: the proxy did not move to the live instances", len(nominations)+len(comms), writes))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// owns reports whether the process pid has a TCP connection from the local
// port (Linux: its socket's inode in /proc/net/tcp among its descriptors).
func owns(pid, port int) bool {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return false
	}
	inode := ""
	want := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 9 && strings.HasSuffix(f[1], want) {
			inode = f[9]
			break
		}
	}
	if inode == "" {
		return false
	}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && target == "socket:["+inode+"]" {
			return true
		}
	}
	return false
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// freshDatabase drops and creates the test's database on the server of
// adminURL and returns its URL.
func freshDatabase(adminURL, name string) (string, error) {
	db, err := sql.Open("pgx", adminURL)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
		return "", fmt.Errorf("dropping %s: %w", name, err)
	}
	if _, err := db.Exec(`CREATE DATABASE ` + name); err != nil {
		return "", fmt.Errorf("creating %s: %w", name, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(base string) error {
	for range 240 {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return errors.New("no answer on /healthz within a minute")
}

// startProxy runs haproxy or nginx in front of the instances, with health
// checks (haproxy) or passive failure detection (nginx), retrying a request
// on another instance only when the connection failed: a POST that an
// instance may have received is never sent twice.
func startProxy(name, work string, instances []*instance) (string, func(), error) {
	bin, err := exec.LookPath(name)
	if err != nil {
		return "", nil, fmt.Errorf("%s is not installed (apt-get install %s)", name, name)
	}
	front := freeAddr()
	var cfg, path string
	var cmd *exec.Cmd
	switch name {
	case "haproxy":
		var servers strings.Builder
		for i, in := range instances {
			fmt.Fprintf(&servers, "  server p%d %s check inter 500ms fall 2 rise 2\n", i, in.addr)
		}
		cfg = fmt.Sprintf(`global
  log stderr format raw local0 err
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  retries 3
  option redispatch
frontend in
  bind %s
  option forwardfor
  default_backend pocdir
backend pocdir
  balance roundrobin
  option httpchk GET /healthz
%s`, front, servers.String())
		path = filepath.Join(work, "haproxy.cfg")
		cmd = exec.Command(bin, "-f", path, "-db")
	case "nginx":
		var servers strings.Builder
		for _, in := range instances {
			fmt.Fprintf(&servers, "    server %s max_fails=1 fail_timeout=10s;\n", in.addr)
		}
		cfg = fmt.Sprintf(`pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log;
daemon off;
events {}
http {
  access_log off;
  client_body_temp_path %[1]s;
  proxy_temp_path %[1]s;
  fastcgi_temp_path %[1]s;
  uwsgi_temp_path %[1]s;
  scgi_temp_path %[1]s;
  upstream pocdir {
%[3]s  }
  server {
    listen %[2]s;
    location / {
      proxy_pass http://pocdir;
      proxy_next_upstream error timeout;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header Host $host;
    }
  }
}
`, work, front, servers.String())
		path = filepath.Join(work, "nginx.conf")
		cmd = exec.Command(bin, "-c", path, "-p", work)
	default:
		return "", nil, fmt.Errorf("-proxy %s: haproxy or nginx", name)
	}
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return "", nil, err
	}
	logf, _ := os.Create(filepath.Join(work, name+".log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	if err := waitHealthy("http://" + front); err != nil {
		stop()
		return "", nil, fmt.Errorf("%s: %w", name, err)
	}
	return front, stop, nil
}

// client calls the API through the proxy.
type client struct {
	base string
	http *http.Client
}

func (c *client) do(token, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 && resp.StatusCode != http.StatusBadGateway && resp.StatusCode != http.StatusServiceUnavailable {
		return resp.StatusCode, fmt.Errorf("%s %s: %s", method, path, bytes.TrimSpace(b))
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func poc(state string, i int64) map[string]any {
	return map[string]any{"level": "technical", "agency": fmt.Sprintf("%s national CERT %d", state, i), "function_title": "Duty officer",
		"channels":  []map[string]any{{"kind": "email", "value": fmt.Sprintf("cert%d@%s.kill.test", i, strings.ToLower(state)), "preferred": true}},
		"languages": []string{"en"}, "time_zone": "UTC", "available_24_7": true}
}

func communication(to string, i int64) map[string]any {
	return map[string]any{"template": "notification", "to_states": []string{to}, "level": "technical", "fields": map[string]string{
		"subject": fmt.Sprintf("Kill test %d", i), "urgency": "high", "tlp": "TLP:AMBER", "description": "Scanning of our networks."}}
}

// sink is the mail server: it counts each message by the random part of
// its Message-ID (what the outbox keeps).
type sink struct {
	delay     time.Duration
	receiving atomic.Int32 // messages being received now
	sender    atomic.Int32 // the client port of one of them
	mu        sync.Mutex
	seen      map[string]int
	all       int
}

func (s *sink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	port := 0
	if a, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		port = a.Port
	}
	return &session{s: s, port: port}, nil
}

func (s *sink) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[id]
}

func (s *sink) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all
}

// repeats counts the messages received more than once, and those whose
// Message-ID the outbox does not know.
func (s *sink) repeats(known map[string]bool) (again, strangers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.seen {
		if !known[id] {
			strangers++
		}
		again += n - 1
	}
	return again, strangers
}

type session struct {
	s    *sink
	port int
}

func (*session) Reset()                               {}
func (*session) Logout() error                        { return nil }
func (*session) Mail(string, *smtp.MailOptions) error { return nil }
func (*session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x *session) Data(r io.Reader) error {
	x.s.sender.Store(int32(x.port))
	x.s.receiving.Add(1)
	defer x.s.receiving.Add(-1)
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	time.Sleep(x.s.delay)
	id := ""
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Message-ID: <"); ok {
			id, _, _ = strings.Cut(v, "@")
			break
		}
		if line == "\r\n" || line == "\n" {
			break
		}
	}
	x.s.mu.Lock()
	x.s.seen[id]++
	x.s.all++
	x.s.mu.Unlock()
	return nil
}
