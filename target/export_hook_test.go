package target

import (
	"context"

	"github.com/target-go/sdk/future"
)

// GetOffersWithHook is Client.getOffers for the count of the hook's runs
// (see getoffers_ready_hook_test.go).
func GetOffersWithHook(c *Client, ctx context.Context, opts GetOffersOptions, hook func(*future.Future[*Response])) *future.Future[*Response] {
	return c.getOffers(ctx, opts, hook)
}

// VisitorGetOffersWithHook is Visitor.getOffers, likewise.
func VisitorGetOffersWithHook(v *Visitor, ctx context.Context, opts GetOffersOptions, hook func(*future.Future[*Response])) *future.Future[*Response] {
	return v.getOffers(ctx, opts, hook)
}
