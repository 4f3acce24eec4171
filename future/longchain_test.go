package future_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"testing"
	"time"

	"github.com/target-go/sdk/future"
)

// TestMillionStageChains runs a million-stage chain of each
// composition on a 10 MB stack, in a child process so that a stack
// overflow fails one case instead of killing the test binary.
func TestMillionStageChains(t *testing.T) {
	if kind := os.Getenv("FUTURE_CHAIN_CHILD"); kind != "" {
		runChain(kind)
		return
	}
	if testing.Short() {
		t.Skip("-short")
	}
	for _, kind := range []string{"Recover", "Handle", "Timeout", "ComposeSettledInner", "OnCompleteDeferred", "ComposeLoop"} {
		t.Run(kind, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMillionStageChains$")
			cmd.Env = append(os.Environ(), "FUTURE_CHAIN_CHILD="+kind)
			out, err := cmd.CombinedOutput()
			if err != nil {
				if len(out) > 300 {
					out = out[:300]
				}
				t.Fatalf("%s chain: %v: %s", kind, err, out)
			}
		})
	}
}

var errChain = errors.New("chain")

func runChain(kind string) {
	debug.SetMaxStack(10 << 20)
	n := 1_000_000
	if raceEnabled {
		n = 100_000
	}
	p := future.NewPromise[int]()
	f := p.Future()
	switch kind {
	case "Recover":
		for range n {
			f = future.Recover(future.Then(f, func(v int) (int, error) { return v, errChain }), func(error) (int, error) { return 7, nil })
		}
	case "Handle":
		for range n {
			f = future.Handle(f, func(v int, err error) (int, error) { return v, err })
		}
	case "Timeout":
		for range n {
			f = future.Timeout(f, time.Hour)
		}
	case "ComposeSettledInner":
		// Each stage returns a future that is already settled.
		for range n {
			f = future.Compose(f, func(v int) *future.Future[int] { return future.Resolved(v) })
		}
	case "OnCompleteDeferred":
		for range n {
			q := future.NewPromise[int]()
			f.OnCompleteDeferred(func(v int, err error) future.Deferred {
				d, _ := q.CompleteDeferred(v, err)
				return d
			})
			f = q.Future()
		}
	case "ComposeLoop":
		// A loop whose every step composes the next from a promise
		// settled later: constant memory and a flat stack promised.
		var step func(i int) *future.Future[int]
		promises := make(chan *future.Promise[int], 1)
		step = func(i int) *future.Future[int] {
			if i == n {
				return future.Resolved(7)
			}
			q := future.NewPromise[int]()
			promises <- q
			return future.Compose(q.Future(), func(int) *future.Future[int] { return step(i + 1) })
		}
		res := step(0)
		go func() {
			for range n {
				_ = (<-promises).Resolve(0)
			}
		}()
		_ = p.Resolve(7)
		v, err := res.Await(context.Background())
		if err != nil || v != 7 {
			panic(fmt.Sprintf("got %v, %v", v, err))
		}
		return
	}
	_ = p.Resolve(7)
	v, err := f.Await(context.Background())
	if err != nil || v != 7 {
		panic(fmt.Sprintf("got %v, %v", v, err))
	}
}
