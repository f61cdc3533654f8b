package tmpl_test

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/fuka-load/fuka/tmpl"
)

func Example() {
	// Load time: every name the plan defines gets a slot, then each template
	// string is compiled once.
	names := tmpl.NewNames()
	user := names.Add("users.name")
	t, err := tmpl.Compile("/search?q={{ urlquery users.name }}&page={{ randInt 1 3 }}&n={{ seq }}", names, os.LookupEnv)
	if err != nil {
		panic(err)
	}

	// Run time: each client has a State; rendering appends to a reused buffer.
	st := tmpl.NewState(names, 1)
	st.Vals[user] = "Ann Lee"
	var buf []byte
	for range 2 {
		buf = t.Render(buf[:0], st)
		fmt.Println(string(buf))
	}
	// Output:
	// /search?q=Ann+Lee&page=2&n=1
	// /search?q=Ann+Lee&page=1&n=2
}

func ExampleCompile_error() {
	names := tmpl.NewNames()
	names.Add("token")
	_, err := tmpl.Compile("Bearer {{ tokn }}", names, nil)
	var e *tmpl.Error
	if errors.As(err, &e) {
		// The caller turns the offset into a column in the plan file.
		fmt.Printf("byte %d: %s\n", e.Offset, e.Msg)
	}
	// Output:
	// byte 10: unknown variable "tokn"
}

func ExampleTemplate_Static() {
	env := func(name string) (string, bool) { return "user:secret", name == "CREDS" }
	t, err := tmpl.Compile(`Basic {{ base64 (env "CREDS") }}`, tmpl.NewNames(), env)
	if err != nil {
		panic(err)
	}
	s, ok := t.Static()
	fmt.Println(s, ok)
	// Output:
	// Basic dXNlcjpzZWNyZXQ= true
}

func ExampleState() {
	names := tmpl.NewNames()
	t, err := tmpl.Compile(`{{ now "2006-01-02" }} {{ now "unix" }}`, names, nil)
	if err != nil {
		panic(err)
	}
	st := tmpl.NewState(names, 0)
	st.Now = func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) }
	fmt.Println(string(t.Render(nil, st)))
	// Output:
	// 2026-03-04 1772600767
}
