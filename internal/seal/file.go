package seal

import (
	"bytes"
	"fmt"
	"os"
)

// ReadSecretFile reads a file that holds a secret key, refusing one that
// others than its owner may read or write (and anything but a regular
// file): a key readable by the group opens every sealed secret, or signs
// a rewritten log, for whoever else is in it.
func ReadSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s is open to group or others (mode %#o): it holds a secret key; chmod 600 it", path, perm)
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(f)
	return buf.Bytes(), err
}
