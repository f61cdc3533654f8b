package demo

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// A token is base64url(user) "." base64url(HMAC-SHA256(key, user)).
//
// Validating it needs only the key, not a session table, so the demo keeps no
// per-user state however many clients log in, and every cart request pays a
// realistic bit of CPU for its auth check. The key is random per app, so
// tokens from one demo server are rejected by another, as sessions would be.
type signer struct {
	key []byte
}

// newKey returns a fresh random HMAC key. crypto/rand.Read never fails.
func newKey() []byte {
	key := make([]byte, sha256.Size)
	_, _ = rand.Read(key)
	return key
}

var b64 = base64.RawURLEncoding

func (s signer) mac(user string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(user))
	return m.Sum(nil)
}

// issue returns the token for user.
func (s signer) issue(user string) string {
	return b64.EncodeToString([]byte(user)) + "." + b64.EncodeToString(s.mac(user))
}

// verify returns the user a token was issued to, and whether it was issued by
// this signer at all. It rebuilds the token from the user and compares whole
// strings, so exactly one spelling of each token is valid (base64 decoding
// alone would also accept variants, such as ones with newlines inside).
func (s signer) verify(token string) (user string, ok bool) {
	encUser, _, found := strings.Cut(token, ".")
	if !found {
		return "", false
	}
	u, err := b64.DecodeString(encUser)
	if err != nil || len(u) == 0 {
		return "", false
	}
	user = string(u)
	// A constant-time comparison, so response timing does not reveal how
	// much of a forged MAC was right.
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.issue(user))) != 1 {
		return "", false
	}
	return user, true
}

// bearer returns the token in an "Authorization: Bearer <token>" header
// value. The scheme is case-insensitive (RFC 9110, section 11.1).
func bearer(header string) (string, bool) {
	const prefix = "Bearer "
	if len(header) <= len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", false
	}
	return header[len(prefix):], true
}
