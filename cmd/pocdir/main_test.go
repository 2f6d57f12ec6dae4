package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/system"
)

// withStdin runs f with standard input reading s, capturing standard output.
func withStdin(t *testing.T, s string, f func() error) (string, error) {
	t.Helper()
	in, _ := os.CreateTemp(t.TempDir(), "stdin")
	in.WriteString(s)
	in.Seek(0, 0)
	out, _ := os.CreateTemp(t.TempDir(), "stdout")
	oldIn, oldOut := os.Stdin, os.Stdout
	os.Stdin, os.Stdout = in, out
	err := f()
	os.Stdin, os.Stdout = oldIn, oldOut
	out.Seek(0, 0)
	b, _ := io.ReadAll(out)
	return string(b), err
}

func TestAdministrationCommands(t *testing.T) {
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	if _, err := withStdin(t, "", func() error { return runMigrate([]string{"--db", dbURL}) }); err != nil {
		t.Fatal(err)
	}
	t.Run("user create takes the password from standard input", func(t *testing.T) {
		out, err := withStdin(t, "a long password for ops\n", func() error {
			return runUser([]string{"create", "--db", dbURL, "--email", "ops@un.example", "--role", "secretariat"})
		})
		if err != nil || !strings.Contains(out, "Created ops@un.example") {
			t.Fatalf("%q %v", out, err)
		}
	})
	t.Run("user create names the wrong flag", func(t *testing.T) {
		_, err := withStdin(t, "a long password for ops\n", func() error {
			return runUser([]string{"create", "--db", dbURL, "--email", "x@fra.example", "--role", "officer", "--state", "XXX"})
		})
		if err == nil || !strings.Contains(err.Error(), "--state") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("user create refuses a short password", func(t *testing.T) {
		_, err := withStdin(t, "short\n", func() error {
			return runUser([]string{"create", "--db", dbURL, "--email", "y@fra.example", "--role", "officer", "--state", "FRA"})
		})
		if err == nil || !strings.Contains(err.Error(), "--password") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("user invite prints a one-time link", func(t *testing.T) {
		out, err := withStdin(t, "", func() error {
			return runUser([]string{"invite", "--db", dbURL, "--email", "fp@fra.example", "--role", "focal-point", "--state", "FRA", "--base-url", "https://pocdir.example.org"})
		})
		if err != nil || !strings.Contains(out, "https://pocdir.example.org/invite/pdi_") {
			t.Errorf("%q %v", out, err)
		}
	})
	var token string
	t.Run("token create prints a token once", func(t *testing.T) {
		out, err := withStdin(t, "", func() error {
			return runToken([]string{"create", "--db", dbURL, "--email", "ops@un.example", "--name", "national system"})
		})
		token = strings.TrimSpace(out)
		if err != nil || !strings.HasPrefix(token, "pdt_") {
			t.Fatalf("%q %v", out, err)
		}
	})
	t.Run("serve answers health checks and the API with the token, then shuts down", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		sys, err := system.Open(ctx, system.Config{DB: dbURL, LogOrigin: "pocdir.test/log"})
		if err != nil {
			t.Fatal(err)
		}
		defer sys.DB.Close()
		addrc := make(chan string, 1)
		done := make(chan error, 1)
		free, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		metricsAddr := free.Addr().String()
		free.Close()
		go func() {
			done <- serve(ctx, sys, serveConfig{addr: "127.0.0.1:0", metricsAddr: metricsAddr}, func(a string) { addrc <- a })
		}()
		addr := <-addrc
		for _, p := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get("http://" + addr + p)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s: %v %v", p, resp, err)
			}
			resp.Body.Close()
		}
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/states/FRA", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"name":"France"`) {
			t.Errorf("API: %d %s", resp.StatusCode, b)
		}
		// The metrics' own address serves them without a token, and
		// nothing else; the public address does not serve them at all.
		resp, err = http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `pocdir_http_requests_total{code="200",route="GET /api/v1/states/{code}"} 1`) {
			t.Errorf("metrics address: %d %s", resp.StatusCode, b)
		}
		for _, u := range []string{"http://" + metricsAddr + "/healthz", "http://" + addr + "/metrics"} {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 || strings.Contains(string(b), "pocdir_") {
				t.Errorf("%s: %d", u, resp.StatusCode)
			}
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("shutdown: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("no graceful shutdown")
		}
	})
}

func TestFlagsFallBackToEnvironment(t *testing.T) {
	t.Setenv("POCDIR_ADDR", "127.0.0.1:9999")
	f := newFlags("serve", "")
	addr := f.String("addr", "127.0.0.1:8080", "address")
	if err := f.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if *addr != "127.0.0.1:9999" {
		t.Errorf("got %s", *addr)
	}
	f2 := newFlags("serve", "")
	addr2 := f2.String("addr", "x", "address")
	f2.Parse([]string{"--addr", "127.0.0.1:1"})
	if *addr2 != "127.0.0.1:1" {
		t.Errorf("the flag did not win over the environment: %s", *addr2)
	}
}

// TestMetricsTokenFile reads the token from its file and refuses a short one.
func TestMetricsTokenFile(t *testing.T) {
	dir := t.TempDir()
	short, long := filepath.Join(dir, "short"), filepath.Join(dir, "long")
	os.WriteFile(short, []byte("tooshort\n"), 0o600)
	os.WriteFile(long, []byte(strings.Repeat("ab", 20)+"\n"), 0o600)
	dbURL := "sqlite:" + filepath.Join(dir, "p.db")
	if err := runServe([]string{"--db", dbURL, "--metrics-token-file", short, "--log-level", "error"}); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("a short token: %v", err)
	}
	if err := runServe([]string{"--db", dbURL, "--metrics-token-file", filepath.Join(dir, "none"), "--log-level", "error"}); err == nil || !strings.Contains(err.Error(), "metrics token") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestSMTPConnections refuses a number of connections to the mail server
// outside 1 to notify.MaxConnections, before opening anything.
func TestSMTPConnections(t *testing.T) {
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	for _, n := range []string{"0", "-1", "33"} {
		err := runServe([]string{"--db", dbURL, "--smtp-connections", n, "--log-level", "error"})
		if err == nil || !strings.Contains(err.Error(), "--smtp-connections "+n+": give 1 to 32") {
			t.Errorf("--smtp-connections %s: %v", n, err)
		}
	}
}

// TestVersion says which pocdir this is, with the Go it was built with.
func TestVersion(t *testing.T) {
	if v := versionLine(); !strings.HasPrefix(v, "pocdir ") || !strings.Contains(v, "commit ") || !strings.Contains(v, "go1.") {
		t.Errorf("version %q", v)
	}
}

// TestMemoryLimit: the flag sets the runtime's soft limit, GOMEMLIMIT
// wins over it, 0 sets none, and a negative number is refused.
func TestMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	// Without GOMEMLIMIT, whatever this run's environment says (t.Setenv
	// puts it back afterwards).
	t.Setenv("GOMEMLIMIT", "")
	os.Unsetenv("GOMEMLIMIT")
	if err := setMemoryLimit(40); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 40<<20 {
		t.Fatalf("limit %d, want %d", got, 40<<20)
	}
	debug.SetMemoryLimit(before)
	if err := setMemoryLimit(0); err != nil || debug.SetMemoryLimit(-1) != before {
		t.Fatalf("0 changed the limit (%v)", err)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	if err := setMemoryLimit(40); err != nil || debug.SetMemoryLimit(-1) != before {
		t.Fatalf("the flag overrode GOMEMLIMIT (%v)", err)
	}
	if err := setMemoryLimit(-1); err == nil || !strings.Contains(err.Error(), "--memory-limit-mib") {
		t.Fatalf("a negative limit: %v", err)
	}
}
