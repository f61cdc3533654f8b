package report

import (
	"math"
	"strconv"
	"time"
)

// The append* helpers render numbers for people. They append to a caller's
// buffer so that Progress.Update, which runs every second for the whole run,
// can reuse one buffer; the text summary wraps them in the string-returning
// helpers below.

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
// 123456.78, 1 -> "123,456.8". Non-finite values render as "0".
func appendFixed(b []byte, f float64, prec int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	scale := math.Pow10(prec)
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

// String forms for the text summary, which is not on a hot path.

func fmtInt(n int64) string                 { return string(appendInt(nil, n)) }
func fmtRate(f float64) string              { return string(appendRate(nil, f)) }
func fmtLatency(d time.Duration) string     { return string(appendLatency(nil, d)) }
func fmtBytes(n float64) string             { return string(appendBytes(nil, n)) }
func fmtSpan(d time.Duration) string        { return string(appendSpan(nil, d)) }
func fmtPercent(p, w float64, n int) string { return string(appendPercent(nil, p, w, n)) }
