// Package openai holds the OpenAI wire-format helpers of the gateway: what it reads from a client's request before
// forwarding it to an engine pod (vLLM, TGI, SGLang, llama.cpp server), the one edit it makes to a request body, how
// it meters the response on the way back, and the error bodies it answers with itself. It has no state, no network
// and no dependency outside the standard library.
//
// What the gateway uses each part for:
//
//   - [Inspect] reads a request body of /v1/chat/completions, /v1/completions, /v1/embeddings or /v1/responses
//     without decoding it into a generic map: the model (to route), whether it streams, the completion budget
//     ([Request.CompletionTokenBound]) and an upper bound of the prompt's tokens ([Request.PromptTokenBound]). The
//     gateway reserves prompt bound + completion budget against a client's token limit before forwarding, and
//     settles the reservation with the usage the engine reports. A malformed body is answered 400 with the
//     [*RequestError] Inspect returns (see [ErrorFromRequest]).
//   - [EnsureStreamUsage] makes a streaming chat or completions request ask for the final usage chunk
//     (stream_options.include_usage), changing no other byte of the client's body, so that streamed responses can
//     be metered like the others.
//   - [StreamMeter] sits between the upstream text/event-stream body and the client: it passes every event through
//     as soon as it is complete, records the usage, the time of the first generated content (time to first token)
//     and the number of content chunks, and, when the gateway forced include_usage, drops the usage-only chunk the
//     client did not ask for. [ParseUsage] does the same for a non-streaming JSON response.
//   - [WriteError] and the [Error] constructors write the errors the gateway itself returns (bad request, bad API
//     key, unknown model, rate limited, model starting or overloaded) in OpenAI's shape, so OpenAI client libraries
//     raise the same exception classes as they would against api.openai.com.
//
// JSON is read as the Python engines (vLLM, SGLang) read it: object keys are case-sensitive and a repeated key's last
// value wins, as in Python's json module (TGI's serde derive rejects a repeated field instead; encoding/json would
// match keys case-insensitively, which is one reason this package finds keys itself).
package openai
