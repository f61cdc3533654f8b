package dashboard_test

import (
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/fuka-load/fuka/dashboard"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

func ExampleNew() {
	stop := make(chan struct{}) // a run would cancel its context
	d, err := dashboard.New("127.0.0.1:0", "", func() { close(stop) })
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	fmt.Println(strings.HasPrefix(d.URL(), "http://127.0.0.1:"))

	// Once a second while the run goes on: the summary of the run so far.
	var run metrics.Run
	d.Publish(report.NewSummary(report.Meta{Name: "shop", Elapsed: time.Second}, &run))
	// Output: true
}
