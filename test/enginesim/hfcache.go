package enginesim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Offline loading from a Hugging Face cache, as the engines do in the operator's pods: with HF_HUB_OFFLINE=1 the
// engine makes no request at all and finds the model in the cache on a mounted volume (HF_HUB_CACHE), or fails at
// start with the message of its own stack. Once found, the snapshot's config.json stands for the checkpoint
// instead of the name heuristics of hub.go. Without HF_HUB_OFFLINE nothing here applies: the simulated Hub
// (hub.go) answers, as before. engine-sim never downloads.
//
// Where each behaviour comes from:
//
//   - huggingface_hub 1.29.0.dev0, commit ee0a4510f4bc15e26cb722be2efc2bdb01383ca0 (the release hubsim and
//     internal/hub cite), src/huggingface_hub/: constants.py _is_true ("1", "ON", "YES", "TRUE", any case),
//     HF_HUB_OFFLINE = _is_true(HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE), HF_HUB_CACHE ← HUGGINGFACE_HUB_CACHE ←
//     $HF_HOME/hub, HF_HOME ← $XDG_CACHE_HOME/huggingface ← ~/.cache/huggingface; file_download.py
//     repo_folder_name ("models--org--name") and REGEX_COMMIT_HASH; _snapshot_download.py: a commit revision is
//     looked up under snapshots/ directly, a branch or tag through the content of refs/<revision> (read as is, no
//     newline stripped), and a miss raises LocalEntryNotFoundError (hfOfflineMessage).
//   - vLLM (vLLM's and SGLang's start read config.json first): vllm/transformers_utils/config.py get_config wraps
//     the miss in "ValueError: Invalid repository ID or local directory specified" (vllmMissingModel). Read at
//     vllm-project/vllm@0036026e7171bd02e3c1d4687b102dec9c446049, a commit after the pinned v0.18.0; user reports
//     of vLLM with HF_HUB_OFFLINE=1 and an unstaged cache show the same error (some releases add a third item on
//     GGUF to its list).
//   - TGI v3.3.6 (huggingface/text-generation-inference@efb94e0d3db6aba9d464bc9a2f83191146203152):
//     server/text_generation_server/utils/hub.py reads HF_HUB_OFFLINE itself (lower() in "true", "1", "yes": no
//     "on"), looks in huggingface_hub's HUGGINGFACE_HUB_CACHE (the older name only: HF_HUB_CACHE is not read;
//     the image sets HF_HOME=/data, Dockerfile), resolves refs/<revision> then snapshots/<sha>
//     (_get_cached_revision_directory) and needs *.safetensors at the snapshot's top level (weight_hub_files:
//     "No .safetensors weights found for model … and revision …"); launcher/src/main.rs then logs "Download
//     encountered an error" and main returns LauncherError::DownloadError ("Error: DownloadError", exit 1).
//   - llama.cpp common/hf-cache.cpp (get_cache_directory: LLAMA_CACHE, HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE,
//     $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub; get_cached_ref: refs/main, else
//     another ref) and common/download.cpp (find_best_model: the tag followed by "." or "-", case-insensitive,
//     else Q4_K_M, then Q8_0, then any model file; mmproj, imatrix and speculative drafts are not models; a split
//     model by its first part), read at ggml-org/llama.cpp@03eb25f39343f1c9ecc6f85ca4f9796a6ab7b230 and
//     @0216dab364b886a4638020856333c07044453dd9, later than the pinned b8914. Online, llama.cpp falls back to the
//     cache when the Hub cannot be reached; engine-sim takes HF_HUB_OFFLINE (the operator's air-gapped pods) as
//     that, besides llama.cpp's own --offline / LLAMA_OFFLINE.

// hfOfflineMessage is huggingface_hub's LocalEntryNotFoundError when snapshot_download(local_files_only=True) —
// what vLLM and SGLang pass as HF_HUB_OFFLINE — finds no snapshot (_snapshot_download.py).
const hfOfflineMessage = "huggingface_hub.errors.LocalEntryNotFoundError: Cannot find an appropriate cached snapshot folder for the " +
	"specified revision on the local disk and outgoing traffic has been disabled. To enable repo look-ups and downloads " +
	"online, pass 'local_files_only=False' as input."

// vllmMissingModel is vLLM's refusal of a model it finds neither in the cache nor as a local folder with a
// config.json, after the cause huggingface_hub raised, as Python prints a chained exception.
func vllmMissingModel(model string) error {
	return exitf(1, "%s\n\nThe above exception was the direct cause of the following exception:\n\n"+
		"ValueError: Invalid repository ID or local directory specified: '%s'.\n"+
		"Please verify the following requirements:\n"+
		"1. Provide a valid Hugging Face repository ID.\n"+
		"2. Specify a local directory that contains a recognized configuration file.\n"+
		"   - For Hugging Face models: ensure the presence of a 'config.json'.\n"+
		"   - For Mistral models: ensure the presence of a 'params.json'.", hfOfflineMessage, model)
}

// hfTrue is huggingface_hub's _is_true.
func hfTrue(v string) bool {
	switch strings.ToUpper(v) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

// hfOffline is huggingface_hub's HF_HUB_OFFLINE: the first of HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE that is set
// and not empty decides (Python's `or`), so HF_HUB_OFFLINE=0 wins over TRANSFORMERS_OFFLINE=1.
func hfOffline(vars map[string]string) bool {
	v := vars["HF_HUB_OFFLINE"]
	if v == "" {
		v = vars["TRANSFORMERS_OFFLINE"]
	}
	return hfTrue(v)
}

// hfHome is huggingface_hub's HF_HOME (without ~ and $VAR expansion, which container env values do not need).
func hfHome(vars map[string]string) string {
	if v, ok := vars["HF_HOME"]; ok {
		return v
	}
	if v, ok := vars["XDG_CACHE_HOME"]; ok {
		return path.Join(v, "huggingface")
	}
	return path.Join(homeOf(vars), ".cache", "huggingface")
}

// homeOf is ~ of the engine process: $HOME, else root's (the engines' images run as root unless told otherwise).
func homeOf(vars map[string]string) string {
	if v := vars["HOME"]; v != "" {
		return v
	}
	return "/root"
}

// hfHubCache is huggingface_hub's HF_HUB_CACHE.
func hfHubCache(vars map[string]string) string {
	if v, ok := vars["HF_HUB_CACHE"]; ok {
		return v
	}
	if v, ok := vars["HUGGINGFACE_HUB_CACHE"]; ok {
		return v
	}
	return path.Join(hfHome(vars), "hub")
}

// repoFolder is huggingface_hub's repo_folder_name for a model.
func repoFolder(repo string) string { return "models--" + strings.Join(strings.Split(repo, "/"), "--") }

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// hfSnapshot resolves a revision in the cache as huggingface_hub does offline: a commit names its snapshot, a branch
// or tag is read from refs/<revision>. It returns the snapshot folder, or false when there is none.
func hfSnapshot(cacheDir, repo, revision string) (string, bool) {
	if revision == "" {
		revision = "main"
	}
	repoDir := filepath.Join(cacheDir, repoFolder(repo))
	commit := revision
	if !commitRE.MatchString(revision) {
		raw, err := os.ReadFile(filepath.Join(repoDir, "refs", filepath.FromSlash(revision)))
		if err != nil {
			return "", false
		}
		commit = string(raw)
	}
	if commit == "" || strings.ContainsAny(commit, "/\\") || commit == "." || commit == ".." {
		return "", false
	}
	dir := filepath.Join(repoDir, "snapshots", commit)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", false
	}
	return dir, true
}

// isLocalPath says whether a model argument names a folder rather than a Hub repo id: the engines try it as a path
// first; a repo id is "name" or "org/name", never absolute or relative to the working directory.
func isLocalPath(model string) bool {
	return filepath.IsAbs(model) || strings.HasPrefix(model, "./") || strings.HasPrefix(model, "../") ||
		model == "." || model == ".."
}

// isDir says whether p is a folder.
func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// hasFile says whether dir holds a file (or a link to one) of that name.
func hasFile(dir, name string) bool {
	fi, err := os.Stat(filepath.Join(dir, name))
	return err == nil && !fi.IsDir()
}

// checkpointIn reads what a snapshot (or local model folder) says of the checkpoint: quantization_config.quant_method
// of its config.json, lower-cased as vLLM compares it, and whether it holds GGUF files. Without a config.json the
// model's name stands for it, as online (checkpointOf).
func checkpointIn(dir, model string) (checkpoint, error) {
	c := checkpointOf(model)
	c.GGUF = c.GGUF || len(ggufFiles(dir)) > 0
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, exitf(1, "OSError: %v", err)
	}
	var cfg struct {
		Quantization *struct {
			QuantMethod string `json:"quant_method"`
		} `json:"quantization_config"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		// transformers' PretrainedConfig._dict_from_json_file failure.
		return c, exitf(1, "OSError: It looks like the config file at '%s' is not a valid JSON file.", filepath.Join(dir, "config.json"))
	}
	c.QuantMethod = ""
	if cfg.Quantization != nil {
		c.QuantMethod = strings.ToLower(cfg.Quantization.QuantMethod)
	}
	return c, nil
}

// transformersCheckpoint is the checkpoint of a vLLM or SGLang model: offline, from the cache (or the local folder),
// else the model's name. The engine reads config.json (or Mistral's params.json) first; without either it fails
// with missing.
func transformersCheckpoint(model, revision string, env Environment, missing func() error) (checkpoint, error) {
	if env.CheckFiles && isLocalPath(model) && !isDir(model) {
		// Not a folder here: the engine takes it for a repository id, which a path is not, online or offline.
		return checkpoint{}, missing()
	}
	if !hfOffline(env.Vars) {
		return checkpointOf(model), nil
	}
	dir := model
	if !isLocalPath(model) || !isDir(model) {
		var ok bool
		if dir, ok = hfSnapshot(hfHubCache(env.Vars), model, revision); !ok {
			return checkpoint{}, missing()
		}
	}
	if !hasFile(dir, "config.json") && !hasFile(dir, "params.json") {
		return checkpoint{}, missing()
	}
	return checkpointIn(dir, model)
}

// tgiOffline is TGI's own reading of HF_HUB_OFFLINE (server/text_generation_server/utils/hub.py).
func tgiOffline(vars map[string]string) bool {
	v, ok := vars["HF_HUB_OFFLINE"]
	if !ok {
		v = "0"
	}
	switch strings.ToLower(v) {
	case "true", "1", "yes":
		return true
	}
	return false
}

// tgiCheckpoint is the checkpoint of a TGI model: offline, the launcher's download step must find the weights in
// the cache (hubCache, the launcher's HUGGINGFACE_HUB_CACHE) or it exits 1; else the model's name.
func tgiCheckpoint(model, revision, hubCache string, env Environment) (checkpoint, error) {
	if !tgiOffline(env.Vars) {
		return checkpointOf(model), nil
	}
	if hubCache == "" {
		home, ok := env.Vars["HF_HOME"]
		if !ok {
			home = "/data" // the image's ENV HF_HOME
		}
		hubCache = path.Join(home, "hub")
	}
	pyRevision := "None"
	if revision != "" {
		pyRevision = revision
	}
	fail := func(msg string) error {
		return exitf(1, "Download encountered an error: \n%s\nError: DownloadError", msg)
	}
	if isDir(model) {
		if len(topLevel(model, ".safetensors")) == 0 {
			return checkpoint{}, fail(fmt.Sprintf("FileNotFoundError: No local weights found in %s with extension .safetensors", model))
		}
		return checkpointIn(model, model)
	}
	dir, ok := hfSnapshot(hubCache, model, revision)
	if !ok || len(topLevel(dir, ".safetensors")) == 0 {
		return checkpoint{}, fail(fmt.Sprintf("huggingface_hub.errors.EntryNotFoundError: No .safetensors weights found for model %s and revision %s.",
			model, pyRevision))
	}
	return checkpointIn(dir, model)
}

// topLevel lists the files of dir (not below it) with the extension, as TGI's _weight_files_from_dir does.
func topLevel(dir, ext string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ext) && !strings.Contains(n, "arguments") && !strings.Contains(n, "args") &&
			!strings.Contains(n, "training") && hasFile(dir, n) {
			out = append(out, n)
		}
	}
	return out
}

// llamaTruthy is llama.cpp's reading of a switch's environment variable.
func llamaTruthy(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "on", "enabled":
		return true
	}
	return false
}

// llamaCacheDir is llama.cpp's hf_cache get_cache_directory.
func llamaCacheDir(vars map[string]string) string {
	for _, e := range []struct{ name, sub string }{
		{"LLAMA_CACHE", ""}, {"HF_HUB_CACHE", ""}, {"HUGGINGFACE_HUB_CACHE", ""}, {"HF_HOME", "hub"},
		{"XDG_CACHE_HOME", "huggingface/hub"}, {"HOME", ".cache/huggingface/hub"},
	} {
		if v := vars[e.name]; v != "" {
			return path.Join(v, e.sub)
		}
	}
	return "/root/.cache/huggingface/hub"
}

// llamaCachedGGUF finds the model file of `-hf repo[:tag]` (or --hf-file) in llama.cpp's cache: the snapshot of
// refs/main (else of another ref), then find_best_model. It returns the file's path in the snapshot, or false.
func llamaCachedGGUF(cacheDir, repo, tag, hfFile string) (string, bool) {
	repoDir := filepath.Join(cacheDir, repoFolder(repo))
	refs, _ := os.ReadDir(filepath.Join(repoDir, "refs"))
	commit := ""
	for _, r := range refs { // ReadDir sorts: the fallback is the first ref by name
		if !r.Type().IsRegular() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(repoDir, "refs", r.Name()))
		line, _, _ := strings.Cut(string(raw), "\n")
		if err != nil || !commitRE.MatchString(strings.ToLower(line)) {
			continue
		}
		if r.Name() == "main" {
			commit = line
			break
		}
		if commit == "" {
			commit = line
		}
	}
	snap := filepath.Join(repoDir, "snapshots", commit)
	if commit == "" || !isDir(snap) {
		return "", false
	}
	files := ggufFiles(snap)
	if hfFile != "" {
		for _, f := range files {
			if strings.EqualFold(f, hfFile) {
				return f, true
			}
		}
		return "", false
	}
	tags := []string{tag}
	if tag == "" {
		tags = []string{"Q4_K_M", "Q8_0"}
	}
	for _, t := range tags {
		re, err := regexp.Compile("(?i)" + regexp.QuoteMeta(t) + "[.-]")
		if err != nil {
			continue
		}
		for _, f := range files {
			if ggufIsModel(f) && re.MatchString(f) && firstSplit(f) {
				return f, true
			}
		}
	}
	if tag == "" {
		for _, f := range files {
			if ggufIsModel(f) && firstSplit(f) {
				return f, true
			}
		}
	}
	return "", false
}

// ggufFiles lists the .gguf files under dir (relative, slash-separated, sorted), links to blobs included.
func ggufFiles(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".gguf") {
			return nil
		}
		if rel, err := filepath.Rel(dir, p); err == nil {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// ggufIsModel is llama.cpp's gguf_filename_is_model: projectors, importance matrices and draft models are not.
func ggufIsModel(p string) bool {
	name := path.Base(p)
	for _, s := range []string{"mmproj", "imatrix", "mtp-", "eagle3-", "dflash-", "dspark-"} {
		if strings.Contains(name, s) {
			return false
		}
	}
	return strings.HasSuffix(name, ".gguf")
}

var splitRE = regexp.MustCompile(`(?i)-([0-9]{5})-of-([0-9]{5})\.gguf$`)

// firstSplit says whether a GGUF file is a whole model or the first part of a split one.
func firstSplit(p string) bool {
	m := splitRE.FindStringSubmatch(p)
	return m == nil || m[2] == "00001" || m[1] == "00001"
}
