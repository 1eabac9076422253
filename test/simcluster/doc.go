// Package simcluster runs a simulated GPU cluster on the local machine for end-to-end tests and demos.
//
// A cluster is a real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) on
// loopback with free ports, plus kwok, which plays the kubelet of fake nodes: nodes become Ready, pods bound to
// them become Running and, after a delay that simulates model loading, Ready; deleted pods go away. The fake
// nodes carry GPU Feature Discovery labels, a GPU taint and nvidia.com/gpu capacity, so the real scheduler
// places GPU pods exactly as it would on a GPU cluster.
//
// The binaries come from hack/build-k8s-binaries.sh (built from Go modules, cached under bin/k8s/) or from the
// folder named by the PRIVATELLM_K8S_BIN_DIR environment variable.
//
// Pods opt into simulated behaviour with annotations on their template (LLMDeployment spec.podAnnotations):
//
//	sim.privatellm.dev/crash: "true"        the containers crash-loop: Running, never Ready, waiting with
//	                                        reason CrashLoopBackOff, restartCount growing
//	sim.privatellm.dev/ready-delay: "90s"   this pod becomes Ready after 90s instead of Options.PodReadyDelay
//
// Storage: a default StorageClass, simcluster-hostpath, whose claims a provisioner binds at once to new folders
// under <Dir>/volumes/ (hostPath volumes any user may write, as an NFS export); a deleted claim's volume and
// folder go. Cluster.VolumePath says which folder is behind a claim.
//
// With Options.EngineSim (a built test/engine-sim), the pods of the operator's engines also carry traffic: each
// Running pod of an LLMDeployment gets an engine-sim process bound to its pod IP and port, so a client on this
// machine can call http://<pod IP>:8000/v1/chat/completions and read /metrics. With Options.Loader (a built
// cmd/loader, BuildLoader), each Running pod of a ModelCache's download Job runs the real loader, and its exit ends
// the pod as the kubelet reports it (Succeeded or Failed, the exit code, the termination message), so the Job's
// podFailurePolicy acts on the loader's exit status. Both kinds of process see the pod's volumes as the folders
// behind them: every mount path in their arguments and environment is rewritten (a claim's volume, a Secret's or
// ConfigMap's keys written as files, an emptyDir, under <Dir>/pods/<namespace>_<pod>/volumes/). A pod whose
// Secret or ConfigMap volume cannot be mounted waits in ContainerCreating with the kubelet's FailedMount event.
//
// Everything a cluster starts runs in its own process group, is killed by Stop, and is also killed by the
// kernel if the process that started it dies (Linux parent-death signal).
package simcluster
