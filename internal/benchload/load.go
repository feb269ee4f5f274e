package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec is what the load generator sends: request i goes to
// URLs[i % len], with Bodies[i % len] (POST) or none (GET), Cookies[i %
// len] and Headers; every answer must contain Expect.
type loadSpec struct {
	URLs     []string
	Bodies   []string
	Cookies  []string
	Headers  map[string]string
	Expect   string
	Conns    int
	Duration time.Duration
}

// loadResult is what the load generator measured.
type loadResult struct {
	Count   int
	Seconds float64
	P50us   int64
	P99us   int64
}

// runLoad runs the load generator in a process of its own, so that its
// work is not the server's, and returns what it measured.
func runLoad(ctx context.Context, self string, spec loadSpec) (loadResult, error) {
	in, err := json.Marshal(spec)
	if err != nil {
		return loadResult{}, err
	}
	cmd := exec.CommandContext(ctx, self, "load")
	cmd.Stdin = strings.NewReader(string(in))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return loadResult{}, err
	}
	var r loadResult
	err = json.Unmarshal(out, &r)
	return r, err
}

// generateLoad is the load generator's process: the spec on stdin, the
// result on stdout. Each connection sends one request after another for the
// spec's duration; a wrong answer stops it with an error.
func generateLoad() {
	var spec loadSpec
	if err := json.NewDecoder(os.Stdin).Decode(&spec); err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: spec.Conns, MaxConnsPerHost: spec.Conns}}
	var next atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	var failure atomic.Value
	deadline := time.Now().Add(spec.Duration)
	start := time.Now()
	var wg sync.WaitGroup
	for range spec.Conns {
		wg.Go(func() {
			var mine []time.Duration
			defer func() { mu.Lock(); latencies = append(latencies, mine...); mu.Unlock() }()
			for time.Now().Before(deadline) && failure.Load() == nil {
				i := int(next.Add(1))
				t0 := time.Now()
				body, err := send(client, spec, i)
				if err != nil {
					failure.Store(err.Error())
					return
				}
				if !strings.Contains(string(body), spec.Expect) {
					failure.Store(fmt.Sprintf("answer without %q: %.300s", spec.Expect, body))
					return
				}
				mine = append(mine, time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failure.Load(); f != nil {
		log.Fatalf("load: %v", f)
	}
	slices.Sort(latencies)
	q := func(p float64) int64 {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[int(p*float64(len(latencies)-1))].Microseconds()
	}
	_ = json.NewEncoder(os.Stdout).Encode(loadResult{Count: len(latencies), Seconds: elapsed.Seconds(), P50us: q(0.5), P99us: q(0.99)})
}

func send(client *http.Client, spec loadSpec, i int) ([]byte, error) {
	url := spec.URLs[i%len(spec.URLs)]
	var req *http.Request
	var err error
	if len(spec.Bodies) > 0 {
		req, err = http.NewRequest(http.MethodPost, url, strings.NewReader(spec.Bodies[i%len(spec.Bodies)]))
	} else {
		req, err = http.NewRequest(http.MethodGet, url, nil)
	}
	if err != nil {
		return nil, err
	}
	for k, v := range spec.Headers {
		req.Header.Set(k, v)
	}
	if len(spec.Cookies) > 0 {
		req.Header.Set("Cookie", spec.Cookies[i%len(spec.Cookies)])
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
