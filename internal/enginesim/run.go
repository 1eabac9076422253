package enginesim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// shutdownGrace is how long Run lets in-flight requests finish after ctx is done before it cuts them off.
const shutdownGrace = time.Second

// Run serves o until ctx is done: the API on Host:Port and, when MetricsPort is set, /metrics on
// Host:MetricsPort. It returns an error when a port cannot be bound or a listener fails; a done ctx is a clean
// stop (nil). It logs one line when it listens to log.
func Run(ctx context.Context, o Options, log io.Writer) error {
	s, err := New(o.Config)
	if err != nil {
		return err
	}
	defer s.Close()

	type endpoint struct {
		addr    string
		handler http.Handler
	}
	eps := []endpoint{{net.JoinHostPort(o.Host, strconv.Itoa(o.Port)), s.Handler()}}
	if o.MetricsPort > 0 {
		eps = append(eps, endpoint{net.JoinHostPort(o.Host, strconv.Itoa(o.MetricsPort)), s.MetricsHandler()})
	}
	var servers []*http.Server
	var listeners []net.Listener
	for _, ep := range eps {
		l, err := net.Listen("tcp", ep.addr)
		if err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
			return fmt.Errorf("listen on %s: %w", ep.addr, err)
		}
		listeners = append(listeners, l)
		servers = append(servers, &http.Server{Handler: ep.handler, ReadHeaderTimeout: 10 * time.Second})
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(listeners[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve %s: %w", eps[i].addr, err)
			}
		}()
	}
	cfg := s.Config()
	metricsAt := "/metrics on the same port"
	if o.MetricsPort > 0 {
		metricsAt = "/metrics also on http://" + eps[1].addr
	}
	fmt.Fprintf(log, "engine-sim: %s serving %q on http://%s (%s); %g tokens/s per sequence, batch %d, "+
		"KV cache %d tokens, load delay %s\n", cfg.Engine, cfg.ServedModelName, eps[0].addr, metricsAt,
		cfg.TokenRate, cfg.MaxBatch, cfg.KVCapacity, cfg.LoadDelay)

	select {
	case <-ctx.Done():
		err = nil
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for _, srv := range servers {
		if srv.Shutdown(shutdownCtx) != nil {
			s.Close() // ends running sequences
			_ = srv.Close()
		}
	}
	return err
}
