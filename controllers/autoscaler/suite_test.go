package autoscaler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/manager"
	"github.com/privatellm/privatellm/test/testutil"
)

// The suite runs the autoscaler alone against a real kube-apiserver and etcd (test/testutil.StartEnvtest): the
// tests play the engines (an HTTP server with a /metrics page) and the pods that serve them.

var (
	testScheme = testutil.NewScheme()
	k8sClient  client.Client
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	env, err := testutil.StartEnvtest(filepath.Join("..", ".."), testScheme)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	k8sClient = env.Client
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme: testScheme, Cache: manager.CacheOptions(config.GatewayConfig{}), Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		return 1
	}
	if err := (&Reconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("privatellm-autoscaler")}).SetupWithManager(mgr); err != nil {
		fmt.Fprintf(os.Stderr, "setup autoscaler: %v\n", err)
		return 1
	}
	defer testutil.StartManager(mgr)()
	return m.Run()
}

func newNamespace(t *testing.T) string { return testutil.NewNamespace(t, k8sClient) }

// sampleLLM is a vLLM LLMDeployment on one GPU.
func sampleLLM(ns, name string) *v1.LLMDeployment {
	l := &v1.LLMDeployment{}
	l.Namespace, l.Name = ns, name
	l.Spec.Model.URI = "hf://meta-llama/Llama-3.1-8B-Instruct"
	l.Spec.GPU.Count = ptr.To(int32(1))
	return l
}

func get[T client.Object](t *testing.T, obj T, ns, name string) T {
	t.Helper()
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatal(err)
	}
	return obj
}
