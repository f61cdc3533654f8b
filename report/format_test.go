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
		{"int zero", FormatInt(0), "0"},
		{"int small", FormatInt(999), "999"},
		{"int thousands", FormatInt(1234567), "1,234,567"},
		{"int negative", FormatInt(-1234), "-1,234"},
		{"int min", FormatInt(math.MinInt64), "-9223372036854775808"},
		{"fixed", string(appendFixed(nil, 123456.78, 1)), "123,456.8"},
		{"fixed carry", string(appendFixed(nil, 999.96, 1)), "1,000.0"},
		{"fixed pad", string(appendFixed(nil, 1.05, 2)), "1.05"},
		{"fixed NaN", string(appendFixed(nil, math.NaN(), 1)), "0.0"},
		{"rate whole", FormatRate(10000), "10,000"},
		{"rate fraction", FormatRate(0.5), "0.5"},
		{"latency zero", FormatLatency(0), "0µs"},
		{"latency µs", FormatLatency(512 * time.Microsecond), "512µs"},
		{"latency ms", FormatLatency(1900 * time.Microsecond), "1.90ms"},
		{"latency 10ms", FormatLatency(12345 * time.Microsecond), "12.3ms"},
		{"latency round up", FormatLatency(9999 * time.Microsecond), "10.0ms"},
		{"latency 100ms", FormatLatency(123456 * time.Microsecond), "123ms"},
		{"latency s", FormatLatency(1234 * time.Millisecond), "1.23s"},
		{"latency hour", FormatLatency(time.Hour), "3600s"},
		{"bytes", FormatBytes(512), "512 B"},
		{"bytes KiB", FormatBytes(1536), "1.5 KiB"},
		{"bytes MiB", FormatBytes(12.3 * 1024 * 1024), "12.3 MiB"},
		{"bytes GiB", FormatBytes(5 << 30), "5.0 GiB"},
		{"bytes negative", FormatBytes(-1), "0 B"},
		{"span zero", FormatSpan(0), "0s"},
		{"span tenths", FormatSpan(4240 * time.Millisecond), "4.2s"},
		{"span whole", FormatSpan(10 * time.Second), "10s"},
		{"span near a minute", FormatSpan(59960 * time.Millisecond), "1m"},
		{"span minutes", FormatSpan(150 * time.Second), "2m30s"},
		{"span hour", FormatSpan(time.Hour + 30*time.Second), "1h0m30s"},
		{"span hours", FormatSpan(2 * time.Hour), "2h"},
		{"span negative", FormatSpan(-time.Second), "0s"},
		{"percent", FormatPercent(1, 3, 2), "33.33%"},
		{"percent of nothing", FormatPercent(1, 0, 2), "0.00%"},
		{"fixed exported", FormatFixed(-1234.5, 1), "-1,234.5"},
		{"fixed no negative zero", FormatFixed(-0.04, 1), "0.0"},
		{"fixed negative rounds away from zero", FormatFixed(-0.06, 1), "-0.1"},
		{"ms µs", FormatMS(0.512), "512µs"},
		{"ms zero", FormatMS(0), "0µs"},
		{"ms rounds into ms", FormatMS(0.9996), "1.00ms"},
		{"ms", FormatMS(1.9), "1.90ms"},
		{"ms 10", FormatMS(12.345), "12.3ms"},
		{"ms 100", FormatMS(213), "213ms"},
		{"ms s", FormatMS(1234), "1.23s"},
		{"ms NaN", FormatMS(math.NaN()), "–"},
		{"ms negative", FormatMS(-1), "–"},
		{"ms as latency", FormatMS(12.345), FormatLatency(12345 * time.Microsecond)},
		{"seconds", FormatSeconds(2.5), "2.5s"},
		{"seconds minutes", FormatSeconds(150), "2m30s"},
		{"seconds NaN", FormatSeconds(math.NaN()), "0s"},
		{"seconds huge", FormatSeconds(math.Inf(1)), "277777h46m40s"},
		{"resource bytes/s", FormatResource("net.rx_bytes_per_s", 1536), "1.5 KiB/s"},
		{"resource per s", FormatResource("nginx.requests_per_s", 1234.56), "1,234.6/s"},
		{"resource bytes", FormatResource("mem.used_bytes", 5<<30), "5.0 GiB"},
		{"resource pct", FormatResource("cpu.user_pct", 12.34), "12.3%"},
		{"resource count", FormatResource("tcp.established", 1200), "1,200"},
		{"resource fraction", FormatResource("load.1m", 1.234), "1.23"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
