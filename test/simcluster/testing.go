package simcluster

import (
	"context"
	"errors"
	"os"
	"testing"
)

// RequireEnv names the environment variable that turns "binaries missing" from a skipped test into a failed
// one (set it in CI, where the binaries are built first).
const RequireEnv = "PRIVATELLM_REQUIRE_SIMCLUSTER"

// BinariesForTest returns the binaries folder, or skips t when there is none (fails it when
// $PRIVATELLM_REQUIRE_SIMCLUSTER is set). It never builds.
func BinariesForTest(t testing.TB) string {
	t.Helper()
	dir, err := FindBinaries(context.Background(), false)
	if err != nil {
		if errors.Is(err, ErrBinariesNotFound) && os.Getenv(RequireEnv) == "" {
			t.Skipf("simulated cluster unavailable (set %s=1 to fail instead): %v", RequireEnv, err)
		}
		t.Fatalf("simulated cluster binaries: %v", err)
	}
	return dir
}

// StartForTest starts a cluster for t and stops it when t ends. Without binaries it skips t (see
// BinariesForTest). When t has failed, the end of each component's log is logged before the cluster stops.
func StartForTest(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.BinDir == "" {
		opts.BinDir = BinariesForTest(t)
	}
	c, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start simulated cluster: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("simulated cluster logs (%s):\n%s", c.Dir(), c.LogTails(40))
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stop simulated cluster: %v", err)
		}
	})
	return c
}
