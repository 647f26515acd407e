// Command loadtest measures convgraph serve's throughput and latency on loopback: it
// starts the service in-process on 127.0.0.1 with the zoo's pretrained models, then for
// each model and concurrency drives it with vegeta's attacker (a fixed number of workers,
// each sending its next request as soon as the last is answered) for a bounded time and
// number of requests, and prints a Markdown table for docs/serving.md.
//
//	go run ./tools/loadtest -models fashion-cnn,resnet-small -concurrency 1,8,64 -duration 10s
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/kernels"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/serve"
	"github.com/convgraph/convgraph/zoo"
)

func main() {
	models := flag.String("models", "fashion-cnn,resnet-small", "zoo models to serve and load, comma-separated")
	conc := flag.String("concurrency", "1,8,64", "concurrent clients, comma-separated")
	duration := flag.Duration("duration", 10*time.Second, "time per model and concurrency")
	maxRequests := flag.Int("max-requests", 100000, "requests per model and concurrency at most")
	maxBatch := flag.Int("max-batch", 32, "the service's --max-batch")
	maxWait := flag.Duration("max-wait", 2*time.Millisecond, "the service's --max-wait")
	flag.Parse()
	if err := run(strings.Split(*models, ","), *conc, *duration, *maxRequests, *maxBatch, *maxWait, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(names []string, conc string, duration time.Duration, maxRequests, maxBatch int, maxWait time.Duration, out io.Writer) error {
	var levels []int
	for _, s := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-concurrency %q: want positive whole numbers", conc)
		}
		levels = append(levels, n)
	}
	var served []serve.Model
	for _, name := range names {
		m, _, err := zoo.Pretrained(name)
		if err != nil {
			return err
		}
		p, err := nn.NewPredictor(m)
		if err != nil {
			return err
		}
		served = append(served, serve.Model{Name: name, Predictor: p})
	}
	cfg := serve.Config{MaxBatch: maxBatch, MaxWait: maxWait, NoWait: maxWait == 0, MaxQueue: 1 << 16,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv, err := serve.New(served, cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, "127.0.0.1:0", 10*time.Second, func(a string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		cancel()
		return err
	}
	defer func() { cancel(); <-done }()

	images, err := sampleImages(16)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "loopback, %d cores (GOMAXPROCS %d), compute path %s, load average before: %s\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), kernels.Backend(), loadavg())
	fmt.Fprintf(out, "service: --max-batch %d --max-wait %v, workers %d; each point %v or %d requests\n\n",
		maxBatch, maxWait, runtime.GOMAXPROCS(0), duration, maxRequests)
	fmt.Fprintln(out, "| model | concurrency | requests | throughput (req/s) | p50 | p99 | mean batch | errors |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|")
	for _, name := range names {
		url := "http://" + addr + "/v1/models/" + name + "/predict"
		for _, c := range levels {
			// A short warm-up compiles the graphs for the batch sizes this load makes.
			attack(url, images, c, 500*time.Millisecond, maxRequests)
			b0, n0, err := batchStats(addr, name)
			if err != nil {
				return err
			}
			m := attack(url, images, c, duration, maxRequests)
			b1, n1, err := batchStats(addr, name)
			if err != nil {
				return err
			}
			meanBatch := 0.0
			if n1 > n0 {
				meanBatch = (b1 - b0) / (n1 - n0)
			}
			fmt.Fprintf(out, "| %s | %d | %d | %.0f | %s | %s | %.1f | %d |\n", name, c, m.Requests, m.Throughput,
				ms(m.Latencies.P50), ms(m.Latencies.P99), meanBatch, m.Requests-uint64(float64(m.Requests)*m.Success+0.5))
		}
	}
	fmt.Fprintf(out, "\nload average after: %s\n", loadavg())
	return nil
}

// attack sends requests from c workers, each as soon as its last is answered, for d or
// at most max requests.
func attack(url string, images [][]byte, c int, d time.Duration, max int) *vegeta.Metrics {
	var next atomic.Uint64
	targeter := func(t *vegeta.Target) error {
		i := next.Add(1)
		t.Method, t.URL, t.Body = "POST", url, images[i%uint64(len(images))]
		t.Header = http.Header{"Content-Type": []string{"image/png"}}
		return nil
	}
	atk := vegeta.NewAttacker(vegeta.Workers(uint64(c)), vegeta.MaxWorkers(uint64(c)), vegeta.Connections(c),
		vegeta.MaxConnections(c), vegeta.Timeout(30*time.Second), vegeta.KeepAlive(true))
	var m vegeta.Metrics
	n := 0
	for res := range atk.Attack(targeter, vegeta.Rate{Freq: 0}, d, "load") {
		m.Add(res)
		if n++; n == max {
			atk.Stop()
		}
	}
	m.Close()
	return &m
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func sampleImages(n int) ([][]byte, error) {
	s, err := data.Sample(data.FashionMNIST)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for i := 0; i < n; i++ {
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		copy(img.Pix, s.Test.Image(i))
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			return nil, err
		}
		out = append(out, b.Bytes())
	}
	return out, nil
}

// batchStats reads the batch-size histogram's sum and count from /metrics.
func batchStats(addr, model string) (sum, count float64, err error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, `convgraph_batch_size_sum{model="`+model+`"} `); ok {
			sum, _ = strconv.ParseFloat(v, 64)
		}
		if v, ok := strings.CutPrefix(l, `convgraph_batch_size_count{model="`+model+`"} `); ok {
			count, _ = strconv.ParseFloat(v, 64)
		}
	}
	return sum, count, nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
