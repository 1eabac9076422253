// Package catalog is what the gateway knows of the cluster: the API keys it accepts (from APIKeys' status, never
// from Secrets), the models it routes to (LLMDeployments) and each model's ready endpoints (the EndpointSlices of
// its Service, in a balance.Pool). The gateway's watches feed it (Set*/Delete*); requests read it (Authenticate,
// Resolve, Models). It is safe for concurrent use; reads take a shared lock and allocate nothing.
//
// Access, in one place: a key of namespace N reaches a model of namespace M when M == N or the model's
// spec.gateway.sharedWith names N (or "*"); when the key's spec.models is set, the model must also be listed
// there ("name" for N's own, "M/name" for a shared one). A request names the model by its served name; when several
// reachable models serve the same name, the key's own namespace wins, then namespaces in alphabetical order.
package catalog

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/apikey"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/gateway/balance"
	"github.com/privatellm/privatellm/internal/gateway/limit"
)

// ServicePortName is the port of a model's Service that the gateway sends requests to.
const ServicePortName = "http"

// Identity is the APIKey a request was made with.
type Identity struct {
	// Namespace and Name of the APIKey.
	Namespace, Name string
	// KeyID is the public ID of the key used (metrics and logs name keys by it, never by the key).
	KeyID string
	// Limits of the APIKey.
	Limits limit.Limit
	// models is spec.models, nil when unset.
	models []string
}

// Model is one routable LLMDeployment.
type Model struct {
	// Namespace and Name of the LLMDeployment.
	Namespace, Name string
	// Served is the model's name in the OpenAI API (spec.model.servedName, default metadata.name).
	Served string
	// Engine serves it.
	Engine v1.EngineName
	// StreamUsageByDefault: the engine sends usage for stream_options without include_usage (engine.Facts).
	StreamUsageByDefault bool
	// Limits of the model over all keys.
	Limits limit.Limit
	// Routing picks replicas.
	Routing v1.RoutingPolicy
	// DefaultMaxTokens is reserved for a request without max_tokens.
	DefaultMaxTokens int64
	// StartupTimeout bounds how long a request may wait for a first replica (scale from zero).
	StartupTimeout time.Duration
	// MaxModelLen is the context length (spec.maxModelLen), 0 when the engine decides it.
	MaxModelLen int64
	// Replicas is spec.replicas; Autoscaled is true when spec.autoscaling may change it.
	Replicas   int32
	Autoscaled bool
	// Created is the LLMDeployment's creation time (the models list shows it).
	Created time.Time
	// Pool holds the model's ready endpoints.
	Pool *balance.Pool

	sharedWith []string
}

// Ref is "namespace/name", how keys list shared models.
func (m *Model) Ref() string { return m.Namespace + "/" + m.Name }

// reachableBy applies the access rule for id.
func (m *Model) reachableBy(id Identity) bool {
	if m.Namespace != id.Namespace && !slices.Contains(m.sharedWith, id.Namespace) && !slices.Contains(m.sharedWith, "*") {
		return false
	}
	if id.models == nil {
		return true
	}
	if m.Namespace == id.Namespace && slices.Contains(id.models, m.Name) {
		return true
	}
	return slices.Contains(id.models, m.Ref())
}

// key is one accepted key: the hash and when it stops being accepted.
type key struct {
	hash    string
	expires time.Time
	owner   types.NamespacedName
}

// Catalog is the gateway's view of keys, models and endpoints.
type Catalog struct {
	mu sync.RWMutex
	// keys by public key ID.
	keys map[string]key
	// owners are the identities of APIKeys, by APIKey.
	owners map[types.NamespacedName]Identity
	// models by LLMDeployment, and by served name (sorted by namespace, then name).
	models   map[types.NamespacedName]*Model
	byServed map[string][]*Model
	// slices are the model Services' EndpointSlices, by Service and slice name.
	slices map[types.NamespacedName]map[string]discoveryv1.EndpointSlice
	// pools hold each Service's endpoints while the model or its slices are known (a watch may deliver the slices
	// first), so requests already waiting on a pool see the endpoints arrive.
	pools map[types.NamespacedName]*balance.Pool
}

// New returns an empty catalog.
func New() *Catalog {
	return &Catalog{
		keys: map[string]key{}, owners: map[types.NamespacedName]Identity{},
		models: map[types.NamespacedName]*Model{}, byServed: map[string][]*Model{},
		slices: map[types.NamespacedName]map[string]discoveryv1.EndpointSlice{},
		pools:  map[types.NamespacedName]*balance.Pool{},
	}
}

// Authenticate checks a key a client sent: its ID must be published by an APIKey, its hash must match (compared
// in constant time) and it must not have expired.
func (c *Catalog) Authenticate(k string, now time.Time) (Identity, bool) {
	id, ok := apikey.ID(k)
	if !ok {
		return Identity{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	pub, ok := c.keys[id]
	if !ok || !apikey.Matches(k, pub.hash) || (!pub.expires.IsZero() && !now.Before(pub.expires)) {
		return Identity{}, false
	}
	ident, ok := c.owners[pub.owner]
	if !ok {
		return Identity{}, false
	}
	ident.KeyID = id
	return ident, true
}

// Resolve finds the model a key calls by its served name; false when no model of that name is reachable by the
// key (the gateway then answers 404, whether or not such a model exists elsewhere).
func (c *Catalog) Resolve(id Identity, served string) (*Model, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var shared *Model
	for _, m := range c.byServed[served] {
		if !m.reachableBy(id) {
			continue
		}
		if m.Namespace == id.Namespace {
			return m, true
		}
		if shared == nil {
			shared = m
		}
	}
	return shared, shared != nil
}

// Models lists the models a key reaches, by served name (the first of a name, as Resolve picks it).
func (c *Catalog) Models(id Identity) []*Model {
	c.mu.RLock()
	names := make([]string, 0, len(c.byServed))
	for n := range c.byServed {
		names = append(names, n)
	}
	c.mu.RUnlock()
	sort.Strings(names)
	var out []*Model
	for _, n := range names {
		if m, ok := c.Resolve(id, n); ok {
			out = append(out, m)
		}
	}
	return out
}

// SetAPIKey records an APIKey's published keys and identity.
func (c *Catalog) SetAPIKey(k *v1.APIKey) {
	owner := types.NamespacedName{Namespace: k.Namespace, Name: k.Name}
	ident := Identity{Namespace: k.Namespace, Name: k.Name, Limits: limits(k.Spec.Limits)}
	if k.Spec.Models != nil {
		ident.models = slices.Clone(k.Spec.Models)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropKeysOf(owner)
	c.owners[owner] = ident
	for _, h := range k.Status.Keys {
		pub := key{hash: h.Hash, owner: owner}
		if h.ExpiresAt != nil {
			pub.expires = h.ExpiresAt.Time
		}
		// IDs are random; one published by two APIKeys (a copied status) is accepted for neither.
		if other, taken := c.keys[h.ID]; taken && other.owner != owner {
			delete(c.keys, h.ID)
			continue
		}
		c.keys[h.ID] = pub
	}
}

// DeleteAPIKey forgets an APIKey: its keys are refused from now on.
func (c *Catalog) DeleteAPIKey(namespace, name string) {
	owner := types.NamespacedName{Namespace: namespace, Name: name}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropKeysOf(owner)
	delete(c.owners, owner)
}

func (c *Catalog) dropKeysOf(owner types.NamespacedName) {
	for id, k := range c.keys {
		if k.owner == owner {
			delete(c.keys, id)
		}
	}
}

// SetModel records an LLMDeployment.
func (c *Catalog) SetModel(l *v1.LLMDeployment) {
	name := types.NamespacedName{Namespace: l.Namespace, Name: l.Name}
	m := &Model{
		Namespace: l.Namespace, Name: l.Name, Served: l.ServedModelName(), Engine: l.Spec.EffectiveEngine(),
		Routing: v1.RoutingLeastRequests, DefaultMaxTokens: 1024, StartupTimeout: l.Spec.EffectiveStartupTimeout(),
		Created: l.CreationTimestamp.Time, Replicas: l.Spec.EffectiveReplicas(), Autoscaled: l.Spec.Autoscaling != nil,
		StreamUsageByDefault: engine.FactsOf(l.Spec.EffectiveEngine()).StreamUsageByDefault,
	}
	if l.Spec.MaxModelLen != nil {
		m.MaxModelLen = int64(*l.Spec.MaxModelLen)
	}
	if g := l.Spec.Gateway; g != nil {
		m.sharedWith = slices.Clone(g.SharedWith)
		m.Limits = limits(g.Limits)
		if g.Routing != "" {
			m.Routing = g.Routing
		}
		if g.DefaultMaxTokens != nil {
			m.DefaultMaxTokens = int64(*g.DefaultMaxTokens)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m.Pool = c.poolLocked(name)
	c.removeModelLocked(name)
	c.models[name] = m
	list := append(c.byServed[m.Served], m)
	sort.Slice(list, func(i, j int) bool { return list[i].Ref() < list[j].Ref() })
	c.byServed[m.Served] = list
}

// DeleteModel forgets an LLMDeployment: requests for it get 404.
func (c *Catalog) DeleteModel(namespace, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := types.NamespacedName{Namespace: namespace, Name: name}
	c.removeModelLocked(n)
	if _, has := c.slices[n]; !has {
		delete(c.pools, n)
	}
}

func (c *Catalog) removeModelLocked(n types.NamespacedName) {
	old := c.models[n]
	if old == nil {
		return
	}
	delete(c.models, n)
	list := slices.DeleteFunc(slices.Clone(c.byServed[old.Served]), func(m *Model) bool { return m == old })
	if len(list) == 0 {
		delete(c.byServed, old.Served)
	} else {
		c.byServed[old.Served] = list
	}
}

// SetEndpointSlice records one EndpointSlice of a model's Service (label kubernetes.io/service-name) and updates
// the model's pool.
func (c *Catalog) SetEndpointSlice(s *discoveryv1.EndpointSlice) {
	svc, ok := serviceOf(s.Namespace, s.Labels)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slices[svc] == nil {
		c.slices[svc] = map[string]discoveryv1.EndpointSlice{}
	}
	c.slices[svc][s.Name] = *s
	c.updatePoolLocked(svc)
}

// DeleteEndpointSlice forgets one EndpointSlice.
func (c *Catalog) DeleteEndpointSlice(namespace, name string, labels map[string]string) {
	svc, ok := serviceOf(namespace, labels)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.slices[svc], name)
	if len(c.slices[svc]) == 0 {
		delete(c.slices, svc)
	}
	c.updatePoolLocked(svc)
}

func (c *Catalog) updatePoolLocked(svc types.NamespacedName) {
	c.poolLocked(svc).Update(c.endpointsLocked(svc))
	if _, model := c.models[svc]; !model && len(c.slices[svc]) == 0 {
		delete(c.pools, svc)
	}
}

// poolLocked is the Service's pool, made when first needed.
func (c *Catalog) poolLocked(svc types.NamespacedName) *balance.Pool {
	pool := c.pools[svc]
	if pool == nil {
		pool = balance.NewPool(balance.Config{})
		pool.Update(c.endpointsLocked(svc))
		c.pools[svc] = pool
	}
	return pool
}

func (c *Catalog) endpointsLocked(svc types.NamespacedName) []balance.Endpoint {
	if len(c.slices[svc]) == 0 {
		return nil
	}
	list := make([]discoveryv1.EndpointSlice, 0, len(c.slices[svc]))
	for _, s := range c.slices[svc] {
		list = append(list, s)
	}
	return balance.FromSlices(list, ServicePortName)
}

// serviceOf is the Service an EndpointSlice belongs to.
func serviceOf(namespace string, labels map[string]string) (types.NamespacedName, bool) {
	name := labels[discoveryv1.LabelServiceName]
	return types.NamespacedName{Namespace: namespace, Name: name}, name != ""
}

func limits(l *v1.RateLimits) limit.Limit {
	if l == nil {
		return limit.Limit{}
	}
	var out limit.Limit
	if l.RequestsPerMinute != nil {
		out.RequestsPerMinute = *l.RequestsPerMinute
	}
	if l.TokensPerMinute != nil {
		out.TokensPerMinute = *l.TokensPerMinute
	}
	return out
}

// keyRefs are for tests and debugging: the published key IDs, sorted.
func (c *Catalog) keyRefs() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ids := make([]string, 0, len(c.keys))
	for id := range c.keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}
