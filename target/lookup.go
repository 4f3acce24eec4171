package target

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNoContent is matched (errors.Is) by the error of [MboxContent] when
// the answer has no option with content for the mbox: the mbox is not in
// it, or the visitor qualified for no offer there. It is not a failure of
// the call: render the default content.
var ErrNoContent = errors.New("target: no content")

// Mbox returns the executed decision for the mbox named name, and whether
// the answer has one. The edge answers every executed mbox, with no
// options when the visitor qualified for no offer; check len(m.Options)
// before using one.
func (r *Response) Mbox(name string) (MboxResponse, bool) {
	if r != nil && r.Response != nil && r.Response.Execute != nil {
		for _, m := range r.Response.Execute.Mboxes {
			if m.Name == name {
				return m, true
			}
		}
	}
	return MboxResponse{}, false
}

// PrefetchedMbox returns the prefetched decision for the mbox named name,
// and whether the answer has one. Its options carry the event tokens of
// the display notification to send when the content is shown.
func (r *Response) PrefetchedMbox(name string) (PrefetchMboxResponse, bool) {
	if r != nil && r.Response != nil && r.Response.Prefetch != nil {
		for _, m := range r.Response.Prefetch.Mboxes {
			if m.Name == name {
				return m, true
			}
		}
	}
	return PrefetchMboxResponse{}, false
}

// View returns the prefetched view named name, and whether the answer has
// it. A request for every view (a view request without a name) gets each
// view under its own name.
func (r *Response) View(name string) (View, bool) {
	if r != nil && r.Response != nil && r.Response.Prefetch != nil {
		for _, v := range r.Response.Prefetch.Views {
			if v.Name == name {
				return v, true
			}
		}
	}
	return View{}, false
}

// DecodeContent decodes the JSON content of o into a new T: a json offer
// into a struct or a map, an html offer into a string. An option without
// content (none, only white space, or the JSON null the edge may write for
// an absent value) fails with ErrNoContent; content that does not fit T fails with
// the *json error, wrapped with the option's type.
func DecodeContent[T any](o Option) (T, error) {
	var v T
	if !hasContent(o.Content) {
		return v, fmt.Errorf("%w: the %s option has no content", ErrNoContent, o.Type)
	}
	if err := json.Unmarshal(o.Content, &v); err != nil {
		return v, fmt.Errorf("target: decoding the content of a %s option: %w", o.Type, err)
	}
	return v, nil
}

// hasContent reports whether raw, an option's content, holds a value:
// empty, white space and null hold none. json.Unmarshal would decode null
// into any T without an error, leaving the zero value, so a "content":
// null would pass for content and hide the prefetched fallback.
func hasContent(raw json.RawMessage) bool {
	b := bytes.TrimSpace(raw)
	return len(b) > 0 && !bytes.Equal(b, []byte("null"))
}

// MboxContent decodes into a new T, in one call, the content of the
// first option that has content (see [DecodeContent]) among the options of the executed
// decision for the mbox named mbox, else among those of its prefetched
// decision: an executed decision without content (no offer, or only
// options without content) does not hide a prefetched one that has it.
// When neither has any it fails with ErrNoContent, so that the caller
// renders its default, and never panics the way indexing Options[0] of an
// mbox without offers does:
//
//	hero, err := target.MboxContent[Hero](res, "hero")
//	if errors.Is(err, target.ErrNoContent) {
//		hero = defaultHero
//	}
func MboxContent[T any](r *Response, mbox string) (T, error) {
	var candidates [2][]Option
	if m, ok := r.Mbox(mbox); ok {
		candidates[0] = m.Options
	}
	if p, ok := r.PrefetchedMbox(mbox); ok {
		candidates[1] = p.Options
	}
	for _, opts := range candidates {
		for _, o := range opts {
			if hasContent(o.Content) {
				return DecodeContent[T](o)
			}
		}
	}
	var zero T
	return zero, fmt.Errorf("%w for mbox %q", ErrNoContent, mbox)
}
