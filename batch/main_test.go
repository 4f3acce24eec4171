package batch_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/target-go/sdk/future"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	errA = errors.New("a failed")
	errB = errors.New("b failed")
)

// in describes one input future of a combinator test.
type in struct {
	kind kind
	v    int
	err  error
}

type kind int

const (
	ok     kind = iota // already resolved with v
	failed             // already rejected with err
	later              // a promise settled by the test after the call, with v or err
	panics             // a future.Go whose work panics with err
	blocks             // a future.Go whose work waits for its context
	null               // a nil future
)

// inputs is what build makes of a list of in.
type inputs struct {
	fs       []*future.Future[int]
	promises map[int]*future.Promise[int]
	specs    []in
	blocked  []*future.Future[int]
	// stopped is closed by each blocking input's work when its context
	// ends: it shows the work saw the cancellation, not just the future.
	stopped chan int
}

func build(t *testing.T, specs ...in) *inputs {
	t.Helper()
	x := &inputs{promises: map[int]*future.Promise[int]{}, specs: specs, stopped: make(chan int, len(specs))}
	for i, s := range specs {
		var f *future.Future[int]
		switch s.kind {
		case ok:
			f = future.Resolved(s.v)
		case failed:
			f = future.Rejected[int](s.err)
		case later:
			p := future.NewPromise[int]()
			x.promises[i] = p
			f = p.Future()
		case panics:
			f = future.Go(t.Context(), func(context.Context) (int, error) { panic(s.err) })
		case blocks:
			f = future.Go(t.Context(), func(ctx context.Context) (int, error) {
				<-ctx.Done()
				x.stopped <- i
				return 0, ctx.Err()
			})
			x.blocked = append(x.blocked, f)
		case null:
		}
		x.fs = append(x.fs, f)
	}
	// Whatever the test did, nothing may outlive it.
	t.Cleanup(func() {
		for _, f := range x.blocked {
			f.Cancel()
		}
		for range x.blocked {
			<-x.stopped
		}
	})
	return x
}

// settle settles the promises in the given order, or in input order.
func (x *inputs) settle(order ...int) {
	if order == nil {
		for i := range x.specs {
			order = append(order, i)
		}
	}
	for _, i := range order {
		if p, ok := x.promises[i]; ok {
			_ = p.Complete(x.specs[i].v, x.specs[i].err)
		}
	}
}

// requireCancelled checks that every blocking input settled with
// context.Canceled and that its work saw its context end.
func (x *inputs) requireCancelled(t *testing.T) {
	t.Helper()
	for _, f := range x.blocked {
		_, err := f.Await(t.Context())
		require.ErrorIs(t, err, context.Canceled)
	}
	for range x.blocked {
		<-x.stopped
	}
	x.blocked = nil // nothing left for the clean-up
}

// requirePending checks that no blocking input has settled.
func (x *inputs) requirePending(t *testing.T) {
	t.Helper()
	for _, f := range x.blocked {
		_, err := f.Peek()
		require.ErrorIs(t, err, future.ErrPending)
	}
}
