package target

import (
	"context"

	"github.com/target-go/sdk/future"
)

// RTGetOffersWithHook is Client.getOffers for the red team's count of the
// hook's runs (see rtcbfix_hook_test.go).
func RTGetOffersWithHook(c *Client, ctx context.Context, opts GetOffersOptions, hook func(*future.Future[*Response])) *future.Future[*Response] {
	return c.getOffers(ctx, opts, hook)
}

// RTVisitorGetOffersWithHook is Visitor.getOffers, likewise.
func RTVisitorGetOffersWithHook(v *Visitor, ctx context.Context, opts GetOffersOptions, hook func(*future.Future[*Response])) *future.Future[*Response] {
	return v.getOffers(ctx, opts, hook)
}
