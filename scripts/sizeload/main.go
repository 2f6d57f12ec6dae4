// Command sizeload measures pocdir on a database that `pocdir demo` wrote
// (plain, --full, or --scale F for ten years of history), as an operator
// would run it: `pocdir serve` on that database, driven over HTTP from
// outside the process. It reports, for issue 19 §4's comparison of the
// demonstration database with a full-size one:
//
//   - start-up: the time from starting `pocdir serve` to its first answer
//     on /readyz, over several starts (the median and the longest);
//
//   - each page and API route that could grow with the years (the routes of
//     BenchmarkRoutes in internal/web): requests per second, p50 and p99 over
//     -c concurrent clients for -d each, signed in through the login pages
//     (password and TOTP) or with an API token, as the demo's accounts;
//     its first request alone, before that load (the cold one, after
//     start-up or after the other routes); and, with -warm D, the load
//     measured after D of the same load unmeasured, so that its p99 is
//     the warm one;
//
//   - the resident memory of `pocdir serve` under that load: each route's
//     peak (VmHWM, set back before each route), the peak over all routes
//     and the last sample;
//
//   - `pocdir audit check`: its time, and its tree hashes per second as a
//     ratio of the raw speed of hashing Merkle nodes on one goroutine,
//     measured by this command on the same machine just before.
//
//     go build -o /tmp/pocdir ./cmd/pocdir
//     /tmp/pocdir demo --scale 1 --data-dir /data/full   # stop it once it serves
//     go run ./scripts/sizeload -pocdir /tmp/pocdir -data-dir /data/full
//     go run ./scripts/sizeload -pocdir /tmp/pocdir -data-dir /data/full -routes 'inbox|comms' -starts 1 -skip-check
//
// The database is used as it is: the command writes only what serving and
// signing in write (sessions, two read tokens that expire in a day, rate
// counts).
package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/demo"
)

func main() {
	bin := flag.String("pocdir", "", "the pocdir binary (default: go build ./cmd/pocdir into a temporary directory)")
	dataDir := flag.String("data-dir", "", "the demo's data directory (its key files, and its SQLite database unless -db)")
	dbURL := flag.String("db", "", "the database, when not the SQLite one in -data-dir (postgres://…)")
	conc := flag.Int("c", 8, "concurrent clients per route")
	dur := flag.Duration("d", 5*time.Second, "how long each route is driven")
	starts := flag.Int("starts", 5, "how many times start-up is measured")
	skipCheck := flag.Bool("skip-check", false, "do not run pocdir audit check")
	warm := flag.Duration("warm", 0, "how long each route is driven, unmeasured, before it is measured (its first request, cold, is reported apart)")
	only := flag.String("routes", "", "drive only the routes whose path and account (as \"/log sec\") match this regular expression")
	flag.Parse()
	log.SetFlags(log.Ltime)
	if *dataDir == "" {
		log.Fatal("-data-dir is required: the directory `pocdir demo --data-dir` wrote")
	}
	match, err := regexp.Compile(*only)
	if err != nil {
		log.Fatalf("-routes: %v", err)
	}
	if err := run(*bin, *dataDir, *dbURL, *conc, *dur, *warm, *starts, *skipCheck, match); err != nil {
		log.Fatalf("FAIL: %v", err)
	}
}

type server struct {
	cmd  *exec.Cmd
	base string
	log  *os.File
}

func run(bin, dataDir, dbURL string, conc int, dur, warm time.Duration, starts int, skipCheck bool, match *regexp.Regexp) error {
	if bin == "" {
		tmp, err := os.MkdirTemp("", "sizeload")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		bin = filepath.Join(tmp, "pocdir")
		build := exec.Command("go", "build", "-o", bin, "./cmd/pocdir")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	}
	if dbURL == "" {
		dbURL = "sqlite:" + filepath.Join(dataDir, "pocdir.db")
	}
	keys := []string{"--log-key", filepath.Join(dataDir, "pocdir-log.key"), "--data-key", filepath.Join(dataDir, "pocdir-data.key"),
		"--openpgp-key", filepath.Join(dataDir, "pocdir-openpgp.key")}

	fmt.Printf("database: %s\n", dbURL)
	if fi, err := os.Stat(strings.TrimPrefix(dbURL, "sqlite:")); err == nil {
		fmt.Printf("database file: %.1f MB\n", float64(fi.Size())/1e6)
	}

	// Start-up, several times: the first start after a generation may
	// integrate or checkpoint what the generator left.
	var ups []time.Duration
	for i := range starts {
		s, took, err := start(bin, dbURL, keys)
		if err != nil {
			return err
		}
		s.stop()
		ups = append(ups, took)
		log.Printf("start %d: serving after %v", i+1, took.Round(time.Millisecond))
	}
	slices.Sort(ups)
	fmt.Printf("start-up (to the first answer of /readyz), %d starts: median %v, longest %v\n", len(ups),
		ups[len(ups)/2].Round(time.Millisecond), ups[len(ups)-1].Round(time.Millisecond))

	s, _, err := start(bin, dbURL, keys)
	if err != nil {
		return err
	}
	defer s.stop()
	secWeb, err := signIn(s.base, "secretariat@demo.pocdir.example")
	if err != nil {
		return err
	}
	offWeb, err := signIn(s.base, "officer@fra.demo.pocdir.example")
	if err != nil {
		return err
	}
	secTok, err := token(bin, dbURL, "secretariat@demo.pocdir.example")
	if err != nil {
		return err
	}
	offTok, err := token(bin, dbURL, "officer@fra.demo.pocdir.example")
	if err != nil {
		return err
	}
	commID, err := firstID(s.base+"/api/v1/comms", offTok, "communications")
	if err != nil {
		return err
	}
	checkID, err := firstID(s.base+"/api/v1/checks", secTok, "campaigns")
	if err != nil {
		return err
	}
	type route struct {
		path   string
		client *http.Client
		token  string
		who    string
	}
	routes := []route{
		{"/inbox", offWeb, "", "off"},
		{"/directory", offWeb, "", "off"},
		{"/states/FRA", offWeb, "", "off"},
		{"/states/FRA/history", offWeb, "", "off"},
		{"/comms", offWeb, "", "off"},
		{"/dashboard", secWeb, "", "sec"},
		{"/log", secWeb, "", "sec"},
		{"/log", offWeb, "", "off"},
		{"/checks", secWeb, "", "sec"},
		{"/users", secWeb, "", "sec"},
		{"/admin/outbox", secWeb, "", "sec"},
		{"/api/v1/status", nil, offTok, "off"},
		{"/api/v1/inbox", nil, offTok, "off"},
		{"/api/v1/states/FRA", nil, offTok, "off"},
		{"/api/v1/comms", nil, offTok, "off"},
		{"/api/v1/checks", nil, secTok, "sec"},
		{"/api/v1/log/entries", nil, offTok, "off"},
		{"/api/v1/log/checkpoint", nil, offTok, "off"},
	}
	if commID != "" {
		routes = append(routes, route{"/comms/" + commID, offWeb, "", "off"}, route{"/api/v1/comms/" + commID + "/thread", nil, offTok, "off"})
	}
	if checkID != "" {
		routes = append(routes, route{"/checks/" + checkID, secWeb, "", "sec"}, route{"/api/v1/checks/" + checkID, nil, secTok, "sec"})
	}

	var peak, last int64
	stopRSS := make(chan struct{})
	var rssDone sync.WaitGroup
	rssDone.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopRSS:
				return
			case <-t.C:
				if r, hwm, err := rss(s.cmd.Process.Pid); err == nil {
					last, peak = r, max(peak, hwm)
				}
			}
		}
	})
	fmt.Printf("\n%d clients per route, %v each after %v unmeasured; the route's first request alone (first ms), before those; the peak resident memory of each route's load\n\n| route | as | first ms | requests/s | p50 ms | p99 ms | peak MB |\n| --- | --- | --- | --- | --- | --- | --- |\n", conc, dur, warm)
	for _, rt := range routes {
		if !match.MatchString(rt.path + " " + rt.who) {
			continue
		}
		// The kernel's peak (VmHWM) starts again from the present size.
		resetPeak(s.cmd.Process.Pid)
		c := rt.client
		if c == nil {
			c = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
		}
		t0 := time.Now()
		if err := fetch(c, s.base+rt.path, rt.token); err != nil {
			return fmt.Errorf("%s: %w", rt.path, err)
		}
		first := time.Since(t0)
		if warm > 0 {
			if _, _, _, err := drive(c, s.base+rt.path, rt.token, conc, warm); err != nil {
				return fmt.Errorf("%s: %w", rt.path, err)
			}
		}
		n, p50, p99, err := drive(c, s.base+rt.path, rt.token, conc, dur)
		if err != nil {
			return fmt.Errorf("%s: %w", rt.path, err)
		}
		_, hwm, _ := rss(s.cmd.Process.Pid)
		fmt.Printf("| `%s` | %s | %.1f | %.0f | %.1f | %.1f | %d |\n", rt.path, rt.who, ms(first), float64(n)/dur.Seconds(), ms(p50), ms(p99), hwm>>10)
	}
	close(stopRSS)
	rssDone.Wait()
	fmt.Printf("\nresident memory of pocdir serve under this load: peak %d MB, last %d MB\n", peak>>10, last>>10)
	s.stop()

	if skipCheck {
		return nil
	}
	raw := rawRate()
	t0 := time.Now()
	out, err := exec.Command(bin, append([]string{"audit", "check", "--db", dbURL}, keys[:4]...)...).CombinedOutput()
	took := time.Since(t0)
	fmt.Printf("\n%s", out)
	if err != nil {
		return fmt.Errorf("audit check: %w", err)
	}
	m := regexp.MustCompile(`(\d+) entries, (\d+) tree hashes.* \(the log in ([^,]+), the content in ([^)]+)\)`).FindSubmatch(out)
	if m == nil {
		return errors.New("audit check: no count of tree hashes and times in its output")
	}
	hashes, _ := strconv.ParseFloat(string(m[2]), 64)
	tree, err := time.ParseDuration(string(m[3]))
	if err != nil || tree <= 0 {
		return fmt.Errorf("audit check: the log's time %q: %v", m[3], err)
	}
	rate := hashes / tree.Seconds()
	fmt.Printf("audit check: %v for %s entries (the process, from start to exit; the log %v, the content %s); %.2f M tree hashes/s over the log's time; raw SHA-256 of 65-byte nodes on one goroutine here: %.2f M/s; ratio %.2f\n",
		took.Round(time.Millisecond), m[1], tree, m[4], rate/1e6, raw/1e6, rate/raw)
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// start runs pocdir serve on a free port and waits for /readyz.
func start(bin, dbURL string, keys []string) (*server, time.Duration, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	addr := l.Addr().String()
	l.Close()
	lf, err := os.CreateTemp("", "sizeload-serve-*.log")
	if err != nil {
		return nil, 0, err
	}
	args := append([]string{"serve", "--db", dbURL, "--addr", addr, "--log-level", "warn", "--api-rate-limit", "1000000000"}, keys...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	s := &server{cmd: cmd, base: "http://" + addr, log: lf}
	c := &http.Client{Timeout: time.Second}
	for time.Since(t0) < 2*time.Minute {
		resp, err := c.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, time.Since(t0), nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.stop()
	b, _ := os.ReadFile(lf.Name())
	return nil, 0, fmt.Errorf("pocdir serve did not answer /readyz in two minutes:\n%s", b)
}

func (s *server) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
	s.log.Close()
	os.Remove(s.log.Name())
}

// signIn signs a demo account in through the login pages, as a browser
// does, and returns a client holding its session.
func signIn(base, email string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var secret string
	for _, a := range demo.Accounts {
		if a.Email == email {
			secret = a.TOTPSecret
		}
	}
	form := account.NewFormSecret()
	u, _ := url.Parse(base)
	jar.SetCookies(u, []*http.Cookie{{Name: "pocdir_form", Value: form, Path: "/"}})
	loc, err := post(c, base+"/login", account.FormToken(form), url.Values{"email": {email}, "password": {demo.Password}})
	if err != nil || loc != "/login/totp" {
		return nil, fmt.Errorf("sign-in of %s: %v (to %q)", email, err, loc)
	}
	// A code is refused once used: a second run within its thirty
	// seconds waits for the next.
	for range 3 {
		code, _ := account.TOTPCode(secret, time.Now())
		var tok string
		for _, ck := range jar.Cookies(u) {
			if strings.HasSuffix(ck.Name, "pocdir_session") {
				tok = account.FormToken(ck.Value)
			}
		}
		if loc, err = post(c, base+"/login/totp", tok, url.Values{"code": {code}}); err == nil && loc == "/inbox" {
			return c, nil
		}
		time.Sleep(31 * time.Second)
	}
	return nil, fmt.Errorf("second factor of %s: %v (to %q)", email, err, loc)
}

func post(c *http.Client, u, csrf string, v url.Values) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader("csrf="+csrf+"&"+v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	return resp.Header.Get("Location"), nil
}

// token makes a read token for a demo account with pocdir's own command.
func token(bin, dbURL, email string) (string, error) {
	out, err := exec.Command(bin, "token", "create", "--db", dbURL, "--email", email, "--name", "sizeload", "--days", "1").Output()
	if err != nil {
		return "", fmt.Errorf("token create for %s: %w", email, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// firstID reads the id of the first item a list route returns (a
// communication of the officer's State, a check campaign), or "" if none.
func firstID(u, tok, field string) (string, error) {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: status %d", u, resp.StatusCode)
	}
	var items []struct {
		ID int64 `json:"id"`
	}
	b, _ := io.ReadAll(resp.Body)
	if field != "" {
		var page map[string]json.RawMessage
		if err := json.Unmarshal(b, &page); err != nil {
			return "", fmt.Errorf("%s: %w", u, err)
		}
		b = page[field]
	}
	if err := json.Unmarshal(b, &items); err != nil {
		return "", fmt.Errorf("%s: %w", u, err)
	}
	if len(items) == 0 {
		return "", nil
	}
	return strconv.FormatInt(items[0].ID, 10), nil
}

// drive requests u from conc clients for d and returns the count and the
// p50 and p99 of the latencies. Anything but a 200 is an error: the figure
// would not be the route's.
func drive(c *http.Client, u, tok string, conc int, d time.Duration) (int, time.Duration, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var first error
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			var mine []time.Duration
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := fetch(c, u, tok); err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if first != nil {
		return 0, 0, 0, first
	}
	if len(lat) == 0 {
		return 0, 0, 0, errors.New("no request finished")
	}
	slices.Sort(lat)
	return len(lat), lat[len(lat)/2], lat[(len(lat)*99)/100], nil
}

// fetch requests u once, as a client of the route would; anything but a
// 200 is an error.
func fetch(c *http.Client, u, tok string) error {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// rss reads a process's resident memory and its peak, in KB.
// resetPeak sets a process's peak resident memory (VmHWM) back to its
// present size (Linux's clear_refs, value 5).
func resetPeak(pid int) {
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

func rss(pid int) (int64, int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var cur, hwm int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			cur = n
		case "VmHWM":
			hwm = n
		}
	}
	return cur, hwm, sc.Err()
}

// rawRate is the speed of hashing Merkle nodes (SHA-256 of 65 bytes, each
// node the hash of the two before it) on one goroutine: the yardstick of
// the verification's budget, as BenchmarkRawSHA256Node in
// internal/auditlog measures it.
func rawRate() float64 {
	var buf [1 + 2*sha256.Size]byte
	buf[0] = 0x01
	best := 0.0
	for range 3 {
		const n = 2_000_000
		t0 := time.Now()
		for range n {
			h := sha256.Sum256(buf[:])
			copy(buf[1:], buf[1+sha256.Size:])
			copy(buf[1+sha256.Size:], h[:])
		}
		best = max(best, n/time.Since(t0).Seconds())
	}
	return best
}
