package grpcstatus

import "testing"

func TestLabelAndName(t *testing.T) {
	for _, tc := range []struct{ key, label, name string }{
		{"200", "200 OK (gRPC 0)", "OK"},
		{"503", "503 Unavailable (gRPC 14)", "Unavailable"},
		{"504", "504 DeadlineExceeded (gRPC 4)", "DeadlineExceeded"},
		{"401", "401 Unauthenticated (gRPC 16)", "Unauthenticated"},
		{"302", "302", "302"}, // no code counts as 302
		{"invalid", "invalid", "invalid"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			if got := Label(tc.key); got != tc.label {
				t.Errorf("Label(%q) = %q, want %q", tc.key, got, tc.label)
			}
			if got := Name(tc.key); got != tc.name {
				t.Errorf("Name(%q) = %q, want %q", tc.key, got, tc.name)
			}
		})
	}
}
