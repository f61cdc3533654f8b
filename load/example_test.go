package load_test

import (
	"fmt"
	"time"

	"github.com/fuka-load/fuka/load"
)

func ExampleParseRate() {
	// Ramp from 0 to 10 starts/s over 2s, then hold 10/s for 1s.
	r, err := load.ParseRate("10:2s,10:1s", 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(r, r.Duration(), r.Total())
	for _, i := range []int64{0, 1, 4, 9, 10, 19} {
		off, _ := r.Offset(i)
		fmt.Printf("arrival %2d at %v\n", i, off)
	}
	_, ok := r.Offset(r.Total())
	fmt.Println("past the end:", ok)

	_, err = load.ParseRate("100:xx", 0)
	fmt.Println(err)
	// Output:
	// 10:2s,10:1s 3s 20
	// arrival  0 at 0s
	// arrival  1 at 632.455532ms
	// arrival  4 at 1.264911064s
	// arrival  9 at 1.897366596s
	// arrival 10 at 2s
	// arrival 19 at 2.9s
	// past the end: false
	// rate "100:xx": bad duration "xx"
}

func ExampleRamp() {
	// Four clients start evenly over 2s; all run from 2s on.
	r := load.Ramp{Clients: 4, Over: 2 * time.Second}
	for k := range r.Clients {
		fmt.Printf("client %d starts at %v\n", k, r.Start(k))
	}
	for _, t := range []time.Duration{0, 999 * time.Millisecond, time.Second, 2 * time.Second} {
		fmt.Printf("active at %v: %d\n", t, r.Active(t))
	}
	// Output:
	// client 0 starts at 0s
	// client 1 starts at 500ms
	// client 2 starts at 1s
	// client 3 starts at 1.5s
	// active at 0s: 1
	// active at 999ms: 2
	// active at 1s: 3
	// active at 2s: 4
}

func ExampleCap() {
	// At most 4 starts per second: start i not before i/4 s. A run that
	// stalled until 1.1s owes starts 0 to 4 and makes them at once.
	c := load.Cap{PerSecond: 4}
	for i := range int64(6) {
		fmt.Printf("start %d not before %v\n", i, c.Offset(i))
	}
	// Output:
	// start 0 not before 0s
	// start 1 not before 250ms
	// start 2 not before 500ms
	// start 3 not before 750ms
	// start 4 not before 1s
	// start 5 not before 1.25s
}

func ExampleRate_Split() {
	r, _ := load.ParseRate("10/s", time.Second)
	for j, s := range r.Split(3) {
		var offs []time.Duration
		for k := range s.Total() {
			off, _ := s.Offset(k)
			offs = append(offs, off)
		}
		fmt.Printf("share %d: %v\n", j, offs)
	}
	// Output:
	// share 0: [0s 300ms 600ms 900ms]
	// share 1: [100ms 400ms 700ms]
	// share 2: [200ms 500ms 800ms]
}
