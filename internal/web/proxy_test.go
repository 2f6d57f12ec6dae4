package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestBehindRealProxies runs pocdir behind haproxy ("option forwardfor",
// which appends its own X-Forwarded-For line) and nginx
// ($proxy_add_x_forwarded_for, which appends to the line), both trusted,
// and signs in wrongly from 127.0.0.2 with a forged X-Forwarded-For: the
// failure counts against 127.0.0.2, never against the forged address.
// Skipped where the proxies are not installed, unless
// POCDIR_REQUIRE_PROXIES=1 (CI installs them).
func TestBehindRealProxies(t *testing.T) {
	for _, proxy := range []string{"haproxy", "nginx"} {
		t.Run("behind "+proxy+" a forged X-Forwarded-For is not believed", func(t *testing.T) {
			bin, err := exec.LookPath(proxy)
			if err != nil {
				for _, p := range []string{"/usr/sbin/" + proxy} {
					if _, err := os.Stat(p); err == nil {
						bin = p
					}
				}
			}
			if bin == "" {
				if os.Getenv("POCDIR_REQUIRE_PROXIES") == "1" {
					t.Fatalf("%s is not installed", proxy)
				}
				t.Skipf("%s is not installed", proxy)
			}
			sys := testkit.New(t, testkit.Engines()[0], testkit.WithConfig(func(c *system.Config) {
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			}))
			srv := sys.Serve(t)
			backend := strings.TrimPrefix(srv.URL, "http://")
			front := freePort(t)
			dir := t.TempDir()
			var cmd *exec.Cmd
			switch proxy {
			case "haproxy":
				cfg := fmt.Sprintf(`global
  log stderr format raw local0 err
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend in
  bind 127.0.0.1:%d
  option forwardfor
  default_backend pocdir
backend pocdir
  server p %s
`, front, backend)
				path := filepath.Join(dir, "haproxy.cfg")
				os.WriteFile(path, []byte(cfg), 0o600)
				cmd = exec.Command(bin, "-f", path, "-db")
			case "nginx":
				cfg := fmt.Sprintf(`pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
daemon off;
events {}
http {
  access_log off;
  client_body_temp_path %[1]s;
  proxy_temp_path %[1]s;
  fastcgi_temp_path %[1]s;
  uwsgi_temp_path %[1]s;
  scgi_temp_path %[1]s;
  server {
    listen 127.0.0.1:%[2]d;
    location / {
      proxy_pass http://%[3]s;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`, dir, front, backend)
				path := filepath.Join(dir, "nginx.conf")
				os.WriteFile(path, []byte(cfg), 0o600)
				cmd = exec.Command(bin, "-c", path, "-p", dir)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			// The client connects from 127.0.0.2, which is not a proxy.
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{
				LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			frontURL := fmt.Sprintf("http://127.0.0.1:%d", front)
			var resp *http.Response
			for i := 0; i < 50; i++ {
				secret := account.NewFormSecret()
				req, _ := http.NewRequest("POST", frontURL+"/login", strings.NewReader(url.Values{"csrf": {account.FormToken(secret)},
					"email": {"nobody@example.org"}, "password": {"wrong password"}}.Encode()))
				req.AddCookie(&http.Cookie{Name: "pocdir_form", Value: secret})
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				req.Header.Set("X-Forwarded-For", "203.0.113.66")
				if resp, err = client.Do(req); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("through %s: %v", proxy, err)
			}
			resp.Body.Close()
			keys := map[string]bool{}
			rows, err := sys.DB.QueryContext(context.Background(), `SELECT key FROM login_throttle`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k string
				rows.Scan(&k)
				keys[k] = true
			}
			rows.Close()
			if !keys["ip:127.0.0.2"] || keys["ip:203.0.113.66"] || keys["ip:127.0.0.1"] {
				t.Errorf("status %d; failures counted against %v, want ip:127.0.0.2", resp.StatusCode, keys)
			}
		})
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
