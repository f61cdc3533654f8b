package html_test

import (
	"bytes"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/report/html"
)

func ExampleWrite() {
	sum := report.NewSummary(report.Meta{
		Name: "shop", Target: "http://127.0.0.1:8080", Model: report.ModelClosed,
		Clients: 10, Elapsed: 10 * time.Second,
	}, nil) // a run's metrics.Run goes here
	var page bytes.Buffer // or the report file
	if err := html.Write(&page, sum); err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Contains(page.String(), "<title>fuka report — shop</title>"))
	// Output: true
}
