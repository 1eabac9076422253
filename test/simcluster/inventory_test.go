package simcluster

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The default inventory file and DefaultNodes must describe the same cluster.
func TestDefaultNodesFileMatchesDefaultNodes(t *testing.T) {
	got, err := LoadNodes(filepath.Join("..", "..", "hack", "simcluster", "nodes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultNodes(); !reflect.DeepEqual(got, want) {
		t.Fatalf("hack/simcluster/nodes.yaml = %+v\nDefaultNodes() = %+v", got, want)
	}
}

func TestNodePoolBuild(t *testing.T) {
	nodes, err := NodePool{Name: "h100", Count: 2, GPU: &GPU{Product: "NVIDIA-H100-80GB-HBM3", Count: 8, MemoryMiB: 81559}}.Build()
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 2 || nodes[0].Name != "h100-0" || nodes[1].Name != "h100-1" {
		t.Fatalf("names: %v, %v", nodes[0].Name, nodes[1].Name)
	}
	n := nodes[1]
	wantLabels := map[string]string{
		"type": "kwok", corev1.LabelHostname: "h100-1", corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64",
		LabelGPUProduct: "NVIDIA-H100-80GB-HBM3", LabelGPUMemory: "81559", LabelGPUCount: "8", LabelGPUPresent: "true",
	}
	if !reflect.DeepEqual(n.Labels, wantLabels) {
		t.Errorf("labels = %v", n.Labels)
	}
	if n.Annotations[KwokNodeAnnotation] != "fake" {
		t.Errorf("annotations = %v", n.Annotations)
	}
	wantTaints := []corev1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}}
	if !reflect.DeepEqual(n.Spec.Taints, wantTaints) {
		t.Errorf("taints = %v", n.Spec.Taints)
	}
	for _, res := range []corev1.ResourceList{n.Status.Capacity, n.Status.Allocatable} {
		if gpu := res[GPUResource]; gpu.Value() != 8 {
			t.Errorf("gpu = %s", gpu.String())
		}
		if pods := res[corev1.ResourcePods]; pods.Value() != 110 {
			t.Errorf("pods = %s", pods.String())
		}
	}

	cpu, err := NodePool{Name: "cpu"}.Build()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpu) != 1 || len(cpu[0].Spec.Taints) != 0 || cpu[0].Labels[LabelGPUPresent] != "" {
		t.Errorf("CPU node: %+v", cpu[0])
	}
	if _, ok := cpu[0].Status.Capacity[GPUResource]; ok {
		t.Errorf("CPU node has GPUs")
	}

	for _, bad := range []NodePool{{}, {Name: "x", GPU: &GPU{Product: "p"}}, {Name: "x", CPU: "lots"}} {
		if _, err := bad.Build(); err == nil {
			t.Errorf("Build(%+v) accepted", bad)
		}
	}
}

func TestLoadNodesRejectsUnknownFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodes.yaml")
	if err := os.WriteFile(path, []byte("nodes:\n- name: a\n  gpus: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadNodes(path); err == nil || !strings.Contains(err.Error(), "gpus") {
		t.Fatalf("LoadNodes = %v, want an error about the unknown field", err)
	}
}

// The kwok configuration is a stream of Stage documents with the configured delays.
func TestKwokConfig(t *testing.T) {
	binDir := t.TempDir()
	stageDir := filepath.Join(binDir, "kwok-stages")
	if err := os.Mkdir(stageDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"node-initialize.yaml": "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Stage\nmetadata:\n  name: node-initialize\n",
		"kustomization.yaml":   "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
	} {
		if err := os.WriteFile(filepath.Join(stageDir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := kwokConfig(binDir, stageSettings{readyDelay: 5 * time.Second, readyJitter: time.Second,
		crashRestartInterval: 7 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	type stage struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			Delay *struct {
				DurationMilliseconds       *int64 `json:"durationMilliseconds"`
				JitterDurationMilliseconds *int64 `json:"jitterDurationMilliseconds"`
			} `json:"delay"`
			Next struct {
				StatusTemplate string `json:"statusTemplate"`
			} `json:"next"`
		} `json:"spec"`
	}
	stages := map[string]stage{}
	for _, doc := range strings.Split(cfg, "\n---\n") {
		var s stage
		if err := yaml.Unmarshal([]byte(doc), &s); err != nil {
			t.Fatalf("invalid YAML: %v\n%s", err, doc)
		}
		if s.Kind != "Stage" {
			t.Fatalf("document of kind %q:\n%s", s.Kind, doc)
		}
		stages[s.Metadata.Name] = s
	}
	for _, name := range []string{"node-initialize", "simcluster-pod-running", "simcluster-pod-ready",
		"simcluster-pod-crash", "simcluster-pod-crash-running", "simcluster-pod-crash-restart", "simcluster-pod-delete",
		"simcluster-pod-job-complete"} {
		if _, ok := stages[name]; !ok {
			t.Errorf("stage %s missing (have %v)", name, reflect.ValueOf(stages).MapKeys())
		}
	}
	ready := stages["simcluster-pod-ready"].Spec.Delay
	if ready == nil || *ready.DurationMilliseconds != 5000 || *ready.JitterDurationMilliseconds != 6000 {
		t.Errorf("ready delay = %+v", ready)
	}
	if d := stages["simcluster-pod-crash-restart"].Spec.Delay; d == nil || *d.DurationMilliseconds != 7000 {
		t.Errorf("crash restart delay = %+v", d)
	}
	// Without the pod agent nothing gates the running stages; with it, they wait for its mark.
	if strings.Contains(cfg, AnnotationContainerConfig+`"]'`) {
		t.Error("the running stages wait for the container-config mark on a cluster without the pod agent")
	}
	gated, err := kwokConfig(binDir, stageSettings{waitForContainerConfig: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(gated, `.metadata.annotations["`+AnnotationContainerConfig+`"]'`); n != 2 {
		t.Errorf("%d stages wait for the container-config mark, want 2 (running, crash)", n)
	}
	for _, name := range []string{"simcluster-pod-crash", "simcluster-pod-crash-running", "simcluster-pod-crash-restart"} {
		if tpl := stages[name].Spec.Next.StatusTemplate; !strings.Contains(tpl, "CrashLoopBackOff") || strings.Contains(tpl, "__") ||
			!strings.Contains(tpl, AnnotationExitCode) {
			t.Errorf("%s template:\n%s", name, tpl)
		}
	}
}
