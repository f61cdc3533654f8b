package importer_test

import (
	"fmt"
	"os"

	"github.com/fuka-load/fuka/importer"
)

func ExampleCurl() {
	res, err := importer.Curl(`curl 'https://shop.example.com/api/login' \
  -H 'content-type: application/json' \
  --data-raw '{"user":"alice","pass":"s3cret"}' --compressed`)
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(res.YAML)
	for _, s := range res.Skipped {
		fmt.Println("skipped:", s)
	}
	// Output:
	// # Imported by `fuka import curl` from a curl command line. Schema: docs/plan.md.
	// # Check it with `fuka validate FILE`, run it with `fuka run FILE`.
	// base_url: https://shop.example.com
	// scenarios:
	//   imported:
	//     steps:
	//       - post: /api/login
	//         json:
	//           user: alice
	//           pass: s3cret
	//
	// # A starting point, not a recommendation: 10 clients (virtual users) for 30s.
	// # Adjust it to your test, or switch to the open model (arrivals per second):
	// #   load: { rate: 50, duration: 1m }
	// load:
	//   clients: 10
	//   duration: 30s
	// thresholds:             # pass/fail for CI: adjust them to your service level objectives
	//   - error_rate < 1%
	// skipped: --compressed: not needed, fuka's client asks for gzip and decompresses it itself
}
