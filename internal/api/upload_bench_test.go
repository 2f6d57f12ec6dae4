package api_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

// procKB reads a memory figure of this process from /proc (VmRSS, VmHWM).
func procKB(b *testing.B, name string) float64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(s), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
			return n
		}
	}
	b.Fatalf("no %s in /proc/self/status", name)
	return 0
}

// BenchmarkLargeUploads posts eight communications of 27 MB (two files of
// 10 MB in base64 (packet captures), the most a communication holds) at once, and reports the
// process's resident memory before and at its peak. The bodies are built
// once and shared, so the client adds the same 27 MB to every run.
func BenchmarkLargeUploads(b *testing.B) {
	file := make([]byte, 10<<20)
	rand.Read(file)
	copy(file, "\xd4\xc3\xb2\xa1") // a packet capture
	data := base64.StdEncoding.EncodeToString(file)
	body := []byte(fmt.Sprintf(`{"template":"notification","draft":true,"to_states":["KEN"],"level":"technical",`+
		`"fields":{"subject":"Large files","tlp":"TLP:AMBER","urgency":"high","description":"Two large files."},`+
		`"attachments":[{"name":"a.pcap","data":"%s"},{"name":"b.pcap","data":"%s"}]}`, data, data))
	data = ""
	for _, e := range testkit.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			sys := testkit.New(b, e)
			srv := sys.Serve(b)
			off := sys.User(b, "off@fra.test", app.RoleOfficer, "FRA")
			tok := sys.Token(b, off, "write")
			runtime.GC()
			debug.FreeOSMemory()
			base := procKB(b, "VmRSS")
			// Writing 5 to clear_refs starts the peak (VmHWM) again.
			if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
				b.Skip("cannot reset the peak resident memory:", err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var wg sync.WaitGroup
				for j := 0; j < 8; j++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/comms", bytes.NewReader(body))
						req.Header.Set("Authorization", "Bearer "+tok)
						req.Header.Set("Content-Type", "application/json")
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						msg, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusCreated {
							b.Errorf("status %d: %.300s", resp.StatusCode, msg)
						}
					}()
				}
				wg.Wait()
			}
			b.StopTimer()
			b.ReportMetric(base/1024, "base-MB")
			b.ReportMetric(procKB(b, "VmHWM")/1024, "peak-MB")
		})
	}
}
