// Package cli renders what the kubectl-privatellm plugin prints: the memory fit of a model on GPUs (fit), the
// usage and cost of LLMDeployments (cost) and what they are waiting for (status). The functions are pure: they
// take specs and objects and return text, so every output can be tested without a cluster. The plugin's main
// package reads the flags and the cluster.
package cli
