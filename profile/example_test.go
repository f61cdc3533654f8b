package profile_test

import (
	"fmt"
	"time"

	"github.com/fuka-load/fuka/profile"
)

func ExampleParseSpec() {
	s, err := profile.ParseSpec("http://127.0.0.1:6060,at=60%,seconds=20,kinds=cpu+heap")
	if err != nil {
		panic(err)
	}
	// A 5-minute run: 60% is 3m, and the 20 s CPU profile is centred on it.
	fmt.Println(s.At, s.StartOffset(5*time.Minute, 0))

	_, err = profile.ParseSpec("http://127.0.0.1:6060,at=soon")
	fmt.Println(err)
	// Output:
	// 60% 2m50s
	// profile "http://127.0.0.1:6060,at=soon": profile at "soon": want peak, a percentage like 60% or an offset like 30s
}

func ExampleTopText() {
	ps := []profile.Profile{
		{
			Kind: "cpu", URL: "http://127.0.0.1:6060", File: "run/cpu-127.0.0.1_6060-1.pb.gz",
			Started: 85 * time.Second, Unit: "seconds", Total: 9.81,
			Top: []profile.Func{
				{Name: "main.handleCheckout", Flat: 4.1, Cum: 6.2, FlatPct: 41.8, CumPct: 63.2},
				{Name: "crypto/sha256.block", Flat: 2.05, Cum: 2.05, FlatPct: 20.9, CumPct: 20.9},
				{Name: "runtime.mallocgc", Flat: 1, Cum: 1.2, FlatPct: 10.2, CumPct: 12.2},
			},
		},
		{
			Kind: "heap", URL: "http://127.0.0.1:6060", Started: 90 * time.Second, Unit: "bytes", Total: 96 << 20,
			Top: []profile.Func{{Name: "main.cache", Flat: 64 << 20, Cum: 64 << 20, FlatPct: 66.7, CumPct: 66.7}},
		},
		{Kind: "goroutine", URL: "http://10.0.0.9:6060", Started: 90 * time.Second, Err: "connection refused"},
	}
	fmt.Print(profile.TopText(ps, 2))
	// Output:
	// cpu http://127.0.0.1:6060 at 1m25s, total 9.81s: run/cpu-127.0.0.1_6060-1.pb.gz
	//         flat  flat%        cum   cum%  function
	//        4.10s  41.8%      6.20s  63.2%  main.handleCheckout
	//        2.05s  20.9%      2.05s  20.9%  crypto/sha256.block
	//
	// heap http://127.0.0.1:6060 at 1m30s, total 96.0 MiB
	//         flat  flat%        cum   cum%  function
	//     64.0 MiB  66.7%   64.0 MiB  66.7%  main.cache
	//
	// goroutine http://10.0.0.9:6060 at 1m30s: error: connection refused
}
