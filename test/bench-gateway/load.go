package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// target is where the load goes: the engine-sim backends themselves ("direct") or the gateway. Worker i of a run
// sends to bases[i % len(bases)], so direct load is spread over the backends as the gateway spreads its own.
type target struct {
	name  string
	bases []string // base URLs, http://host:port
	key   string   // bearer key; empty for direct
	// sent counts the requests sent, to compare with what the gateway metered.
	sent atomic.Int64
}

func (t *target) base(worker int) string { return t.bases[worker%len(t.bases)] }

// newTransport is the load generator's client transport: HTTP/1.1, keep-alive, room to keep one idle connection
// per worker, no compression; it counts the connections it dials.
func newTransport(conns int, dials *atomic.Int64) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        2*conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

// chatBody is a chat completion request with a small prompt.
func chatBody(model string, stream bool, maxTokens int) []byte {
	return fmt.Appendf(nil, `{"model":%q,"stream":%t,"max_tokens":%d,"messages":[{"role":"user","content":"Say hello to the gateway benchmark."}]}`,
		model, stream, maxTokens)
}

func (t *target) newRequest(ctx context.Context, worker int, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base(worker)+"/v1/chat/completions", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if t.key != "" {
		req.Header.Set("Authorization", "Bearer "+t.key)
	}
	t.sent.Add(1)
	return req, nil
}

// httpError is a non-200 answer, with the start of its body.
func httpError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
}

var (
	dataPrefix = []byte("data: ")
	doneData   = []byte("[DONE]")
)

// sample is one streamed request: when it was sent, and the time to its first event and to the end of the stream
// from then.
type sample struct {
	start       time.Time
	ttfb, total time.Duration
}

// streamOnce sends one streaming chat completion and reads it to the end with br. The stream must hold the role
// event, tokens content events and the finish event, then [DONE]: what engine-sim sends when usage is not asked for
// (the gateway asks for it and removes the usage event, so a stream through it must look the same).
func streamOnce(ctx context.Context, client *http.Client, t *target, worker int, body []byte, tokens int, br *bufio.Reader) (sample, error) {
	start := time.Now()
	req, err := t.newRequest(ctx, worker, body)
	if err != nil {
		return sample{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return sample{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return sample{}, httpError(resp)
	}
	br.Reset(resp.Body)
	s := sample{start: start}
	events, done := 0, false
	for {
		line, err := br.ReadSlice('\n')
		if data, ok := bytes.CutPrefix(line, dataPrefix); ok {
			if events == 0 && !done {
				s.ttfb = time.Since(start)
			}
			if bytes.HasPrefix(data, doneData) {
				done = true
			} else {
				events++
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return s, err
		}
	}
	s.total = time.Since(start)
	if !done || events != tokens+2 {
		return s, fmt.Errorf("a stream of %d events (done: %t), want %d and [DONE]", events, done, tokens+2)
	}
	return s, nil
}

// cpuMeter reads the CPU time of the gateway and of everything else the benchmark runs (itself and the backends),
// and how busy the gateway's CPU and the others were: what is left of that once our processes are taken away is
// other work on the machine.
type cpuMeter struct {
	gateway, rest       []int // process IDs
	gatewayCPU, restCPU []int // CPU numbers
}

type cpuSnap struct {
	at            time.Time
	gateway, rest float64 // CPU seconds of our processes
	// user+nice+system seconds of the gateway's CPU and of the rest's CPUs, all processes; steal of all CPUs.
	gatewayCPU, restCPU, steal float64
}

func (m cpuMeter) snap() cpuSnap {
	s := cpuSnap{at: time.Now()}
	s.gateway, _ = sumCPU(m.gateway)
	s.rest, _ = sumCPU(m.rest)
	if cpus, err := procStat(); err == nil {
		for c, t := range cpus {
			switch {
			case slices.Contains(m.gatewayCPU, c):
				s.gatewayCPU += t.busy
			case slices.Contains(m.restCPU, c):
				s.restCPU += t.busy
			}
			s.steal += t.steal
		}
	}
	return s
}

// usage is CPU seconds and wall time over one or more measured windows.
type usage struct {
	wall          time.Duration
	gateway, rest float64
	// foreignGateway and foreignRest are other processes' CPU seconds on the gateway's CPU and on the others.
	foreignGateway, foreignRest, steal float64
}

func (u *usage) add(a, b cpuSnap) {
	u.wall += b.at.Sub(a.at)
	u.gateway += b.gateway - a.gateway
	u.rest += b.rest - a.rest
	u.foreignGateway += max(0, (b.gatewayCPU-a.gatewayCPU)-(b.gateway-a.gateway))
	u.foreignRest += max(0, (b.restCPU-a.restCPU)-(b.rest-a.rest))
	u.steal += b.steal - a.steal
}

func (u *usage) merge(v usage) {
	u.wall += v.wall
	u.gateway += v.gateway
	u.rest += v.rest
	u.foreignGateway += v.foreignGateway
	u.foreignRest += v.foreignRest
	u.steal += v.steal
}

// cores is how many cores the CPU seconds kept busy on average.
func (u usage) cores(cpu float64) float64 {
	if u.wall <= 0 {
		return 0
	}
	return cpu / u.wall.Seconds()
}

// streamRun is one run of streaming requests.
type streamRun struct {
	sent     int64 // requests, measured or not
	samples  []sample
	errors   int
	firstErr error
	dials    int64
	cpu      usage
}

// runStreams keeps c streams open, closed loop, until n requests have been measured. Worker w starts after
// w/c of stagger (a request's length), so that the streams' token timers are spread over time rather than firing
// together, and sends one unmeasured request first (it opens the worker's connection).
func runStreams(ctx context.Context, t *target, c, n, tokens int, body []byte, stagger time.Duration, m cpuMeter) streamRun {
	var dials atomic.Int64
	tr := newTransport(c, &dials)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	samples := make([]sample, n)
	ok := make([]bool, n)
	var next atomic.Int64
	var mu sync.Mutex
	run := streamRun{}
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		run.errors++
		if run.firstErr == nil {
			run.firstErr = err
		}
	}
	before, sent := m.snap(), t.sent.Load()
	var wg sync.WaitGroup
	for w := range c {
		wg.Go(func() {
			br := bufio.NewReaderSize(nil, 4096)
			if !sleepCtx(ctx, stagger*time.Duration(w)/time.Duration(c)) {
				return
			}
			if _, err := streamOnce(ctx, client, t, w, body, tokens, br); err != nil && ctx.Err() == nil {
				fail(fmt.Errorf("warm-up: %w", err))
			}
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				s, err := streamOnce(ctx, client, t, w, body, tokens, br)
				if err != nil {
					if ctx.Err() == nil {
						fail(err)
					}
					continue
				}
				samples[i], ok[i] = s, true
			}
		})
	}
	wg.Wait()
	run.cpu.add(before, m.snap())
	run.sent = t.sent.Load() - sent
	for i, s := range samples {
		if ok[i] {
			run.samples = append(run.samples, s)
		}
	}
	run.dials = dials.Load()
	return run
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// percentiles are nearest-rank percentiles of the TTFB and total times of samples.
type percentiles struct {
	n                                int
	ttfb50, ttfb99, total50, total99 time.Duration
}

func percentilesOf(samples []sample) percentiles {
	p := percentiles{n: len(samples)}
	if len(samples) == 0 {
		return p
	}
	ttfb := make([]time.Duration, len(samples))
	total := make([]time.Duration, len(samples))
	for i, s := range samples {
		ttfb[i], total[i] = s.ttfb, s.total
	}
	p.ttfb50, p.ttfb99 = rank(ttfb, 0.50), rank(ttfb, 0.99)
	p.total50, p.total99 = rank(total, 0.50), rank(total, 0.99)
	return p
}

// rank sorts v and returns its q-quantile by nearest rank.
func rank(v []time.Duration, q float64) time.Duration {
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	i := int(float64(len(v))*q+0.9999999) - 1
	return v[min(max(i, 0), len(v)-1)]
}

// rpsRun is one closed-loop run of short requests.
type rpsRun struct {
	completed int64 // in the measured window
	window    time.Duration
	errors    int64
	firstErr  error
	dials     int64
	cpu       usage
}

func (r rpsRun) rate() float64 { return float64(r.completed) / r.window.Seconds() }

// runRPS keeps conns workers, each on its own rawConn, sending short non-streaming requests back to back for
// warmup plus window, and counts the answers completed within the window; the CPU of the gateway and of the rest
// is read at the window's ends. during, when not nil, runs (in its own goroutine) over the window.
func runRPS(ctx context.Context, t *target, conns int, body []byte, warmup, window time.Duration, m cpuMeter, during func(context.Context)) rpsRun {
	var dials, completed, errs atomic.Int64
	var firstErr atomic.Pointer[error]
	stop, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			c := newRawConn(t, w, body, &dials)
			defer c.close()
			for stop.Err() == nil {
				if err := c.do(stop); err != nil {
					if stop.Err() == nil {
						errs.Add(1)
						firstErr.CompareAndSwap(nil, &err)
					}
					continue
				}
				completed.Add(1)
			}
		})
	}
	run := rpsRun{}
	if sleepCtx(ctx, warmup) {
		before, n0 := m.snap(), completed.Load()
		var side sync.WaitGroup
		if during != nil {
			side.Go(func() { during(ctx) })
		}
		sleepCtx(ctx, window)
		after, n1 := m.snap(), completed.Load()
		run.cpu.add(before, after)
		run.completed, run.window = n1-n0, after.at.Sub(before.at)
		cancel()
		side.Wait()
	}
	cancel()
	wg.Wait()
	run.errors, run.dials = errs.Load(), dials.Load()
	if p := firstErr.Load(); p != nil {
		run.firstErr = *p
	}
	return run
}

// rawConn is a minimal HTTP/1.1 client connection for the short-request runs: the request is written from
// prepared bytes and the answer read by its Content-Length. On a machine where one core runs the load generator
// and the backends, net/http's client would cost that core about as much per request as the gateway costs its own,
// and the load side, not the gateway, would set the rate. It reconnects when the server closes the connection.
type rawConn struct {
	t     *target
	addr  string
	req   []byte
	dials *atomic.Int64
	conn  net.Conn
	br    *bufio.Reader
	stop  func() bool // unregisters the close on cancellation
}

func newRawConn(t *target, worker int, body []byte, dials *atomic.Int64) *rawConn {
	base := t.base(worker)
	host := strings.TrimPrefix(base, "http://")
	var req bytes.Buffer
	fmt.Fprintf(&req, "POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", host, len(body))
	if t.key != "" {
		fmt.Fprintf(&req, "Authorization: Bearer %s\r\n", t.key)
	}
	req.WriteString("\r\n")
	req.Write(body)
	return &rawConn{t: t, addr: host, req: req.Bytes(), dials: dials}
}

// do sends the request and reads the answer, which must be a 200 with a Content-Length. A cancelled ctx closes
// the connection, so that a request in flight ends.
func (c *rawConn) do(ctx context.Context) error {
	if c.conn == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return err
		}
		c.dials.Add(1)
		c.conn, c.br = conn, bufio.NewReaderSize(conn, 4096)
		c.stop = context.AfterFunc(ctx, func() { conn.Close() })
	}
	err := c.roundTrip()
	if err != nil {
		c.close()
	}
	return err
}

func (c *rawConn) roundTrip() error {
	c.t.sent.Add(1)
	if _, err := c.conn.Write(c.req); err != nil {
		return err
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	ok := bytes.HasPrefix(line, []byte("HTTP/1.1 200 "))
	status := string(bytes.TrimSpace(line))
	length, closing := -1, false
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		k, v, _ := bytes.Cut(line, []byte(":"))
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil {
				return fmt.Errorf("Content-Length %q", v)
			}
		case bytes.EqualFold(k, []byte("Connection")) && bytes.EqualFold(v, []byte("close")):
			closing = true
		}
	}
	if length < 0 {
		return fmt.Errorf("%s without Content-Length", status)
	}
	if !ok {
		b := make([]byte, min(length, 512))
		_, _ = io.ReadFull(c.br, b)
		return fmt.Errorf("%s: %s", status, b)
	}
	if _, err := c.br.Discard(length); err != nil {
		return err
	}
	if closing {
		c.close()
	}
	return nil
}

func (c *rawConn) close() {
	if c.conn != nil {
		c.stop()
		c.conn.Close()
		c.conn, c.br = nil, nil
	}
}

// streamSet is n streams held open, each on its own connection.
type streamSet struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	tr     *http.Transport
	dials  atomic.Int64
}

// openStreams opens n streams to t, at most parallel being set up at once, and returns once every one has
// delivered its first event. They stay open, read and discarded, until close.
func openStreams(ctx context.Context, t *target, n, parallel int, body []byte, within time.Duration) (*streamSet, error) {
	sctx, cancel := context.WithCancel(ctx)
	s := &streamSet{cancel: cancel}
	s.tr = newTransport(n, &s.dials)
	client := &http.Client{Transport: s.tr}
	opened := make(chan error, n)
	sem := make(chan struct{}, parallel)
	for w := range n {
		s.wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-sctx.Done():
				opened <- sctx.Err()
				return
			}
			holdOne(sctx, client, t, w, body, func(err error) {
				<-sem
				opened <- err
			})
		})
	}
	timeout := time.NewTimer(within)
	defer timeout.Stop()
	for i := range n {
		select {
		case err := <-opened:
			if err != nil {
				s.close()
				return nil, err
			}
		case <-timeout.C:
			s.close()
			return nil, fmt.Errorf("only %d of %d streams open within %s", i, n, within)
		case <-ctx.Done():
			s.close()
			return nil, ctx.Err()
		}
	}
	return s, nil
}

// holdOne opens one stream and calls opened once: with nil when its first event is in (it then reads the stream
// until ctx ends), or with the error that kept it from opening.
func holdOne(ctx context.Context, client *http.Client, t *target, worker int, body []byte, opened func(error)) {
	req, err := t.newRequest(ctx, worker, body)
	if err != nil {
		opened(err)
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		opened(err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		opened(httpError(resp))
		return
	}
	br := bufio.NewReaderSize(resp.Body, 1024)
	for {
		line, err := br.ReadSlice('\n')
		if bytes.HasPrefix(line, dataPrefix) {
			break
		}
		if err != nil {
			opened(fmt.Errorf("stream ended before its first event: %w", err))
			return
		}
	}
	opened(nil)
	_, _ = io.Copy(io.Discard, br) // until the context cancels the request
}

// close ends the streams and waits for their goroutines.
func (s *streamSet) close() {
	s.cancel()
	s.wg.Wait()
	s.tr.CloseIdleConnections()
}
