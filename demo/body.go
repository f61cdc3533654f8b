package demo

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Content types, as ready-made header values. Assigning a shared slice to the
// header map, instead of calling Header().Set, saves an allocation on every
// response; net/http only reads these slices, and a later Add would append to
// a full slice and so copy it rather than write into ours.
var (
	typeHTML   = []string{"text/html; charset=utf-8"}
	typeText   = []string{"text/plain; charset=utf-8"}
	typeJSON   = []string{"application/json"}
	typeBinary = []string{"application/octet-stream"}
)

// body is a response body computed once, with its header values, so the fast
// endpoints write it without formatting or allocating anything per request.
type body struct {
	ctype  []string
	length []string
	data   []byte
}

func newBody(ctype []string, data []byte) body {
	return body{ctype: ctype, length: []string{strconv.Itoa(len(data))}, data: data}
}

// jsonBody marshals v once. v is always one of this package's own values, so a
// failure is a programming error.
func jsonBody(v any) body {
	data, err := json.Marshal(v)
	if err != nil {
		panic("demo: marshal static body: " + err.Error())
	}
	return newBody(typeJSON, append(data, '\n'))
}

// errorBody is the JSON error shape every endpoint uses: {"error": "..."}.
func errorBody(msg string) body {
	return jsonBody(struct {
		Error string `json:"error"`
	}{msg})
}

// write sends b with status. For HEAD requests net/http drops the data itself.
func (b body) write(w http.ResponseWriter, status int) {
	h := w.Header()
	h["Content-Type"] = b.ctype
	h["Content-Length"] = b.length
	w.WriteHeader(status)
	_, _ = w.Write(b.data) // a client that went away is not the server's error
}

// writeJSON marshals v for the endpoints whose answer depends on the request.
// They are not the ones a load test hammers hardest, and encoding/json keeps
// the escaping of user-supplied strings correct.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header()["Content-Type"] = typeJSON
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}
