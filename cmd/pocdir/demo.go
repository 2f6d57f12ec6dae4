package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/pocdir/pocdir/internal/demo"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/system"
)

func runDemo(args []string) error {
	f := newFlags("demo", "[--addr HOST:PORT] [--data-dir DIR] [--db postgres://…] [--full] [--scale F]")
	addr := f.String("addr", "127.0.0.1:8080", "address to listen on (HOST:PORT)")
	dataDir := f.String("data-dir", "demo-data", "directory for the demo's SQLite database and key files (created if missing)")
	dbURL := f.Local("db", "", "another database for the demonstration, e.g. postgres://postgres@127.0.0.1/pocdir_demo (empty: SQLite in --data-dir); filled with the demonstration data when it has none")
	full := f.Bool("full", false, "give every UN Member State four fictional PoCs (the data set of load tests); only when the data directory is new")
	scaleFlag := f.Local("scale", "0", "also write ten years of a busy directory at F times full size (1: a million communications, about ten million log entries; 0.01 for a try); implies --full; only when the data directory is new")
	if err := f.Parse(args); err != nil {
		return err
	}
	scale, err := strconv.ParseFloat(*scaleFlag, 64)
	if err != nil || scale < 0 || scale > 10 {
		return fmt.Errorf("--scale %q: a number from 0 to 10, such as 1 or 0.01", *scaleFlag)
	}
	setupLog("text", "info")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return err
	}
	// The demo's email goes to a mail catcher inside the program, shown at
	// /demo/mail: a newcomer sees it without configuring a mail server.
	catcher, err := notify.StartCatcher("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer catcher.Close()
	// What the mailbox showed is there again after a restart.
	catcher.File = filepath.Join(*dataDir, "mailbox.jsonl")
	if err := catcher.Load(); err != nil {
		return fmt.Errorf("the demo's mailbox: %w", err)
	}
	// Passkeys need a domain name (WebAuthn refuses an address): on this
	// machine the demo calls itself localhost.
	base := "http://" + localName(*addr)
	database := *dbURL
	if database == "" {
		database = "sqlite:" + filepath.Join(*dataDir, "pocdir.db")
	}
	sys, err := system.Open(ctx, system.Config{DB: database, LogOrigin: "pocdir.demo/log",
		LogKeyFile: filepath.Join(*dataDir, system.LogKeyName), DataKeyFile: filepath.Join(*dataDir, system.DataKeyName),
		OpenPGPKeyFile: filepath.Join(*dataDir, system.OpenPGPKeyName),
		BaseURL:        base, Demo: true, Catcher: catcher,
		SMTP: notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir-demo@localhost", TLS: "none"},
		// Replies by email come to pocdir's own SMTP listener, on a free
		// port of this machine: printDemo says which, and how to reply.
		ReplyAddress: "reply@reply.localhost", InboundSMTPAddr: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	defer sys.Close()
	seeded, err := demo.Seeded(ctx, sys.Accounts)
	if err != nil {
		return err
	}
	if !seeded {
		if err := demo.Seed(ctx, sys.Directory, sys.Accounts, *full || scale > 0); err != nil {
			return err
		}
		if err := demo.SeedChecks(ctx, sys.Checks); err != nil {
			return err
		}
		if err := demo.SeedComms(ctx, sys.Comms, sys.Accounts); err != nil {
			return err
		}
		if err := demo.SeedCII(ctx, sys.CII); err != nil {
			return err
		}
		if err := demo.SeedRegional(ctx, sys.Regional, sys.Directory); err != nil {
			return err
		}
		if err := demo.SeedCapacity(ctx, sys.Capacity); err != nil {
			return err
		}
		if err := demo.SeedExercises(ctx, sys.Exercises, sys.Comms, sys.Capacity); err != nil {
			return err
		}
		if err := demo.SeedScale(ctx, sys.Comms, sys.Checks, scale); err != nil {
			return err
		}
		if scale > 0 {
			// The planner's statistics of the tables just filled: until
			// autovacuum gets to them (never, where it is off), PostgreSQL
			// plans a State's lists on empty tables' figures and reads
			// millions of rows for each (8 s for France's communications at
			// full size). SQLite's plans need none.
			slog.Info("gathering the planner's statistics (ANALYZE)")
			if err := sys.DB.Analyze(ctx); err != nil {
				return err
			}
		}
	}
	inbound := sys.InboundSMTP.Addr().String()
	return serve(ctx, sys, serveConfig{addr: *addr}, func(a string) { printDemo(localName(a), inbound) })
}

// localName is addr with a loopback address written localhost.
func localName(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return net.JoinHostPort("localhost", port)
	}
	return addr
}

func printDemo(addr, inbound string) {
	fmt.Printf(`
pocdir demo: http://%s/  (all data is fictional)

Sign in with one of these accounts. The password of each is %q.
The second factor is a TOTP code: add the secret to any authenticator app,
or print the current code with "go run ./cmd/pocdir totp-code SECRET".
Once signed in, add a passkey on the Account page and sign in with it.
The emails pocdir sends (invitations) appear at http://%s/demo/mail.
Answer a notification by email as its PoC would: write a reply (the word
ACKNOWLEDGE, DISPUTE, DECLINE or MORE INFORMATION on its first line, or any
text for a response) to its Reply-To address, and send it to pocdir's SMTP
listener on %s, for example with
  curl smtp://%s --mail-from poc@example.org --mail-rcpt REPLY-TO --upload-file reply.eml

`, addr, demo.Password, addr, inbound, inbound)
	for _, a := range demo.Accounts {
		state := a.State
		if state == "" {
			state = "-"
		}
		fmt.Printf("  %-13s %-4s %-40s TOTP secret %s\n", a.Role, state, a.Email, a.TOTPSecret)
	}
	fmt.Println()
}
