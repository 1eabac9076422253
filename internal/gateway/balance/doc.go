// Package balance chooses the engine pod that serves each request of a model, for the OpenAI-compatible gateway.
//
// # Data flow
//
// EndpointSlices → Endpoints → Pool → Lease:
//
//  1. The gateway watches the EndpointSlices of each model's Service and turns them into endpoints with
//     FromSlices(slices, "http"): the ready, serving, non-terminating pods, as sorted, deduplicated IP:port
//     addresses with their pod and node names.
//  2. It keeps one Pool per model and calls Pool.Update with the endpoints whenever the slices change. Endpoints
//     that stay keep their counts of outstanding requests; removed ones are not picked again, while the requests
//     already running on them finish normally.
//  3. For each request it computes PrefixKey(body, …) and calls Pool.Pick, which returns a Lease on one endpoint and
//     counts the request there. The gateway proxies to Lease.Endpoint.Address and calls Lease.Done when the request
//     ends. If the endpoint fails before the first response byte, the gateway retries on another pod by picking
//     again with the failed addresses in PickOptions.Exclude.
//  4. A model scaled to zero has no endpoints: the gateway calls Pool.WaitReady, which returns when the first pod is
//     ready (or the request's context ends), and reports Pool.Waiting to the autoscaler as pending requests.
//
// # Balancing guarantees
//
// Loads are the requests this Pool has leased and not yet seen Done: each gateway replica balances its own
// requests. n is the number of current endpoints and T the number of requests running on them.
//
// Without a key, Pick chooses an endpoint with the fewest outstanding requests; among several with the fewest, it
// takes each in turn, so equal endpoints get equal shares.
//
// With a key, Pick uses consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, "Consistent
// Hashing with Bounded Loads", 2018). Each endpoint has Config.VirtualNodes points (128 by default) on a 64-bit
// hash ring, placed by hashing its address. The key's point is found by binary search, and the walk goes
// clockwise to the first endpoint, not excluded, whose load is below the bound ceil(c·(T+1)/n), with
// c = Config.LoadFactor (1.25 by default). Hence:
//
//   - Bounded load: the endpoint that takes a keyed request has at most ceil(c·(T+1)/n) requests afterwards, about
//     c times the average. Such an endpoint always exists: the least loaded endpoint has at most T/n < (T+1)/n ≤
//     the bound requests. Only when Exclude rules out every endpoint under the bound does Pick fall back to the
//     least loaded endpoint not excluded. Running requests never move, so when others finish an endpoint can stay
//     above the (now lower) bound for a while; it takes no keyed request until it is back under it.
//   - Stickiness: a key goes to the same endpoint, the first on its walk, as long as that endpoint is under the
//     bound. Overflow goes to the next endpoints on the walk, the same ones for every request with that key.
//   - Consistency: the ring depends only on the set of addresses. Gateway replicas with the same endpoints agree
//     on every key's endpoint (and so share engines' prefix caches); a new endpoint takes about 1/(n+1) of the keys,
//     all from others, and a removed one gives away only its own keys. The ring is rebuilt by Update only when
//     the set of addresses changes, never by Pick.
//
// A Pick costs one lock, a scan of the endpoints (without a key) or a binary search and a short walk (with one),
// and one small allocation for the Lease.
package balance
