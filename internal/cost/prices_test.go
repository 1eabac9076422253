package cost_test

import (
	"math"
	"strings"
	"testing"

	"github.com/privatellm/privatellm/internal/cost"
)

// near reports whether got is want to within a part in a billion (or 1e-9 absolute near 0).
func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

func TestHourlyFor(t *testing.T) {
	prices := cost.Prices{GPUHourly: map[string]float64{"NVIDIA-L4": 0.80, "Owned-Card": 0}}
	withDefault := prices
	withDefault.DefaultGPUHourly = 2.5

	cases := []struct {
		name    string
		prices  cost.Prices
		product string
		want    float64
		wantOK  bool
	}{
		{"listed product", prices, "NVIDIA-L4", 0.80, true},
		{"listed at 0 is a price, not missing", prices, "Owned-Card", 0, true},
		{"unlisted without default is unpriced", prices, "NVIDIA-H100-80GB-HBM3", 0, false},
		{"unlisted takes the default", withDefault, "NVIDIA-H100-80GB-HBM3", 2.5, true},
		{"listed beats the default", withDefault, "NVIDIA-L4", 0.80, true},
		{"empty product takes the default", withDefault, "", 2.5, true},
		{"nil map, no default", cost.Prices{}, "NVIDIA-L4", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.prices.HourlyFor(tc.product)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("HourlyFor(%q) = %v, %v; want %v, %v", tc.product, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		prices cost.Prices
		want   []string // substrings the error must hold; none means valid
	}{
		{name: "empty is valid", prices: cost.Prices{}},
		{name: "full and valid", prices: cost.Prices{
			GPUHourly:        map[string]float64{"NVIDIA-L4": 0.8, "Owned": 0},
			DefaultGPUHourly: 2,
			APIs:             []cost.APIPrice{{"a", 3, 15}, {"b", 0, 0}},
		}},
		{name: "negative GPU price names the product", prices: cost.Prices{GPUHourly: map[string]float64{"NVIDIA-L4": -1}},
			want: []string{`gpuHourly["NVIDIA-L4"] is -1`, "0 or more"}},
		{name: "NaN GPU price", prices: cost.Prices{GPUHourly: map[string]float64{"NVIDIA-L4": math.NaN()}},
			want: []string{`gpuHourly["NVIDIA-L4"] is NaN`, "finite"}},
		{name: "infinite default", prices: cost.Prices{DefaultGPUHourly: math.Inf(1)},
			want: []string{"defaultGPUHourly is +Inf"}},
		{name: "empty product key", prices: cost.Prices{GPUHourly: map[string]float64{"": 1}},
			want: []string{"empty product", "NVIDIA-L4"}},
		{name: "API without a name", prices: cost.Prices{APIs: []cost.APIPrice{{"a", 1, 1}, {"", 1, 1}}},
			want: []string{"apis[1] has no name"}},
		{name: "duplicate API names point at the first", prices: cost.Prices{APIs: []cost.APIPrice{{"a", 1, 1}, {"b", 1, 1}, {"a", 2, 2}}},
			want: []string{`apis[2]: name "a" is already used by apis[0]`}},
		{name: "negative API prices name the field", prices: cost.Prices{APIs: []cost.APIPrice{{"a", -3, 1}, {"b", 1, -15}}},
			want: []string{"apis[0].inputPerMTok is -3", "apis[1].outputPerMTok is -15", "dollars per million tokens"}},
		{name: "all problems at once", prices: cost.Prices{
			GPUHourly:        map[string]float64{"X": -1},
			DefaultGPUHourly: -2,
			APIs:             []cost.APIPrice{{"", -1, 0}},
		}, want: []string{`gpuHourly["X"]`, "defaultGPUHourly is -2", "apis[0] has no name", "apis[0].inputPerMTok"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.prices.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error holding %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to hold %q", err, w)
				}
			}
		})
	}
}
