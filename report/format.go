package report

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// The number formats of every fuka page and text: the run report (text and
// HTML), the live progress line, the capacity report, history and the
// command line use these and no others, so a number reads the same wherever
// it is shown. (The charts' script, report/html/assets/charts.js, is their
// counterpart in the browser.)
//
// The append* helpers append to a caller's buffer so that Progress.Update,
// which runs every second for the whole run, can reuse one buffer; the
// Format* functions below wrap them for everything else.

// appendInt appends n with thousands separators: 1234567 -> "1,234,567".
func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '-')
		if n == math.MinInt64 {
			// -n overflows; the value is far beyond anything a counter reaches.
			return strconv.AppendInt(b[:len(b)-1], n, 10)
		}
		n = -n
	}
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], n, 10)
	for i, c := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, c)
	}
	return b
}

// appendFixed appends f with thousands separators and prec decimals:
// 123456.78, 1 -> "123,456.8". Non-finite values render as "0", and a
// negative value that rounds to zero as "0.0", not "-0.0".
func appendFixed(b []byte, f float64, prec int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	scale := math.Pow10(prec)
	if f < 0 {
		if math.Round(-f*scale) != 0 {
			b = append(b, '-')
		}
		f = -f
	}
	r := math.Round(f * scale)
	if r >= math.MaxInt64 {
		return strconv.AppendFloat(b, f, 'f', prec, 64)
	}
	whole := int64(r / scale)
	b = appendInt(b, whole)
	if prec > 0 {
		frac := int64(r) - whole*int64(scale)
		b = append(b, '.')
		var digits [20]byte
		d := strconv.AppendInt(digits[:0], frac, 10)
		for range prec - len(d) {
			b = append(b, '0')
		}
		b = append(b, d...)
	}
	return b
}

// appendRate appends a per-second rate: whole numbers without decimals,
// others with one ("10,000", "123,456.7").
func appendRate(b []byte, f float64) []byte {
	if f == math.Trunc(f) {
		return appendFixed(b, f, 0)
	}
	return appendFixed(b, f, 1)
}

// appendLatency appends a latency with three significant digits in a unit
// that suits it. Latencies are measured in whole microseconds, so below a
// millisecond they print exactly ("512µs"); above, "1.90ms", "12.3ms",
// "123ms", "1.23s", "12.3s", "123s".
func appendLatency(b []byte, d time.Duration) []byte {
	switch {
	case d < time.Millisecond:
		b = strconv.AppendInt(b, int64(d/time.Microsecond), 10)
		return append(b, "µs"...)
	case d < time.Second:
		return append(appendSig3(b, float64(d)/float64(time.Millisecond)), "ms"...)
	default:
		return append(appendSig3(b, d.Seconds()), 's')
	}
}

// appendMS appends a latency given in (fractional) milliseconds as
// appendLatency does: "512µs", "1.90ms", "123ms", "1.23s". A value that is
// not a finite number, or below zero, is "–": there was no latency.
func appendMS(b []byte, ms float64) []byte {
	switch {
	case math.IsNaN(ms) || math.IsInf(ms, 0) || ms < 0:
		return append(b, "–"...)
	case ms < 1 && math.Round(ms*1000) < 1000:
		b = strconv.AppendFloat(b, math.Round(ms*1000), 'f', 0, 64)
		return append(b, "µs"...)
	case ms < 1000:
		return append(appendSig3(b, max(ms, 1)), "ms"...)
	default:
		return append(appendSig3(b, ms/1000), 's')
	}
}

// appendSig3 appends v (>= 1) with three significant digits, or as a whole
// number once it has more than three.
func appendSig3(b []byte, v float64) []byte {
	// Round first, so 9.996 becomes "10.0", not "10.00".
	prec := 2
	if math.Round(v*100)/100 >= 10 {
		prec = 1
	}
	if math.Round(v*10)/10 >= 100 {
		prec = 0
	}
	return strconv.AppendFloat(b, v, 'f', prec, 64)
}

// appendBytes appends a byte count in IEC units: "512 B", "12.3 MiB".
func appendBytes(b []byte, n float64) []byte {
	const units = "KMGTPE"
	if math.IsNaN(n) || math.IsInf(n, 0) || n < 0 {
		n = 0
	}
	if n < 1024 {
		b = strconv.AppendFloat(b, n, 'f', 0, 64)
		return append(b, " B"...)
	}
	i := -1
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	b = strconv.AppendFloat(b, n, 'f', 1, 64)
	return append(b, ' ', units[i], 'i', 'B')
}

// appendSpan appends the length of a run: "4.2s", "10s" below a minute,
// then "2m30s", "5m", "1h0m30s", to the second.
func appendSpan(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	if d < time.Minute-50*time.Millisecond {
		s := d.Round(100 * time.Millisecond).Seconds()
		if s == math.Trunc(s) {
			b = strconv.AppendFloat(b, s, 'f', 0, 64)
		} else {
			b = strconv.AppendFloat(b, s, 'f', 1, 64)
		}
		return append(b, 's')
	}
	secs := int64(d.Round(time.Second) / time.Second)
	h, m, s := secs/3600, secs/60%60, secs%60
	if h > 0 {
		b = append(strconv.AppendInt(b, h, 10), 'h')
	}
	if m > 0 || (h > 0 && s > 0) {
		b = append(strconv.AppendInt(b, m, 10), 'm')
	}
	if s > 0 {
		b = append(strconv.AppendInt(b, s, 10), 's')
	}
	return b
}

// appendPercent appends 100*part/whole with prec decimals and a "%"; 0% when
// whole is 0.
func appendPercent(b []byte, part, whole float64, prec int) []byte {
	return append(appendFixed(b, 100*ratio(part, whole), prec), '%')
}

// ratio is a/b, or 0 when that is not a finite number (b == 0, no requests,
// no elapsed time): the report never shows NaN or Inf.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	r := a / b
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return 0
	}
	return r
}

// FormatInt renders n with thousands separators: 1234567 -> "1,234,567".
func FormatInt(n int64) string { return string(appendInt(nil, n)) }

// FormatFixed renders f with thousands separators and prec decimals:
// 123456.78, 1 -> "123,456.8".
func FormatFixed(f float64, prec int) string { return string(appendFixed(nil, f, prec)) }

// FormatRate renders a per-second rate: whole numbers without decimals,
// others with one ("10,000", "123,456.7").
func FormatRate(f float64) string { return string(appendRate(nil, f)) }

// FormatLatency renders a latency with three significant digits in a unit
// that suits it: "512µs", "1.90ms", "12.3ms", "123ms", "1.23s".
func FormatLatency(d time.Duration) string { return string(appendLatency(nil, d)) }

// FormatMS is [FormatLatency] for a latency in milliseconds, the unit of the
// JSON summary; "–" when ms is not a finite number or is negative.
func FormatMS(ms float64) string { return string(appendMS(nil, ms)) }

// FormatBytes renders a byte count in IEC units: "512 B", "12.3 MiB".
func FormatBytes(n float64) string { return string(appendBytes(nil, n)) }

// FormatSpan renders the length of a run: "4.2s", "10s" below a minute,
// then "2m30s", "5m", "1h0m30s", to the second.
func FormatSpan(d time.Duration) string { return string(appendSpan(nil, d)) }

// FormatSeconds is [FormatSpan] for a span in seconds, the unit of the JSON
// summary.
func FormatSeconds(s float64) string {
	if math.IsNaN(s) || s <= 0 {
		return FormatSpan(0)
	}
	s = min(s, 1e9) // 31 years: beyond any run, and far from overflowing a Duration
	return FormatSpan(time.Duration(math.Round(s*1e3)) * time.Millisecond)
}

// FormatPercent renders 100*part/whole with prec decimals and a "%"; 0%
// when whole is 0.
func FormatPercent(part, whole float64, prec int) string {
	return string(appendPercent(nil, part, whole, prec))
}

// FormatResource renders a monitored value by the unit its series name ends
// in (see the monitor package): "_bytes_per_s" "1.2 MiB/s", "_per_s"
// "340.5/s", "_bytes" "1.2 GiB", "_pct" "12.5%"; a count has no unit, and
// decimals only when it is not whole.
func FormatResource(name string, v float64) string {
	switch {
	case strings.HasSuffix(name, "_bytes_per_s"):
		return FormatBytes(v) + "/s"
	case strings.HasSuffix(name, "_per_s"):
		return FormatFixed(v, 1) + "/s"
	case strings.HasSuffix(name, "_bytes"):
		return FormatBytes(v)
	case strings.HasSuffix(name, "_pct"):
		return FormatFixed(v, 1) + "%"
	case v == math.Trunc(v):
		return FormatFixed(v, 0)
	default:
		return FormatFixed(v, 2)
	}
}
