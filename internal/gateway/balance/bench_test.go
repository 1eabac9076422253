package balance

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchPool returns a pool of n endpoints with a background of 3n running requests spread unevenly.
func benchPool(b *testing.B, n int) *Pool {
	p := NewPool(Config{})
	p.Update(testEndpoints(n))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3 * n {
		if _, ok := p.Pick(PickOptions{HasKey: true, Key: rng.Uint64() % 4}); !ok {
			b.Fatal("no endpoint")
		}
	}
	return p
}

// Each iteration is one request: Pick, then Done.
func BenchmarkPickLeast(b *testing.B) {
	for _, n := range []int{8, 64} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p := benchPool(b, n)
			b.ReportAllocs()
			for b.Loop() {
				l, _ := p.Pick(PickOptions{})
				l.Done()
			}
		})
	}
}

func BenchmarkPickPrefix(b *testing.B) {
	for _, n := range []int{8, 64} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p := benchPool(b, n)
			keys := make([]uint64, 1024)
			rng := rand.New(rand.NewPCG(3, 4))
			for i := range keys {
				keys[i] = rng.Uint64()
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				l, _ := p.Pick(PickOptions{HasKey: true, Key: keys[i%len(keys)]})
				l.Done()
				i++
			}
		})
	}
}

// BenchmarkPickParallel runs requests from all Ps at once on one pool of 16 endpoints, half of them keyed, with a
// retry's Exclude on every fourth.
func BenchmarkPickParallel(b *testing.B) {
	p := benchPool(b, 16)
	exclude := []string{testEndpoints(1)[0].Address}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for i := 0; pb.Next(); i++ {
			opts := PickOptions{HasKey: i%2 == 0, Key: rng.Uint64() % 64}
			if i%4 == 1 {
				opts.Exclude = exclude
			}
			l, ok := p.Pick(opts)
			if !ok {
				b.Fatal("no endpoint")
			}
			l.Done()
		}
	})
}

// BenchmarkPrefixKey keys an 8 KiB chat body: a system prompt, six turns and a final question.
func BenchmarkPrefixKey(b *testing.B) {
	msgs := []msg{{"system", text("You are a careful assistant.\n", 1500)}}
	for i := range 6 {
		msgs = append(msgs, msg{"user", text(fmt.Sprintf("question %d\n", i), 400)}, msg{"assistant", text(fmt.Sprintf("answer %d\n", i), 650)})
	}
	msgs = append(msgs, msg{"user", "And what about tomorrow?"})
	body := chat(msgs...)
	if len(body) < 7<<10 || len(body) > 9<<10 {
		b.Fatalf("body is %d bytes, want about 8 KiB", len(body))
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := PrefixKey(body, 0, 0); !ok {
			b.Fatal("no key")
		}
	}
}
