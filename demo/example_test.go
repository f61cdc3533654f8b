package demo_test

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/fuka-load/fuka/demo"
)

// Start the demo shop on a free loopback port and ask it for its health.
func ExampleStart() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.Start(ctx, "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	resp, err := http.Get(s.URL() + "/health")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body), s.Served())
	// Output: 200 ok 1
}
