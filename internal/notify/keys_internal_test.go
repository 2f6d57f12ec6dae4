package notify

import (
	"crypto/sha256"
	"strconv"
	"strings"
	"testing"
)

// TestRecipientKeysAreBounded: the keys kept stay within their count and
// their bytes, however many come.
func TestRecipientKeysAreBounded(t *testing.T) {
	var c recipientKeys
	for i := range maxRecipientKeys + 500 {
		c.of("key " + strconv.Itoa(i))
	}
	if len(c.keys) != maxRecipientKeys {
		t.Errorf("%d keys kept", len(c.keys))
	}
	big := strings.Repeat("k", 1<<20)
	for i := range 40 {
		c.of(strconv.Itoa(i) + big)
	}
	total := 0
	for _, rk := range c.keys {
		total += len(rk.armored)
	}
	if total != c.bytes || total > maxRecipientKeyBytes || len(c.keys) == 0 {
		t.Errorf("%d keys of %d bytes kept (counted %d)", len(c.keys), total, c.bytes)
	}
	if c.keys[sha256.Sum256([]byte("39"+big))] == nil {
		t.Error("the newest key was not kept")
	}
}
