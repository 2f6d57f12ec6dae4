package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/seal"
	"github.com/pocdir/pocdir/internal/system"
)

// runDataKey rotates the data key: a new key becomes current in the key
// file, and the stored secrets are sealed again with it. The older keys stay
// in the file; remove one only when nothing sealed with it is left (a
// backup restored later may still need it).
func runDataKey(args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Println(`Usage: pocdir data-key COMMAND [flags]

  rotate  start a new data key and seal the stored secrets and communications with it

"pocdir data-key rotate -h" lists its flags.`)
		return errFlagHelp
	}
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New(`say "pocdir data-key rotate" (-h for flags)`)
	}
	f := newFlags("data-key rotate", "--db URL [--data-key FILE]")
	dbURL := f.String("db", "", "database URL")
	// Rotating opens pocdir to seal again: it reads the log's and the
	// OpenPGP key files too, but creates no log key (no --log-origin).
	lc := addLogFlags(f, flagLogKey, flagDataKey, flagOpenPGPKey)
	if err := f.Parse(args[1:]); err != nil {
		return err
	}
	cfg := lc()
	setupLog("text", "warn")
	ctx := app.WithActor(context.Background(), app.System)
	path := cfg.dataKeyPath(*dbURL)
	if _, err := seal.Load(path); err != nil {
		return fmt.Errorf("data key %s: %w", path, err)
	}
	ring, err := seal.Rotate(path)
	if err != nil {
		return err
	}
	// Opening pocdir seals the TOTP secrets again under the new key.
	sys, err := system.Open(ctx, cfg.config(*dbURL))
	if err != nil {
		return err
	}
	defer sys.Close()
	n, err := sys.Comms.Reseal(ctx, nil)
	if err != nil {
		return fmt.Errorf("sealing communications again: %w", err)
	}
	fmt.Printf("new data key %s in %s; stored secrets and %d values of communications sealed with it\n", ring.Current(), path, n)
	return nil
}
