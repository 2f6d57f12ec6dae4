package directory

import (
	"strings"
)

// FormatFingerprint groups a fingerprint in blocks of four for reading aloud
// over the telephone.
func FormatFingerprint(fp string) string {
	var b strings.Builder
	for i, r := range fp {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
