package cli

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// humanCount writes a count with an SI-like suffix and at most one decimal: 999, 12.3k, 1.2M, 4B.
func humanCount(n int64) string {
	if n < 0 {
		return "-" + humanCount(-n)
	}
	if n < 1000 {
		return strconv.FormatInt(n, 10)
	}
	v := float64(n)
	for _, unit := range []string{"k", "M", "B", "T"} {
		v /= 1000
		r := math.Round(v*10) / 10
		if r < 1000 || unit == "T" {
			return strings.TrimSuffix(strconv.FormatFloat(r, 'f', 1, 64), ".0") + unit
		}
	}
	panic("unreachable")
}

// gibText writes GiB with one decimal.
func gibText(g float64) string { return strconv.FormatFloat(g, 'f', 1, 64) + " GiB" }

// oneDecimal writes a number with one decimal.
func oneDecimal(g float64) string { return strconv.FormatFloat(g, 'f', 1, 64) }

// table aligns rows of cells in columns two spaces apart, as kubectl does.
type table struct {
	buf bytes.Buffer
	w   *tabwriter.Writer
}

func newTable() *table {
	t := &table{}
	t.w = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	return t
}

func (t *table) row(cells ...string) {
	_, _ = t.w.Write([]byte(strings.Join(cells, "\t") + "\n"))
}

func (t *table) String() string {
	_ = t.w.Flush()
	return t.buf.String()
}

// wrap breaks text into lines of at most width characters at spaces (a longer word stays whole); the first line
// starts with first, the next ones with indent.
func wrap(text, first, indent string, width int) string {
	var b strings.Builder
	line := first
	empty := true
	for _, word := range strings.Fields(text) {
		switch {
		case empty:
			line += word
			empty = false
		case len([]rune(line))+1+len([]rune(word)) > width:
			b.WriteString(line + "\n")
			line = indent + word
		default:
			line += " " + word
		}
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n")
	return b.String()
}

// joinOr joins items as "a, b, c or d".
func joinOr(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
