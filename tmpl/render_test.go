package tmpl

import (
	"testing"
)

const typical = "/products?page={{ randInt 1 10 }}&q={{ urlquery users.name }}&id={{ uuid }}"

func TestRenderDoesNotAllocate(t *testing.T) {
	tests := []struct{ name, src string }{
		{"typical", typical},
		{"literal", "/static/path"},
		{"variable", "Bearer {{ token }}"},
		{"randInt", "{{ randInt 1 1000 }}"},
		{"randInt from variable", "{{ randInt 1 page }}"},
		{"randString", "{{ randString 32 }}"},
		{"randItem", `{{ randItem "a" "b" name }}`},
		{"uuid", "{{ uuid }}"},
		{"seq", "{{ seq }}"},
		{"now", `{{ now }} {{ now "unixms" }} {{ now "2006-01-02" }}`},
		{"urlquery of variable", "{{ urlquery name }}"},
		{"base64 of variable", "{{ base64 token }}"},
		{"lower and upper", "{{ lower name }}{{ upper ユーザー }}"},
		{"nested", "{{ base64 (upper (randString 8)) }}{{ urlquery (lower name) }}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := testNames()
			tp, err := Compile(tt.src, names, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			st := testState(names)
			buf := make([]byte, 0, 512)
			buf = tp.Render(buf[:0], st) // grow the scratch buffers once
			allocs := testing.AllocsPerRun(1000, func() {
				buf = tp.Render(buf[:0], st)
			})
			if allocs != 0 {
				t.Errorf("Render(%q) allocates %.1f times per run, want 0", tt.src, allocs)
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct{ name, src string }{
		{"typical", typical},
		{"variable", "Bearer {{ token }}"},
		{"static", "/products/list"},
		{"nested", "{{ base64 (upper (randString 8)) }}"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			names := testNames()
			tp, err := Compile(bc.src, names, nil)
			if err != nil {
				b.Fatal(err)
			}
			st := testState(names)
			buf := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				buf = tp.Render(buf[:0], st)
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	names := testNames()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(typical, names, nil); err != nil {
			b.Fatal(err)
		}
	}
}
