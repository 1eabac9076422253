package enginesim

import (
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
)

// A Profile is how engine-sim plays one engine: it recognises the engine's command, parses its arguments with the
// engine's own flag table, refuses at start what the real engine refuses (with its message and exit status), and
// serves the engine's HTTP surface and metric names. One file per engine (profile_<name>.go) registers it.
type Profile struct {
	// Name is the engine's name in the operator's registry (spec.engine.name).
	Name string
	// Flags is the engine's command line at its pinned release.
	Flags *FlagTable
	// Command recognises the engine's program in argv (the container's command and args) and returns the name the
	// engine prints in its messages and the arguments its parser reads.
	Command func(argv []string) (prog string, args []string, ok bool)
	// MaxPositionals is how many positional arguments the parser takes.
	MaxPositionals int
	// Start reads what the engine serves from its parsed command line and environment, or returns the engine's
	// refusal (a *UsageError) for what it would refuse at start.
	Start func(cl CommandLine, env Environment) (Served, error)
	// ListensWhileLoading says the HTTP server answers (503) while the model loads; otherwise nothing listens
	// until it is loaded (connections are refused), as vLLM and TGI do.
	ListensWhileLoading bool
	// AnyModel says requests may name any model (the engine serves one and ignores the field).
	AnyModel bool
	// TGIErrors says errors have TGI's shape ({"error", "error_type"}) instead of OpenAI's.
	TGIErrors bool
	// Metrics writes the /metrics page; nil when the page needs an option the command line lacks (see Served).
	Metrics func(m *metricsWriter, st *Snapshot)
	// Routes adds the engine's own routes to the mux (optional).
	Routes func(s *Server, mux *http.ServeMux)
}

// Environment is what the engine process gets from its container besides the command line.
type Environment struct {
	// UID is the user the process runs as.
	UID int64
	// Vars are the container's environment variables.
	Vars map[string]string
	// CheckFiles says the model's local paths are on this machine (--check-files): a folder or file the engine
	// would open must exist, or it fails as the engine does.
	CheckFiles bool
}

// Served is what a started engine serves.
type Served struct {
	// Host and Port are where it listens ("" or 0.0.0.0: every address).
	Host string
	Port int
	// ServedModelName is the model /v1/models lists.
	ServedModelName string
	// MetricsOff says /metrics is not enabled on this command line (llama.cpp without --metrics answers 501).
	MetricsOff bool
}

// Snapshot is the server state a metrics page is written from; the server's lock is held.
type Snapshot struct {
	Model                          string
	Running, Waiting               int
	KVUsed, KVCapacity             int
	PromptTokens, GenerationTokens uint64
	RequestCount, RequestSuccess   uint64
	TTFT, E2E, InputLength, Output *histogram
	CacheMetric                    CacheMetric
}

var profiles = map[string]*Profile{}

func register(p *Profile) {
	if _, dup := profiles[p.Name]; dup {
		panic("engine-sim profile " + p.Name + " registered twice")
	}
	profiles[p.Name] = p
}

// ProfileFor returns the profile of an engine name.
func ProfileFor(name string) (*Profile, bool) {
	p, ok := profiles[name]
	return p, ok
}

// Profiles are the names of the simulated engines, sorted.
func Profiles() []string {
	var out []string
	for n := range profiles {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Detect finds the engine whose command argv runs.
func Detect(argv []string) (*Profile, string, []string, error) {
	if len(argv) == 0 {
		return nil, "", nil, &UsageError{Code: 127, Message: "engine-sim: no engine command line after --"}
	}
	for _, n := range Profiles() {
		if prog, args, ok := profiles[n].Command(argv); ok {
			return profiles[n], prog, args, nil
		}
	}
	// What a container runtime says when the image has no such executable.
	return nil, "", nil, &UsageError{Code: 127, Message: fmt.Sprintf(
		"exec: %q: executable file not found in $PATH (engine-sim plays %s)", argv[0], strings.Join(Profiles(), ", "))}
}

// programIs says whether argv[0] is the program name (as a bare name or a path ending in it).
func programIs(argv0, name string) bool { return argv0 == name || path.Base(argv0) == name }

// isWildcard says whether a bind address means every address.
func isWildcard(host string) bool {
	return host == "" || host == "0.0.0.0" || host == "::" || host == "[::]"
}

func exitf(code int, format string, args ...any) error {
	return &UsageError{Code: code, Message: fmt.Sprintf(format, args...)}
}
