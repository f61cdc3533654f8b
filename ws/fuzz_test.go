package ws

import (
	"strings"
	"testing"

	"github.com/fuka-load/fuka/metrics"
)

// FuzzMessageTemplate: any --ws-send either is refused by Validate or
// renders without panicking, and a message without "{{" is sent as is.
func FuzzMessageTemplate(f *testing.F) {
	for _, s := range []string{`{"ping":1}`, `{"n":{{ seq }},"c":{{ client_id }}}`, `{{ randInt 1 9 }}`,
		`{{ uuid }}`, `{{`, `}}`, `{{ nope }}`, "\x00\xff", `{{ upper "a" }}`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, send string) {
		q := &Quick{URL: mustURL("ws://127.0.0.1:1/"), Send: send, Timeout: 1}
		if q.Validate() != nil {
			return
		}
		c := q.NewClient(3, metrics.NewRecorder(2), nil).(*Client)
		for range 2 {
			c.buf = q.tpl.Render(c.buf[:0], c.st)
			if !strings.Contains(send, "{{") && string(c.buf) != send {
				t.Fatalf("static %q rendered %q", send, c.buf)
			}
		}
	})
}
