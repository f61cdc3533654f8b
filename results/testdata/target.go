//go:build ignore

// target is the local HTTP service gen.sh points the tools at: "/" answers
// 200 with a short body after about a millisecond, "/slow" after 20 ms,
// and every tenth request to "/flaky" answers 500.
package main

import (
	"flag"
	"log"
	"net/http"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18931", "listen address")
	flag.Parse()
	var n atomic.Int64
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		w.Write([]byte("hello from the target\n"))
	})
	http.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		w.Write([]byte("slow\n"))
	})
	http.HandleFunc("/flaky", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok\n"))
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
