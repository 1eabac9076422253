package cost

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// APIPrice is a hosted API's list price, the reference self-hosting is compared with.
type APIPrice struct {
	// Name identifies the API in reports, e.g. "gpt-4o" or "claude-sonnet".
	Name string `json:"name"`
	// InputPerMTok is the price in dollars of one million input (prompt) tokens.
	InputPerMTok float64 `json:"inputPerMTok"`
	// OutputPerMTok is the price in dollars of one million output (generated) tokens.
	OutputPerMTok float64 `json:"outputPerMTok"`
}

// Prices is what the operator is told GPUs and reference APIs cost.
type Prices struct {
	// GPUHourly is the price in dollars of one GPU for one hour, by GPU product label as GPU Feature
	// Discovery writes it (nvidia.com/gpu.product), e.g. "NVIDIA-L4".
	GPUHourly map[string]float64 `json:"gpuHourly,omitempty"`
	// DefaultGPUHourly prices GPUs whose product is not in GPUHourly; 0 means no default, so such GPUs are
	// reported as unpriced rather than counted as free.
	DefaultGPUHourly float64 `json:"defaultGPUHourly,omitempty"`
	// APIs are the hosted APIs to compare with.
	APIs []APIPrice `json:"apis,omitempty"`
}

// HourlyFor is the dollars per GPU-hour of a GPU product: its own price when listed (0 included: an owned
// card can be declared free), else DefaultGPUHourly when it is above 0. It reports false when neither
// applies, so that a missing price is shown to the user instead of silently costing nothing.
func (p Prices) HourlyFor(product string) (float64, bool) {
	if h, ok := p.GPUHourly[product]; ok {
		return h, true
	}
	if p.DefaultGPUHourly > 0 {
		return p.DefaultGPUHourly, true
	}
	return 0, false
}

// Validate reports every problem at once, each naming the entry (by its JSON path) and saying what to fix,
// so that one edit of the configuration can fix them all. Problems are in a stable order.
func (p Prices) Validate() error {
	var errs []error
	products := make([]string, 0, len(p.GPUHourly))
	for product := range p.GPUHourly {
		products = append(products, product)
	}
	sort.Strings(products)
	for _, product := range products {
		if product == "" {
			errs = append(errs, errors.New(`gpuHourly has an entry with an empty product: key each price by a GPU product label, e.g. "NVIDIA-L4"`))
		}
		if err := checkPrice(fmt.Sprintf("gpuHourly[%q]", product), p.GPUHourly[product], "dollars per GPU-hour"); err != nil {
			errs = append(errs, err)
		}
	}
	if err := checkPrice("defaultGPUHourly", p.DefaultGPUHourly, "dollars per GPU-hour (0 for no default)"); err != nil {
		errs = append(errs, err)
	}
	seen := make(map[string]int, len(p.APIs))
	for i, api := range p.APIs {
		path := fmt.Sprintf("apis[%d]", i)
		switch first, dup := seen[api.Name]; {
		case api.Name == "":
			errs = append(errs, fmt.Errorf(`%s has no name: give each reference API a name, e.g. "gpt-4o"`, path))
		case dup:
			errs = append(errs, fmt.Errorf("%s: name %q is already used by apis[%d]: give each reference API its own name", path, api.Name, first))
		default:
			seen[api.Name] = i
		}
		if err := checkPrice(path+".inputPerMTok", api.InputPerMTok, "dollars per million tokens"); err != nil {
			errs = append(errs, err)
		}
		if err := checkPrice(path+".outputPerMTok", api.OutputPerMTok, "dollars per million tokens"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkPrice refuses negative, NaN and infinite prices: any of them would poison every sum they enter.
func checkPrice(path string, v float64, unit string) error {
	if v >= 0 && !math.IsInf(v, 1) {
		return nil
	}
	return fmt.Errorf("%s is %v: set it to a finite number of %s, 0 or more", path, v, unit)
}
