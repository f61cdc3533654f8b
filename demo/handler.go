package demo

import (
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// The shapes of the slow and flaky endpoints. They are constants, not
// options: the demo is meant to look the same on every machine.
const (
	slowMin     = 50 * time.Millisecond
	slowMax     = 250 * time.Millisecond
	flakyPct    = 5       // percent of /flaky requests answered with 503
	bigSize     = 1 << 20 // bytes in /big
	maxBodySize = 4 << 10 // bytes accepted in login and cart request bodies
	maxQuantity = 99
)

const homePage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>fuka demo shop</title></head>
<body>
<h1>fuka demo shop</h1>
<p>A small shop API that <code>fuka demo</code> runs on 127.0.0.1 so there is something safe to load-test.</p>
<ul>
<li><a href="/api/products?page=1">/api/products</a> and /api/products/{id}</li>
<li>POST /api/login, then PUT, PATCH, DELETE /api/cart/{id}</li>
<li><a href="/slow">/slow</a>, <a href="/flaky">/flaky</a>, <a href="/big">/big</a>, <a href="/health">/health</a></li>
<li>WebSocket: /ws/echo (each message back) and /ws/chat (each message to every client)</li>
<li>gRPC on this port (HTTP/2 without TLS): fuka.demo.Cart, with server reflection</li>
</ul>
</body>
</html>
`

// app holds the routes and everything they precompute. It is immutable after
// newApp returns, except for the random numbers drawn by /slow and /flaky, so
// handlers run concurrently without locks.
type app struct {
	mux     *http.ServeMux
	signer  signer
	catalog *catalog

	home, health, big, flakyOK body

	errNotFound, errNoProduct, errBadPage, errBadLogin, errUnauthorized,
	errBadCart, errUnavailable body

	chat room // /ws/chat's clients (ws.go): mutable, behind its lock

	// The WebSocket counters: connections accepted, messages received.
	wsConns, wsReceived atomic.Int64
}

var _ http.Handler = (*app)(nil)

// Handler returns the demo app's routes, for use with httptest. Each call
// builds an independent app with its own token key, so tokens issued by one
// Handler are rejected by another.
func Handler() http.Handler { return newApp(newKey()) }

func newApp(key []byte) *app {
	a := &app{
		mux:     http.NewServeMux(),
		signer:  signer{key: key},
		catalog: newCatalog(),

		home:    newBody(typeHTML, []byte(homePage)),
		health:  newBody(typeText, []byte("ok")),
		big:     newBody(typeBinary, bigData()),
		flakyOK: jsonBody(map[string]string{"status": "ok"}),

		errNotFound:     errorBody("not found"),
		errNoProduct:    errorBody("product not found: id must be 1 to " + strconv.Itoa(productCount)),
		errBadPage:      errorBody("bad page: must be an integer from 1 to " + strconv.Itoa(pageCount)),
		errBadLogin:     errorBody("bad request: body must be JSON {\"user\": ..., \"pass\": ...}"),
		errUnauthorized: errorBody("unauthorized"),
		errBadCart:      errorBody("bad request: body must be empty or JSON {\"quantity\": 1 to " + strconv.Itoa(maxQuantity) + "}"),
		errUnavailable:  errorBody("service unavailable, try again"),
	}
	m := a.mux
	// "/{$}" matches only the root; a bare "GET /" would match every path.
	m.HandleFunc("GET /{$}", a.serveHome)
	m.HandleFunc("GET /health", a.serveHealth)
	m.HandleFunc("GET /api/products", a.serveProducts)
	m.HandleFunc("GET /api/products/{id}", a.serveProduct)
	m.HandleFunc("POST /api/login", a.serveLogin)
	m.HandleFunc("PUT /api/cart/{id}", a.serveCart)
	m.HandleFunc("PATCH /api/cart/{id}", a.serveCart)
	m.HandleFunc("DELETE /api/cart/{id}", a.serveCart)
	m.HandleFunc("GET /slow", a.serveSlow)
	m.HandleFunc("GET /flaky", a.serveFlaky)
	m.HandleFunc("GET /big", a.serveBig)
	m.HandleFunc("GET /ws/echo", a.serveWSEcho)
	m.HandleFunc("GET /ws/chat", a.serveWSChat)
	// A catch-all, so a known path with the wrong method is a plain 404
	// like any other unknown request, instead of the mux's 405.
	m.HandleFunc("/", a.serveNotFound)
	return a
}

// bigData fills the /big body with printable text rather than zeros, so it
// looks like a real download if someone opens it.
func bigData() []byte {
	const line = "fuka demo: one mebibyte of bytes for measuring transfer throughput.\n"
	b := make([]byte, bigSize)
	for i := 0; i < len(b); i += copy(b[i:], line) {
	}
	return b
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func (a *app) serveHome(w http.ResponseWriter, _ *http.Request)   { a.home.write(w, http.StatusOK) }
func (a *app) serveHealth(w http.ResponseWriter, _ *http.Request) { a.health.write(w, http.StatusOK) }
func (a *app) serveBig(w http.ResponseWriter, _ *http.Request)    { a.big.write(w, http.StatusOK) }

func (a *app) serveNotFound(w http.ResponseWriter, _ *http.Request) {
	a.errNotFound.write(w, http.StatusNotFound)
}

func (a *app) serveProducts(w http.ResponseWriter, r *http.Request) {
	page, ok := parsePage(r.URL.RawQuery)
	if !ok {
		a.errBadPage.write(w, http.StatusBadRequest)
		return
	}
	a.catalog.pages[page-1].write(w, http.StatusOK)
}

func (a *app) serveProduct(w http.ResponseWriter, r *http.Request) {
	id, ok := parseID(r.PathValue("id"))
	if !ok {
		a.errNoProduct.write(w, http.StatusNotFound)
		return
	}
	a.catalog.products[id-1].write(w, http.StatusOK)
}

// serveLogin accepts any non-empty user and pass: the demo has no accounts,
// it only needs a step that issues a token for later steps to extract and
// send back, as real checkout flows do.
func (a *app) serveLogin(w http.ResponseWriter, r *http.Request) {
	var creds struct {
		User string `json:"user"`
		Pass string `json:"pass"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodySize)).Decode(&creds); err != nil {
		a.errBadLogin.write(w, http.StatusBadRequest)
		return
	}
	if creds.User == "" || creds.Pass == "" {
		a.errUnauthorized.write(w, http.StatusUnauthorized)
		return
	}
	token := a.signer.issue(creds.User)
	http.SetCookie(w, &http.Cookie{
		Name:     "session",
		Value:    token,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	writeJSON(w, http.StatusOK, struct {
		Token string `json:"token"`
	}{token})
}

// cartLine is the state of one product in the user's cart after a change.
type cartLine struct {
	User      string `json:"user"`
	ProductID int    `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

// serveCart handles PUT (add or replace, 201), PATCH (change quantity, 200)
// and DELETE (remove, 200) of one cart line. The cart is not stored: keeping
// state per user would make the demo's memory grow with the attack, and the
// load test only needs realistic requests and answers. Auth is checked first,
// so an unauthenticated client learns nothing about product ids.
func (a *app) serveCart(w http.ResponseWriter, r *http.Request) {
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		a.errUnauthorized.write(w, http.StatusUnauthorized)
		return
	}
	user, ok := a.signer.verify(token)
	if !ok {
		a.errUnauthorized.write(w, http.StatusUnauthorized)
		return
	}
	id, ok := parseID(r.PathValue("id"))
	if !ok {
		a.errNoProduct.write(w, http.StatusNotFound)
		return
	}
	line := cartLine{User: user, ProductID: id}
	switch r.Method {
	case http.MethodDelete:
		writeJSON(w, http.StatusOK, line)
		return
	case http.MethodPut, http.MethodPatch:
		q, ok := quantity(http.MaxBytesReader(w, r.Body, maxBodySize))
		if !ok {
			a.errBadCart.write(w, http.StatusBadRequest)
			return
		}
		line.Quantity = q
	}
	status := http.StatusOK
	if r.Method == http.MethodPut {
		status = http.StatusCreated
	}
	writeJSON(w, status, line)
}

// quantity reads an optional {"quantity": n} body; an empty body means 1.
func quantity(body io.Reader) (int, bool) {
	req := struct {
		Quantity *int `json:"quantity"`
	}{}
	err := json.NewDecoder(body).Decode(&req)
	switch {
	case errors.Is(err, io.EOF):
		return 1, true
	case err != nil:
		return 0, false
	case req.Quantity == nil:
		return 1, true
	}
	q := *req.Quantity
	return q, q >= 1 && q <= maxQuantity
}

// serveSlow stands in for a handler waiting on a database or another
// service. If the client gives up first, the handler stops waiting too, as a
// well-behaved server should, instead of holding a goroutine for nothing.
func (a *app) serveSlow(w http.ResponseWriter, r *http.Request) {
	d := slowMin + rand.N(slowMax-slowMin+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	writeJSON(w, http.StatusOK, struct {
		SleptMS int64 `json:"slept_ms"`
	}{d.Milliseconds()})
}

// serveFlaky fails about flakyPct percent of requests. math/rand/v2's global
// source is seeded randomly and safe for concurrent use, so two demo servers,
// or two runs, do not fail in step.
func (a *app) serveFlaky(w http.ResponseWriter, _ *http.Request) {
	if rand.N(100) < flakyPct {
		// Retry-After is what an overloaded real service would send.
		w.Header().Set("Retry-After", "1")
		a.errUnavailable.write(w, http.StatusServiceUnavailable)
		return
	}
	a.flakyOK.write(w, http.StatusOK)
}
