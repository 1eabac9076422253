// Package apikey is the format of the gateway's API keys: how the operator generates one and what it publishes
// of it (an ID and a hash), and how the gateway checks a key a client sends against the published hashes.
//
// A key is "pllm-<id>-<secret>": id is 12 hex digits that name the key in status, metrics and logs (public);
// secret is 32 random bytes, base64url without padding. Only "sha256:<hex of SHA-256 of the whole key>" is
// published. With 256 random bits a fast hash is safe: there is nothing to guess a dictionary against.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

const (
	prefix    = "pllm-"
	idBytes   = 6
	keyBytes  = 32
	hashLabel = "sha256:"
)

// Generated is a new key and what may be published of it.
type Generated struct {
	// Key is the secret: it goes into the owner's Secret and nowhere else.
	Key string
	// ID is the key's public identifier.
	ID string
	// Hash is what the gateway checks the key against.
	Hash string
}

// Generate makes a new key from the system's secure random source.
func Generate() (Generated, error) {
	id := make([]byte, idBytes)
	secret := make([]byte, keyBytes)
	if _, err := rand.Read(id); err != nil {
		return Generated{}, fmt.Errorf("reading random bytes: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return Generated{}, fmt.Errorf("reading random bytes: %w", err)
	}
	g := Generated{ID: hex.EncodeToString(id)}
	g.Key = prefix + g.ID + "-" + base64.RawURLEncoding.EncodeToString(secret)
	g.Hash = Hash(g.Key)
	return g, nil
}

// Hash is the published form of a key.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hashLabel + hex.EncodeToString(sum[:])
}

// ID is the identifier of a well-formed key; false when the key does not have the format (the gateway answers
// 401 without looking further).
func ID(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok || len(rest) != 2*idBytes+1+base64.RawURLEncoding.EncodedLen(keyBytes) || rest[2*idBytes] != '-' {
		return "", false
	}
	id := rest[:2*idBytes]
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return id, true
}

// Matches says whether key hashes to published, in time that does not depend on how much of the two agrees.
func Matches(key, published string) bool {
	return subtle.ConstantTimeCompare([]byte(Hash(key)), []byte(published)) == 1
}
