// Command kubectl-privatellm is the kubectl plugin of privatellm (kubectl privatellm …): whether a model fits
// GPUs, by the operator's own estimator and without a cluster (fit); the usage and cost of the LLMDeployments of a
// namespace (cost); and what they are waiting for (status). The text comes from internal/cli; this file reads the
// flags, the manifests and the cluster.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cache"
	"github.com/privatellm/privatellm/internal/cli"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const usage = `kubectl privatellm: privatellm's kubectl plugin.

Usage:
  kubectl privatellm fit MODEL-URI --gpu PRODUCT [--quantization Q] [--context TOKENS] [--gpus N] [--engine E]
  kubectl privatellm fit -f MANIFEST.yaml
  kubectl privatellm cost [-n NAMESPACE | -A] [--window 24h|total] [--by-key]
  kubectl privatellm status [NAME] [-n NAMESPACE | -A]

Commands:
  fit     Will the model fit these GPUs? The operator's own estimator, no cluster needed.
  cost    GPU-hours, tokens and cost of the LLMDeployments (or of each API key: --by-key), next to the
          reference APIs' prices.
  status  What each LLMDeployment is waiting for.

Run "kubectl privatellm COMMAND -h" for the flags of a command.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs the plugin with args (without the program name) and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "fit":
		err = runFit(args[1:], stdin, stdout, stderr)
	case "cost":
		err = runCost(ctx, args[1:], stdout, stderr)
	case "status":
		err = runStatus(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitError
	}
}

// usageError is a wrong command line.
type usageError struct{ error }

// newFlagSet is a flag set that reports its errors to run instead of exiting.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kubectl privatellm "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage:\n%s\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterspersed parses flags that come before or after the positional arguments, as kubectl does, and returns
// the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func runFit(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("fit", "  kubectl privatellm fit MODEL-URI --gpu PRODUCT [flags]\n  kubectl privatellm fit --checkpoint DIR --gpu PRODUCT [flags]\n  kubectl privatellm fit -f MANIFEST.yaml\n\n"+
		"Estimates the GPU memory one replica needs (weights, KV cache for the context, runtime overhead) with the\n"+
		"operator's estimator, as its admission webhook does, and the smallest GPU count per replica that fits.\n"+
		"Known GPU products: "+strings.Join(cli.KnownGPUProducts(), ", ")+".\n", stderr)
	var (
		file         = fs.String("f", "", "an LLMDeployment manifest (one or more YAML documents; - reads stdin): the fit of each spec as written")
		product      = fs.String("gpu", "", "GPU product, as the nodes' nvidia.com/gpu.product label names it (e.g. NVIDIA-L4, NVIDIA-H100-80GB-HBM3)")
		quantization = fs.String("quantization", string(v1.QuantizationNone), "quantization of the weights (spec.quantization), e.g. none, fp8, awq, Q4_K_M")
		contextLen   = fs.Int64("context", 0, "context length in tokens the KV cache is sized for (spec.maxModelLen); 0: the model's maximum")
		gpus         = fs.Int("gpus", 0, "a fixed GPU count per replica instead of trying "+joinCounts())
		eng          = fs.String("engine", string(v1.DefaultEngine), "inference engine (spec.engine.name)")
		ckpt         = fs.String("checkpoint", "", "a checkpoint directory (config.json and the weights, e.g. a Hugging Face cache snapshot): size the model from it instead of the catalogue")
	)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *file != "" {
		var flagForm []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "f" {
				flagForm = append(flagForm, "--"+f.Name)
			}
		})
		if len(positional) > 0 || len(flagForm) > 0 {
			return usageError{fmt.Errorf("-f takes its models from the manifest: leave out %s",
				strings.Join(append(positional, flagForm...), " "))}
		}
		data, err := readManifest(*file, stdin)
		if err != nil {
			return err
		}
		out, err := cli.FitManifests(data)
		if err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
		_, err = io.WriteString(stdout, out)
		return err
	}
	q := cli.FitQuery{
		Engine:       v1.EngineName(*eng),
		Quantization: v1.Quantization(*quantization),
		Product:      *product,
		Context:      *contextLen,
		GPUs:         int32(max(min(*gpus, 1<<20), -1)), // out of int32's range stays out of FitReport's 0..16
	}
	switch {
	case *ckpt != "" && len(positional) <= 1:
		q.Model = *ckpt
		if len(positional) == 1 {
			q.Model = positional[0]
		}
		arch, facts, err := cli.CheckpointArchitecture(*ckpt, q.Model)
		if err != nil {
			return err
		}
		q.Architecture = &arch
		explicit := false
		fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "quantization" })
		if cq := cache.SpecQuantization(facts); !explicit && cq != "" {
			q.Quantization = cq // the checkpoint's own: what the engine will load
		}
	case len(positional) != 1:
		fs.Usage()
		return usageError{errors.New("fit takes one model URI, --checkpoint DIR, or -f MANIFEST.yaml")}
	default:
		q.Model = positional[0]
	}
	out, err := cli.FitReport(q)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, out)
	return err
}

func joinCounts() string {
	var s []string
	for _, n := range cli.SearchCounts {
		s = append(s, strconv.Itoa(int(n)))
	}
	return strings.Join(s, ", ")
}

func readManifest(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}

// kubeFlags are kubectl's flags for reaching the cluster, with its loading rules: --kubeconfig, else $KUBECONFIG,
// else ~/.kube/config; --context, else the current context; -n, else the context's namespace.
type kubeFlags struct {
	kubeconfig, context, namespace string
	allNamespaces                  bool
}

func (k *kubeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&k.context, "context", "", "the kubeconfig context to use (default: the current context)")
	fs.StringVar(&k.namespace, "namespace", "", "the namespace (default: the context's namespace)")
	fs.StringVar(&k.namespace, "n", "", "shorthand for --namespace")
	fs.BoolVar(&k.allNamespaces, "all-namespaces", false, "every namespace")
	fs.BoolVar(&k.allNamespaces, "A", false, "shorthand for --all-namespaces")
}

// client connects to the cluster and says which namespace to read.
func (k *kubeFlags) client() (client.Client, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = k.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: k.context}
	if k.namespace != "" {
		overrides.Context.Namespace = k.namespace
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	namespace, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("reading the kubeconfig: %w", err)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("reading the kubeconfig: %w", err)
	}
	cfg.UserAgent = "kubectl-privatellm"
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	c, err := client.New(cfg, client.Options{Scheme: newScheme()})
	if err != nil {
		return nil, "", fmt.Errorf("connecting to the cluster: %w", err)
	}
	return c, namespace, nil
}

// newScheme is the client-go types and the LLMDeployment API (as test/testutil NewScheme builds it).
func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1.AddToScheme(s))
	return s
}

// list reads the LLMDeployments of the namespace, or of all namespaces.
func (k *kubeFlags) list(ctx context.Context, c client.Client, namespace string) ([]v1.LLMDeployment, error) {
	var list v1.LLMDeploymentList
	var opts []client.ListOption
	if !k.allNamespaces {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := c.List(ctx, &list, opts...); err != nil {
		return nil, fmt.Errorf("listing LLMDeployments: %w", err)
	}
	return list.Items, nil
}

// noneFound is kubectl's message for an empty list.
func (k *kubeFlags) noneFound(namespace string) string {
	if k.allNamespaces {
		return "No LLMDeployments found.\n"
	}
	return fmt.Sprintf("No LLMDeployments found in namespace %s.\n", namespace)
}

func runCost(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("cost", "  kubectl privatellm cost [-n NAMESPACE | -A] [--window 24h|total] [--by-key]\n\n"+
		"The usage and cost of each LLMDeployment from its status.usage (written by the operator when its config has\n"+
		"a cost section), next to what the same tokens would have cost at each reference API's price. --by-key\n"+
		"shows them per API key instead, summed over the models each key used, from status.usage.keys.\n", stderr)
	var k kubeFlags
	k.register(fs)
	window := fs.String("window", cli.Window24h, "the window: 24h (status.usage.last24h, else total) or total; with --by-key always total")
	byKey := fs.Bool("by-key", false, "one row per API key (status.usage.keys), summed over the models it used: the totals since counting "+
		"began, as keys have no 24h window (an explicit --window 24h is refused)")
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return usageError{fmt.Errorf("cost takes no arguments, got %s", strings.Join(positional, " "))}
	}
	if *window != cli.Window24h && *window != cli.WindowTotal {
		return usageError{fmt.Errorf("--window %q: use %s or %s", *window, cli.Window24h, cli.WindowTotal)}
	}
	if *byKey && *window == cli.Window24h && flagSet(fs, "window") {
		return usageError{fmt.Errorf("--by-key shows the totals since counting began (status.usage.keys has no %s window): "+
			"leave out --window %s, or use --window %s", cli.Window24h, cli.Window24h, cli.WindowTotal)}
	}
	ctrllog.SetLogger(logr.Discard())
	c, namespace, err := k.client()
	if err != nil {
		return err
	}
	items, err := k.list(ctx, c, namespace)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		_, err = io.WriteString(stdout, k.noneFound(namespace))
		return err
	}
	var out string
	if *byKey {
		out, err = cli.KeyCostTable(items, k.allNamespaces)
	} else {
		out, err = cli.CostTable(items, *window, k.allNamespaces)
	}
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, out)
	return err
}

// flagSet says whether the command line set the flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", "  kubectl privatellm status [NAME] [-n NAMESPACE | -A]\n\n"+
		"What each LLMDeployment is waiting for, from its conditions; its replicas and endpoint. The exit code is 0\n"+
		"whatever their state.\n", stderr)
	var k kubeFlags
	k.register(fs)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(positional) > 1 || (len(positional) == 1 && k.allNamespaces) {
		return usageError{errors.New("status takes at most one name, and no name with -A")}
	}
	ctrllog.SetLogger(logr.Discard())
	c, namespace, err := k.client()
	if err != nil {
		return err
	}
	var items []v1.LLMDeployment
	if len(positional) == 1 {
		var llm v1.LLMDeployment
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: positional[0]}, &llm); err != nil {
			if apierrors.IsNotFound(err) {
				return fmt.Errorf("LLMDeployment %s not found in namespace %s", positional[0], namespace)
			}
			return fmt.Errorf("reading LLMDeployment %s: %w", positional[0], err)
		}
		items = []v1.LLMDeployment{llm}
	} else if items, err = k.list(ctx, c, namespace); err != nil {
		return err
	}
	if len(items) == 0 {
		_, err = io.WriteString(stdout, k.noneFound(namespace))
		return err
	}
	_, err = io.WriteString(stdout, cli.StatusReport(items, k.allNamespaces, terminalWidth()))
	return err
}

// terminalWidth is $COLUMNS when it is set, else 100.
func terminalWidth() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 40 {
		return n
	}
	return 100
}
