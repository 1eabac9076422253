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

// Run serves o on Host:Port until ctx is done. Engines that start their HTTP server only once the model is loaded
// (vLLM, TGI) listen only after the load delay, so connections are refused meanwhile, as they are in a real pod.
// It returns an error when the port cannot be bound or the listener fails; a done ctx is a clean stop (nil). It
// logs one line when it listens to log.
func Run(ctx context.Context, o Options, log io.Writer) error {
	s, err := New(o.Config)
	if err != nil {
		return err
	}
	defer s.Close()
	addr := net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	cfg := s.Config()
	fmt.Fprintf(log, "engine-sim: %s loading %q for %s (%g tokens/s per sequence, batch %d, KV cache %d tokens)\n",
		cfg.Engine, cfg.ServedModelName, cfg.LoadDelay, cfg.TokenRate, cfg.MaxBatch, cfg.KVCapacity)
	if !s.profile.ListensWhileLoading {
		select {
		case <-s.Ready():
		case <-ctx.Done():
			return nil
		}
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve %s: %w", addr, err)
		}
	}()
	fmt.Fprintf(log, "engine-sim: %s serving %q on http://%s\n", cfg.Engine, cfg.ServedModelName, addr)

	select {
	case <-ctx.Done():
		err = nil
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if srv.Shutdown(shutdownCtx) != nil {
		s.Close() // ends running sequences
		_ = srv.Close()
	}
	return err
}
