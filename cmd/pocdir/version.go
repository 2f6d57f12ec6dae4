package main

import (
	"fmt"
	"runtime/debug"
)

// runVersion says which pocdir this is: the module version, the commit it
// was built from (and whether the tree had changes), and the Go version.
// go build records the commit when it builds in a git checkout.
func runVersion(args []string) error {
	f := newFlags("version", "")
	if err := f.Parse(args); err != nil {
		return err
	}
	fmt.Println(versionLine())
	return nil
}

// commit is set by the release build (make build: -ldflags "-X
// main.commit=…"), for builds where go does not stamp the commit itself
// (GOFLAGS=-buildvcs=false, a copy without .git).
var commit string

func versionLine() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "pocdir (no build information)"
	}
	when, dirty := "", ""
	if commit == "" {
		commit = "unknown"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.time":
			when = " of " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = " with uncommitted changes"
			}
		}
	}
	return fmt.Sprintf("pocdir %s, commit %s%s%s, built with %s", info.Main.Version, commit, when, dirty, info.GoVersion)
}
