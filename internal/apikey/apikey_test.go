package apikey

import (
	"strings"
	"testing"
)

func TestGenerateAndMatch(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if a.Key == b.Key || a.ID == b.ID {
		t.Fatalf("two keys alike: %s %s", a.ID, b.ID)
	}
	if !strings.HasPrefix(a.Key, "pllm-"+a.ID+"-") || !strings.HasPrefix(a.Hash, "sha256:") || len(a.Hash) != len("sha256:")+64 {
		t.Errorf("format: key %q… id %q hash %q", a.Key[:18], a.ID, a.Hash)
	}
	if strings.Contains(a.Hash, a.Key) || strings.Contains(a.Hash, a.Key[18:]) {
		t.Error("the hash must not carry the secret")
	}
	if id, ok := ID(a.Key); !ok || id != a.ID {
		t.Errorf("ID(%q…) = %q, %v", a.Key[:18], id, ok)
	}
	if !Matches(a.Key, a.Hash) || Matches(b.Key, a.Hash) || Matches(a.Key+"x", a.Hash) {
		t.Error("Matches must accept the key and only the key")
	}
}

func TestIDRefusesMalformedKeys(t *testing.T) {
	g, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{
		"", "sk-abc", "pllm-", strings.TrimSuffix(g.Key, g.Key[len(g.Key)-1:]), g.Key + "A",
		"pllm-ZZZZZZZZZZZZ-" + g.Key[18:], strings.Replace(g.Key, "-", "_", 2), "Bearer " + g.Key,
	} {
		if id, ok := ID(k); ok {
			t.Errorf("ID(%q) = %q, want refused", k, id)
		}
	}
}
