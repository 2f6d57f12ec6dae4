package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/backup"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/system"
)

// passphrase reads the backup's passphrase from POCDIR_BACKUP_PASSPHRASE,
// or from the first line of standard input.
func passphrase() ([]byte, error) {
	if p := os.Getenv("POCDIR_BACKUP_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return nil, errors.New("give the passphrase on standard input (one line) or in POCDIR_BACKUP_PASSPHRASE")
	}
	return []byte(strings.TrimRight(line, "\r\n")), nil
}

// keyFiles are the key files of a database, as the flags say.
func (c *logConfig) keyFiles(dbURL string) backup.KeyFiles {
	return backup.KeyFiles{Log: c.keyPath(dbURL), Data: c.dataKeyPath(dbURL),
		OpenPGP: system.KeyPath(c.pgpKeyFile, dbURL, system.OpenPGPKeyName)}
}

func runBackup(args []string) error {
	f := newFlags("backup", "--db URL --out FILE [key flags] (passphrase on standard input)")
	dbURL := f.String("db", "sqlite:pocdir.db", "the database to back up")
	out := f.Local("out", "", "the backup file to write (must not exist)")
	lc := addLogFlags(f, flagLogKey, flagDataKey, flagOpenPGPKey)
	if err := f.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("give --out FILE")
	}
	pass, err := passphrase()
	if err != nil {
		return err
	}
	ctx := context.Background()
	d, err := db.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer d.Close()
	m, err := backup.Create(ctx, d, lc().keyFiles(*dbURL), pass, *out, func(step string) { fmt.Fprintln(os.Stderr, "backup:", step) })
	if err != nil {
		return err
	}
	fmt.Printf("%s: the log's %d entries and the key files (sealed under the passphrase)\n", *out, m.LogSize)
	if m.Dialect == string(db.Postgres) {
		fmt.Println(`The database itself is not in it: copy it with PostgreSQL's own tool, at the same time, e.g.
  pg_dump --format=custom --file pocdir.pgdump 'postgres://…'
and keep the two files together. "pocdir restore" brings the keys back; pg_restore the database.`)
	}
	return nil
}

func runRestore(args []string) error {
	f := newFlags("restore", "--from FILE --db URL [key flags] (passphrase on standard input)")
	from := f.Local("from", "", "the backup file")
	dbURL := f.String("db", "", "where to restore: sqlite:PATH (must not exist) for a SQLite backup; the PostgreSQL database already restored with pg_restore for a PostgreSQL backup")
	lc := addLogFlags(f, flagLogKey, flagDataKey, flagOpenPGPKey)
	if err := f.Parse(args); err != nil {
		return err
	}
	if *from == "" || *dbURL == "" {
		return errors.New("give --from FILE and --db URL")
	}
	pass, err := passphrase()
	if err != nil {
		return err
	}
	keys := lc().keyFiles(*dbURL)
	dbPath := ""
	if !strings.HasPrefix(*dbURL, "postgres://") && !strings.HasPrefix(*dbURL, "postgresql://") {
		dbPath = strings.TrimPrefix(strings.TrimPrefix(*dbURL, "sqlite://"), "sqlite:")
	}
	m, err := backup.Restore(*from, pass, dbPath, keys)
	if err != nil {
		return err
	}
	fmt.Printf("restored the backup of %s: %d log entries, the key files in %s, %s, %s\n", m.CreatedAt.Format("2006-01-02 15:04 UTC"), m.LogSize, keys.Log, keys.Data, keys.OpenPGP)
	// The restored copy must verify as a whole before anyone serves it.
	if err := auditCheck([]string{"--db", *dbURL, "--log-key", keys.Log, "--data-key", keys.Data}); err != nil {
		return fmt.Errorf("the restored database does not pass the log's check: %w", err)
	}
	published := auditlog.PublishedFile(keys.Log)
	fmt.Printf(`
A restore brings the log back to its %d entries of %s. If the server it
replaces had signed later checkpoints, every State's "pocdir audit verify"
and every witness will report the log as rolled back, and the States' own
records will show which entries are missing. Tell them before serving it.
pocdir refuses to serve a log shorter than the latest checkpoint it remembers
signing (%s); where that file is, start with --accept-rollback to serve it.
`, m.LogSize, m.CreatedAt.Format("2006-01-02 15:04 UTC"), published)
	return nil
}
