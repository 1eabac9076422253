package simcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// BinDirEnv names the environment variable that points at a folder holding the Kubernetes binaries; when it
// is set, it wins over the project's cache.
const BinDirEnv = "PRIVATELLM_K8S_BIN_DIR"

// ErrBinariesNotFound is returned (wrapped) by FindBinaries when no folder holds all the binaries.
var ErrBinariesNotFound = errors.New("simulated cluster binaries not found")

// requiredBinaries are the programs a cluster runs; kubectl is optional (handy for people, unused here).
var requiredBinaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// FindBinaries returns the folder holding etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok (and kwok's node stages under kwok-stages/). It looks, in order, at $PRIVATELLM_K8S_BIN_DIR, then, when
// build is true, runs hack/build-k8s-binaries.sh all (fast once cached; several minutes the first time),
// otherwise at the project's cache bin/k8s/*/. The error wraps ErrBinariesNotFound when nothing is there.
func FindBinaries(ctx context.Context, build bool) (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		if err := checkBinDir(dir); err != nil {
			return "", fmt.Errorf("$%s: %w", BinDirEnv, err)
		}
		return dir, nil
	}
	root, err := projectRoot()
	if err != nil {
		return "", err
	}
	if build {
		return buildBinaries(ctx, root)
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "bin", "k8s", "*"))
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // the newest version first
	for _, dir := range dirs {
		if checkBinDir(dir) == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w: no complete folder under %s (run hack/build-k8s-binaries.sh all or set $%s)",
		ErrBinariesNotFound, filepath.Join(root, "bin", "k8s"), BinDirEnv)
}

// checkBinDir reports which required binaries a folder lacks.
func checkBinDir(dir string) error {
	var missing []string
	for _, b := range requiredBinaries {
		if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s lacks %s", ErrBinariesNotFound, dir, strings.Join(missing, ", "))
	}
	return nil
}

// buildBinaries runs the project's build script and returns the folder it prints on its last line.
func buildBinaries(ctx context.Context, root string) (string, error) {
	script := filepath.Join(root, "hack", "build-k8s-binaries.sh")
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script, "all")
	cmd.Dir = root
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s all: %w\n%s", script, err, lastLines(stderr.String(), 20))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	dir := strings.TrimSpace(lines[len(lines)-1])
	if err := checkBinDir(dir); err != nil {
		return "", fmt.Errorf("%s all printed %q: %w", script, dir, err)
	}
	return dir, nil
}

// projectRoot finds the module root: the working directory's (for `go run`/binaries started from the
// checkout), else the one this source file sits in (tests of other packages).
func projectRoot() (string, error) {
	for _, start := range []string{cwd(), sourceDir()} {
		for dir := start; dir != "" && dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "hack", "build-k8s-binaries.sh")); err == nil {
				return dir, nil
			}
		}
	}
	return "", fmt.Errorf("%w: cannot find the project root (hack/build-k8s-binaries.sh) above %s; set $%s",
		ErrBinariesNotFound, cwd(), BinDirEnv)
}

func cwd() string {
	d, _ := os.Getwd()
	return d
}

func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Dir(file)
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
