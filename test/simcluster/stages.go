package simcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Pod annotations that select simulated behaviour; set them on a pod template (LLMDeployment
// spec.podAnnotations) or a bare pod.
const (
	// AnnotationCrash, set to "true", makes every container of the pod crash-loop: the pod turns Running but
	// never Ready, its containers wait with reason CrashLoopBackOff, lastState terminated with exit code 1, and
	// restartCount starts at 1 and grows by one every Options.CrashRestartInterval.
	AnnotationCrash = "sim.privatellm.dev/crash"
	// AnnotationReadyDelay overrides Options.PodReadyDelay for one pod; the value is a Go duration ("90s",
	// "2h"). A long delay keeps a pod Running but not Ready (a model that never finishes loading).
	AnnotationReadyDelay = "sim.privatellm.dev/ready-delay"
)

// stageSettings are the knobs of the pod stages.
type stageSettings struct {
	readyDelay           time.Duration
	readyJitter          time.Duration
	crashRestartInterval time.Duration
	// waitForContainerConfig holds pods Pending until the pod agent has checked their Secrets and ConfigMaps.
	waitForContainerConfig bool
	// agentEndsLoaders leaves the pods of download Jobs to the pod agent once they run: the loader's exit ends
	// them, not a delay.
	agentEndsLoaders bool
}

// kwokConfig returns the kwok --config document: the node stages shipped with kwok (read from
// <binDir>/kwok-stages, where hack/build-k8s-binaries.sh copies them) and the simulator's own pod stages.
func kwokConfig(binDir string, s stageSettings) (string, error) {
	stageDir := filepath.Join(binDir, "kwok-stages")
	files, err := filepath.Glob(filepath.Join(stageDir, "*.yaml"))
	if err != nil {
		return "", fmt.Errorf("find kwok node stages: %w", err)
	}
	sort.Strings(files)
	var docs []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("read kwok stage: %w", err)
		}
		if doc := strings.TrimSpace(string(data)); strings.Contains(doc, "kind: Stage") { // not kustomization.yaml
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		return "", fmt.Errorf("%w: no kwok node stages in %s (hack/build-k8s-binaries.sh all copies them there)",
			ErrBinariesNotFound, stageDir)
	}
	docs = append(docs, podStages(s)...)
	return strings.Join(docs, "\n---\n") + "\n", nil
}

// podStages returns the kwok Stage documents for pods on fake nodes:
//
//	Pending ──running──▶ Running, not Ready ──ready (after the ready delay)──▶ Running, Ready ──▶ (Job pods) Succeeded
//	(with the pod agent running loaders, a download Job's pod stays Running, not Ready, until the agent reports the
//	loader's exit: Succeeded or Failed)
//	Pending ──crash (annotation)──▶ Running, CrashLoopBackOff ──crash-restart (every interval)──▶ restartCount+1
//	Running ──crash-running (the annotation, set when the engine exits)──▶ Running, CrashLoopBackOff
//	(with the pod agent, Pending pods leave Pending only once it has marked their environment resolvable; until
//	then it reports CreateContainerConfigError itself, as the kubelet does)
//	deletionTimestamp set ──delete──▶ gone (the kubelet's final delete with grace period 0)
func podStages(s stageSettings) []string {
	readyDelay := fmt.Sprintf("durationMilliseconds: %d\n    durationFrom:\n      expressionFrom: '%s'",
		max(s.readyDelay, 0).Milliseconds(), annotationExpr(AnnotationReadyDelay))
	if s.readyJitter > 0 {
		// kwok waits a random time between durationMilliseconds and jitterDurationMilliseconds; a pod's own
		// delay annotation sets both, so the pod waits exactly that long.
		readyDelay += fmt.Sprintf("\n    jitterDurationMilliseconds: %d\n    jitterDurationFrom:\n      expressionFrom: '%s'",
			(max(s.readyDelay, 0) + s.readyJitter).Milliseconds(), annotationExpr(AnnotationReadyDelay))
	}
	// On clusters whose pod agent plays the kubelet's check of Secrets and ConfigMaps, pods start only once it
	// has found their environment resolvable.
	configGate := ""
	if s.waitForContainerConfig {
		configGate = fmt.Sprintf("    - key: '%s'\n      operator: 'In'\n      values: ['ok']\n", annotationExpr(AnnotationContainerConfig))
	}
	// With the pod agent running the loader, a download Job's pod is neither made Ready nor completed by kwok: the
	// agent reports the loader's exit (loaders.go), and a kwok status written after it would undo it.
	loaderGate := ""
	if s.agentEndsLoaders {
		loaderGate = fmt.Sprintf("    - key: '%s'\n      operator: 'DoesNotExist'\n", labelExpr(LabelModelCache))
	}
	// The templates hold placeholders of their own: replace until none is left.
	r := strings.NewReplacer(
		"__CRASH_SELECTOR__", annotationExpr(AnnotationCrash),
		"__READY_DELAY__", readyDelay,
		"__CRASH_INTERVAL_MS__", strconv.FormatInt(s.crashRestartInterval.Milliseconds(), 10),
		"__POD_NETWORK__", podNetworkTemplate,
		"__INIT_CONTAINERS__", initContainersTemplate,
		"__UNREADY_CONDITIONS__", unreadyConditionsTemplate,
		"__CRASHED_CONTAINERS__", crashedContainersTemplate,
		"__TERMINATED__", terminatedTemplate,
		"__EXIT_CODE__", AnnotationExitCode,
		"__TERMINATION_MESSAGE__", AnnotationTerminationMessage,
		"    __CONFIG_GATE__\n", configGate,
		"    __LOADER_GATE__\n", loaderGate,
	)
	stages := make([]string, len(podStageTemplates))
	for i, t := range podStageTemplates {
		for next := r.Replace(t); next != t; next = r.Replace(t) {
			t = next
		}
		stages[i] = strings.TrimSpace(t)
	}
	return stages
}

// annotationExpr is the kwok (jq) expression that reads a pod annotation.
func annotationExpr(key string) string {
	return fmt.Sprintf(`.metadata.annotations["%s"]`, key)
}

// labelExpr is the kwok (jq) expression that reads a pod label (null when absent: DoesNotExist matches).
func labelExpr(key string) string {
	return fmt.Sprintf(`.metadata.labels["%s"]`, key)
}

// unreadyConditionsTemplate is the conditions of a pod whose containers run but are not ready (loading, or
// between crashes), as the kubelet reports them; it needs $now.
const unreadyConditionsTemplate = `{{ $unready := list }}
      {{ range .spec.containers }}{{ $unready = append $unready .name }}{{ end }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: PodReadyToStartContainers
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        message: {{ printf "containers with unready status: [%s]" ( join " " $unready ) | Quote }}
        reason: ContainersNotReady
        status: "False"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        message: {{ printf "containers with unready status: [%s]" ( join " " $unready ) | Quote }}
        reason: ContainersNotReady
        status: "False"
        type: ContainersReady`

// terminatedTemplate is a crashed container's last termination: the exit code and message the pod agent recorded
// when the engine exited (1 and none for a pod crashed by AnnotationCrash alone); it needs $now and $root.
const terminatedTemplate = `{{ $code := index ( or $root.metadata.annotations dict ) "__EXIT_CODE__" }}
            exitCode: {{ or $code "1" }}
            reason: Error
            {{ with index ( or $root.metadata.annotations dict ) "__TERMINATION_MESSAGE__" }}
            message: {{ . | Quote }}
            {{ end }}
            startedAt: {{ $now | Quote }}
            finishedAt: {{ $now | Quote }}`

// crashedContainersTemplate is the status of containers that crashed once and wait in CrashLoopBackOff, as the
// kubelet reports them; it needs $now and $root.
const crashedContainersTemplate = `containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 1
        started: false
        lastState:
          terminated:
            __TERMINATED__
        state:
          waiting:
            reason: CrashLoopBackOff
            message: {{ printf "back-off 10s restarting failed container=%s pod=%s_%s(%s)" .name $root.metadata.name $root.metadata.namespace $root.metadata.uid | Quote }}
      {{ end }}`

// podNetworkTemplate fills in the host and pod IPs as kwok's own pod-ready stage does (pod IPs come from
// kwok's --cidr).
const podNetworkTemplate = `{{ $hostIPs := NodeIPsWith .spec.nodeName }}
      {{ with $hostIPs }}
      hostIP: {{ index . 0 | Quote }}
      hostIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      {{ $podIPs := PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      {{ with $podIPs }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}`

// initContainersTemplate marks init containers completed (sidecars, restartPolicy Always, running).
const initContainersTemplate = `{{ with .spec.initContainers }}
      initContainerStatuses:
      {{ range . }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        {{ if eq ( or .restartPolicy "" ) "Always" }}
        started: true
        state:
          running:
            startedAt: {{ $now | Quote }}
        {{ else }}
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            reason: Completed
            startedAt: {{ $now | Quote }}
        {{ end }}
      {{ end }}
      {{ end }}`

// podStageTemplates are the pod stages; the selectors are mutually exclusive so kwok never has to choose.
var podStageTemplates = []string{`
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: simcluster-pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'Exists'
  next:
    delete: true
`, `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: simcluster-pod-running
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
    - key: '__CRASH_SELECTOR__'
      operator: 'NotIn'
      values: ['true']
    __CONFIG_GATE__
  next:
    statusTemplate: |
      {{ $now := Now }}
      __UNREADY_CONDITIONS__
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      __INIT_CONTAINERS__
      __POD_NETWORK__
      phase: Running
      startTime: {{ $now | Quote }}
`, `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: simcluster-pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values: ['True']
    - key: '__CRASH_SELECTOR__'
      operator: 'NotIn'
      values: ['true']
    __LOADER_GATE__
  delay:
    __READY_DELAY__
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $root := . }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        message: ""
        reason: ""
        status: "True"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        message: ""
        reason: ""
        status: "True"
        type: ContainersReady
      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      {{ $startedAt := $now }}
      {{ with $root.status.containerStatuses }}{{ with index . $index }}{{ with .state }}{{ with .running }}{{ $startedAt = .startedAt }}{{ end }}{{ end }}{{ end }}{{ end }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: true
        restartCount: 0
        started: true
        state:
          running:
            startedAt: {{ $startedAt | Quote }}
      {{ end }}
`, `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: simcluster-pod-job-complete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'In'
      values: ['True']
    - key: '.metadata.ownerReferences.[].kind'
      operator: 'In'
      values: ['Job']
    __LOADER_GATE__
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        reason: PodCompleted
        status: "False"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        reason: PodCompleted
        status: "False"
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            reason: Completed
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: Succeeded
`, `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: simcluster-pod-crash
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
    - key: '__CRASH_SELECTOR__'
      operator: 'In'
      values: ['true']
    __CONFIG_GATE__
  next:
    event:
      type: Warning
      reason: BackOff
      message: Back-off restarting failed container
    statusTemplate: |
      {{ $now := Now }}
      {{ $root := . }}
      __UNREADY_CONDITIONS__
      __CRASHED_CONTAINERS__
      __INIT_CONTAINERS__
      __POD_NETWORK__
      phase: Running
      startTime: {{ $now | Quote }}
`, `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: simcluster-pod-crash-running
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '__CRASH_SELECTOR__'
      operator: 'In'
      values: ['true']
    - key: '.status.containerStatuses.[].state.waiting.reason'
      operator: 'NotIn'
      values: ['CrashLoopBackOff']
  next:
    event:
      type: Warning
      reason: BackOff
      message: Back-off restarting failed container
    statusTemplate: |
      {{ $now := Now }}
      {{ $root := . }}
      __UNREADY_CONDITIONS__
      __CRASHED_CONTAINERS__
`, `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: simcluster-pod-crash-restart
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '__CRASH_SELECTOR__'
      operator: 'In'
      values: ['true']
    - key: '.status.containerStatuses.[].state.waiting.reason'
      operator: 'In'
      values: ['CrashLoopBackOff']
  delay:
    durationMilliseconds: __CRASH_INTERVAL_MS__
  next:
    event:
      type: Warning
      reason: BackOff
      message: Back-off restarting failed container
    statusTemplate: |
      {{ $now := Now }}
      {{ $root := . }}
      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      {{ $restarts := 0 }}
      {{ with $root.status.containerStatuses }}{{ with index . $index }}{{ $restarts = or .restartCount 0 }}{{ end }}{{ end }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        restartCount: {{ add1 $restarts }}
        started: false
        lastState:
          terminated:
            __TERMINATED__
        state:
          waiting:
            reason: CrashLoopBackOff
            message: {{ printf "back-off 10s restarting failed container=%s pod=%s_%s(%s)" $item.name $root.metadata.name $root.metadata.namespace $root.metadata.uid | Quote }}
      {{ end }}
`}
