// Command pocdir is the one binary of pocdir, the directory and secure
// communication hub of the global network of national Points of Contact on
// ICT security. See "pocdir help".
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	_ "time/tzdata" // time zones validate the same on every machine
)

type command struct {
	name, args, help string
	run              func(args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"serve", "[flags]", "serve pocdir (migrates the database first)", runServe},
		{"demo", "[flags]", "serve on SQLite with fictional demonstration data and print the demo accounts", runDemo},
		{"migrate", "--db URL", "apply database migrations and exit", runMigrate},
		{"user", "create|invite [flags]", "create an account (password on standard input) or print an invitation link", runUser},
		{"token", "create [flags]", "create an API token for a user and print it once", runToken},
		{"audit", "key|check|verify|verify-receipt|cosign", "the accountability log: public key, full check, verification, receipts, witnesses", runAudit},
		{"offline", "verify FILE [--key VKEY] [flags]", "check an offline copy of the directory (decrypted, or with its passphrase or private key): pocdir's signature, its files, its date and log checkpoint", runOffline},
		{"backup", "--db URL --out FILE", "an online, consistent copy of a SQLite database with its key files sealed under a passphrase (PostgreSQL: the key files; the database with pg_dump)", runBackup},
		{"restore", "--from FILE --db URL", "bring a backup back on a new machine, then check its log", runRestore},
		{"data-key", "rotate --db URL [--data-key FILE]", "start a new data key and seal the stored secrets with it (older keys stay in the file)", runDataKey},
		{"totp-code", "SECRET", "print the current TOTP code of a base32 secret (for the demo accounts)", runTOTPCode},
		{"version", "", "print the version, the commit it was built from, and the Go version", runVersion},
		{"help", "[command]", "show this help or a command's flags", runHelp},
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	for _, c := range commands {
		if c.name == name {
			if err := c.run(os.Args[2:]); err != nil {
				if err == flag.ErrHelp {
					os.Exit(0)
				}
				fmt.Fprintln(os.Stderr, "pocdir "+name+": "+err.Error())
				os.Exit(1)
			}
			return
		}
	}
	if name == "-h" || name == "--help" {
		usageTo(os.Stdout)
		return
	}
	fmt.Fprintf(os.Stderr, "pocdir: unknown command %q\n\n", name)
	usage()
	os.Exit(2)
}

func usage() { usageTo(os.Stderr) }

func usageTo(w io.Writer) {
	fmt.Fprintln(w, "pocdir: the directory of national Points of Contact on ICT security.\n\nUsage: pocdir COMMAND [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %-40s %s\n", c.name, c.args, c.help)
	}
	fmt.Fprintln(w, "\nMost flags can also be set by an environment variable, named in brackets in \"pocdir COMMAND -h\";\nthose that name one person or thing for one command (an email address, a name, a key) cannot.")
}

func runHelp(args []string) error {
	if len(args) == 0 {
		usageTo(os.Stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] && c.name != "help" {
			return c.run([]string{"-h"})
		}
	}
	usageTo(os.Stdout)
	return nil
}

// flags is a FlagSet whose flags fall back to POCDIR_* environment variables.
type flags struct {
	*flag.FlagSet
}

func newFlags(name, usageLine string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Help that was asked for goes to standard output, so it can be paged
	// and searched; errors still go to standard error through main.
	fs.SetOutput(os.Stdout)
	f := &flags{FlagSet: fs}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: pocdir %s %s\n\nFlags (environment variable in brackets):\n", name, usageLine)
		fs.PrintDefaults()
	}
	return f
}

func envName(flagName string) string {
	return "POCDIR_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// String defines a string flag with an environment fallback.
func (f *flags) String(name, def, usage string) *string {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v
	}
	return f.FlagSet.String(name, def, usage+" ["+envName(name)+"]")
}

// Bool defines a bool flag with an environment fallback.
func (f *flags) Bool(name string, def bool, usage string) *bool {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "yes")
	}
	return f.FlagSet.Bool(name, def, usage+" ["+envName(name)+"]")
}

// Local defines a string flag without an environment fallback: for values
// that belong to one invocation (an email address, a name), where a variable
// exported for one command must not leak into another.
func (f *flags) Local(name, def, usage string) *string {
	return f.FlagSet.String(name, def, usage+" [no environment variable: for this command only]")
}

// Int defines an int flag with an environment fallback.
func (f *flags) Int(name string, def int, usage string) *int {
	if v, ok := os.LookupEnv(envName(name)); ok {
		fmt.Sscanf(v, "%d", &def)
	}
	return f.FlagSet.Int(name, def, usage+" ["+envName(name)+"]")
}

// errFlagHelp ends a command that only printed its help.
var errFlagHelp = flag.ErrHelp
