// Package gatewaymetrics is what the operator reads of the gateway: where its replicas' metrics pages are, and
// the tokens it metered per API key for a model. The autoscaler (pending and in-flight requests) and the usage
// controller (tokens per key) read the pages through the shared engine-metrics scraper.
package gatewaymetrics

import (
	"context"
	"fmt"

	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/enginemetrics"
	"github.com/privatellm/privatellm/internal/gateway/balance"
)

// TokensMetric is the gateway's counter of metered tokens, by key_namespace, key, model_namespace, model and type
// (input, output, cached).
const TokensMetric = "privatellm_gateway_tokens_total"

// URLs are the gateway replicas' metrics pages: the configured URLs, or the ready endpoints of the gateway's
// Service (port "metrics"), listed through reader (the operator's cache holds only that Service's slices).
func URLs(ctx context.Context, reader client.Reader, gw config.GatewayConfig) ([]string, error) {
	if len(gw.MetricsURLs) > 0 {
		return gw.MetricsURLs, nil
	}
	ns, name, ok := gw.ServiceKey()
	if !ok {
		return nil, fmt.Errorf("gateway.service %q is not namespace/name", gw.Service)
	}
	slices := &discoveryv1.EndpointSliceList{}
	if err := reader.List(ctx, slices, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: name}); err != nil {
		return nil, fmt.Errorf("listing the EndpointSlices of %s: %w", gw.Service, err)
	}
	var urls []string
	for _, ep := range balance.FromSlices(slices.Items, "metrics") {
		urls = append(urls, "http://"+ep.Address+"/metrics")
	}
	return urls, nil
}

// KeyTokens are the tokens one gateway replica metered for one key of a model, as its counters stand.
type KeyTokens struct {
	// Key is the APIKey, "namespace/name".
	Key           string
	Input, Output float64
}

// ModelKeyTokens reads from a gateway page the token counters of every key that called the model
// namespace/name.
func ModelKeyTokens(p enginemetrics.Page, namespace, name string) []KeyTokens {
	byKey := map[string]*KeyTokens{}
	var order []string
	p.Each(TokensMetric, func(labels map[string]string, v float64) {
		if labels["model_namespace"] != namespace || labels["model"] != name {
			return
		}
		k := labels["key_namespace"] + "/" + labels["key"]
		kt := byKey[k]
		if kt == nil {
			kt = &KeyTokens{Key: k}
			byKey[k] = kt
			order = append(order, k)
		}
		switch labels["type"] {
		case "input":
			kt.Input += v
		case "output":
			kt.Output += v
		}
	})
	out := make([]KeyTokens, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out
}
