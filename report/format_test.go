package report

import (
	"math"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"int zero", fmtInt(0), "0"},
		{"int small", fmtInt(999), "999"},
		{"int thousands", fmtInt(1234567), "1,234,567"},
		{"int negative", fmtInt(-1234), "-1,234"},
		{"int min", fmtInt(math.MinInt64), "-9223372036854775808"},
		{"fixed", string(appendFixed(nil, 123456.78, 1)), "123,456.8"},
		{"fixed carry", string(appendFixed(nil, 999.96, 1)), "1,000.0"},
		{"fixed pad", string(appendFixed(nil, 1.05, 2)), "1.05"},
		{"fixed NaN", string(appendFixed(nil, math.NaN(), 1)), "0.0"},
		{"rate whole", fmtRate(10000), "10,000"},
		{"rate fraction", fmtRate(0.5), "0.5"},
		{"latency zero", fmtLatency(0), "0µs"},
		{"latency µs", fmtLatency(512 * time.Microsecond), "512µs"},
		{"latency ms", fmtLatency(1900 * time.Microsecond), "1.90ms"},
		{"latency 10ms", fmtLatency(12345 * time.Microsecond), "12.3ms"},
		{"latency round up", fmtLatency(9999 * time.Microsecond), "10.0ms"},
		{"latency 100ms", fmtLatency(123456 * time.Microsecond), "123ms"},
		{"latency s", fmtLatency(1234 * time.Millisecond), "1.23s"},
		{"latency hour", fmtLatency(time.Hour), "3600s"},
		{"bytes", fmtBytes(512), "512 B"},
		{"bytes KiB", fmtBytes(1536), "1.5 KiB"},
		{"bytes MiB", fmtBytes(12.3 * 1024 * 1024), "12.3 MiB"},
		{"bytes GiB", fmtBytes(5 << 30), "5.0 GiB"},
		{"bytes negative", fmtBytes(-1), "0 B"},
		{"span zero", fmtSpan(0), "0s"},
		{"span tenths", fmtSpan(4240 * time.Millisecond), "4.2s"},
		{"span whole", fmtSpan(10 * time.Second), "10s"},
		{"span near a minute", fmtSpan(59960 * time.Millisecond), "1m"},
		{"span minutes", fmtSpan(150 * time.Second), "2m30s"},
		{"span hour", fmtSpan(time.Hour + 30*time.Second), "1h0m30s"},
		{"span hours", fmtSpan(2 * time.Hour), "2h"},
		{"span negative", fmtSpan(-time.Second), "0s"},
		{"percent", fmtPercent(1, 3, 2), "33.33%"},
		{"percent of nothing", fmtPercent(1, 0, 2), "0.00%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
