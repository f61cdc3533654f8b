// Package htmltest loads fuka's pages (the HTML report and the live
// dashboard) in a real headless Chromium for tests, and records what a person
// would see go wrong: console errors, uncaught exceptions, Content-Security-
// Policy violations, JavaScript dialogs and requests the page made.
//
// It uses Debian's chromium package at [ExecPath], driven over the DevTools
// protocol with chromedp. Without it a test is skipped, unless
// FUKA_INTEGRATION=1 asks for every integration component (as CI does); then
// it fails.
package htmltest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
)

// ExecPath is where Debian's chromium package installs the browser.
const ExecPath = "/usr/bin/chromium"

// Timeout bounds one browser test, browser start included.
const Timeout = 20 * time.Second

// watchScript runs in every document before the page's own scripts. It is
// added over DevTools, so the page's CSP does not apply to it, and it counts
// what the CSP blocked.
const watchScript = `window.__fukaCSP = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__fukaCSP.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " (" + (e.sample || "") + ")");
});`

// Tab is one browser tab of a test.
type Tab struct {
	Ctx context.Context // a chromedp context; ends with the test or after Timeout

	mu       sync.Mutex
	problems []string // console errors, exceptions, error log entries
	dialogs  []string // alert/confirm/prompt messages
	requests []string // URLs the page requested
}

// Start starts a headless Chromium for t and opens a tab in it, with an
// 1280×900 viewport. The browser ends with the test.
func Start(t testing.TB) *Tab {
	t.Helper()
	if _, err := os.Stat(ExecPath); err != nil {
		if os.Getenv("FUKA_INTEGRATION") == "1" {
			t.Fatalf("chromium not installed at %s (FUKA_INTEGRATION=1 requires it: apt-get install chromium): %v", ExecPath, err)
		}
		t.Skipf("chromium not installed at %s (apt-get install chromium; FUKA_INTEGRATION=1 makes this a failure)", ExecPath)
	}
	// Chrome's helper processes may still write into the profile for a moment
	// after the browser exits, so the directory is removed with retries
	// rather than by t.TempDir, whose cleanup would fail the test.
	dir, err := os.MkdirTemp("", "fuka-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(dir) })

	ctx, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(ExecPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("user-data-dir", dir),
		// --remote-debugging-port=0: chromedp adds it for a websocket dialer.
		remote.WebSocket,
	)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
		cancelTimeout()
	})

	tab := &Tab{Ctx: tabCtx}
	// The first Run starts the browser and attaches the tab.
	if err := chromedp.Do(tabCtx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(tabCtx, tab.record); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	if _, err := chromedp.Call(tabCtx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchScript}); err != nil {
		t.Fatalf("add the CSP watch: %v", err)
	}
	return tab
}

// record runs in the tab's event loop: it must return fast and send no
// command (a dialog is answered from another goroutine).
func (tb *Tab) record(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				if a.Description != "" {
					args = append(args, a.Description)
				} else {
					args = append(args, string(a.Value))
				}
			}
			tb.problems = append(tb.problems, "console."+string(ev.Type)+": "+strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		tb.problems = append(tb.problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			tb.problems = append(tb.problems, "log "+string(ev.Entry.Source)+": "+ev.Entry.Text+" "+ev.Entry.URL)
		}
	case *page.EventJavascriptDialogOpening:
		tb.dialogs = append(tb.dialogs, string(ev.Type)+": "+ev.Message)
		go func() {
			// The test fails on the dialog anyway; dismiss it so the page goes on.
			_, _ = chromedp.Call(tb.Ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}()
	case *network.EventRequestWillBeSent:
		tb.requests = append(tb.requests, ev.Request.URL)
	}
}

// Open navigates to url and waits for the load event.
func (tb *Tab) Open(t testing.TB, url string) {
	t.Helper()
	if err := chromedp.Do(tb.Ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
}

// Eval evaluates expr in the page and decodes its JSON value into T; an
// undefined value gives T's zero value.
func Eval[T any](t testing.TB, tb *Tab, expr string) T {
	t.Helper()
	raw, err := chromedp.Run(tb.Ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	var v T
	if len(raw) == 0 { // undefined
		return v
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("evaluate %s: decode %s: %v", expr, raw, err)
	}
	return v
}

// WaitFor polls expr (a JavaScript expression) until it is true, or fails
// the test with what describes the wait.
func (tb *Tab) WaitFor(t testing.TB, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw, err := chromedp.Run(tb.Ctx, chromedp.Evaluate[[]byte]("!!("+expr+")"))
		if err == nil && string(raw) == "true" {
			return
		}
		if time.Now().After(deadline) || tb.Ctx.Err() != nil {
			t.Fatalf("waiting for %s (%s): %v; problems: %q", what, expr, err, tb.Problems(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Problems is everything that went wrong on the page so far: console errors,
// exceptions, error log entries (failed loads, blocked resources), CSP
// violations and dialogs.
func (tb *Tab) Problems(t testing.TB) []string {
	t.Helper()
	var csp []string
	if raw, err := chromedp.Run(tb.Ctx, chromedp.Evaluate[[]byte]("window.__fukaCSP || []")); err == nil {
		if err := json.Unmarshal(raw, &csp); err != nil {
			t.Errorf("decode CSP violations %s: %v", raw, err)
		}
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	p := append([]string(nil), tb.problems...)
	for _, c := range csp {
		p = append(p, "csp: "+c)
	}
	for _, d := range tb.dialogs {
		p = append(p, "dialog "+d)
	}
	return p
}

// Requests are the URLs the page requested, in order.
func (tb *Tab) Requests() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.requests...)
}

// Screenshot writes a PNG of the whole page to path.
func (tb *Tab) Screenshot(t testing.TB, path string) {
	t.Helper()
	png, err := chromedp.Run(tb.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)
}

// removeAll removes dir, retrying for a few seconds while Chrome's helper
// processes finish writing into it.
func removeAll(dir string) {
	deadline := time.Now().Add(5 * time.Second)
	for os.RemoveAll(dir) != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}
