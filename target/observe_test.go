package target_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/target-go/sdk/target"
)

func TestErrorKind(t *testing.T) {
	t.Parallel()
	var syntax error = &json.SyntaxError{}
	for _, tc := range []struct {
		err  error
		want target.ErrorKind
	}{
		{nil, ""},
		{&target.OptionError{Field: "SessionID"}, target.ErrorKindInvalidOption},
		{fmt.Errorf("x: %w", target.ErrOnDeviceUnavailable), target.ErrorKindInvalidOption},
		{&target.APIError{Status: 503}, target.ErrorKindAPI},
		{&target.TransportError{Op: "POST", Err: io.ErrUnexpectedEOF}, target.ErrorKindTransport},
		{&target.TransportError{Op: "call ended", Err: context.DeadlineExceeded}, target.ErrorKindTimeout},
		{&target.DecodeError{Status: 200, Err: syntax}, target.ErrorKindDecode},
		{&target.DecodeError{Status: 200, Err: errors.New("the body is not a JSON object")}, target.ErrorKindDecode},
		{fmt.Errorf("target: call ended: %w", context.DeadlineExceeded), target.ErrorKindTimeout},
		{fmt.Errorf("target: call ended: %w (last attempt: %v)", context.Canceled, &target.APIError{Status: 500}), target.ErrorKindCanceled},
		{fmt.Errorf("target: decoding response: %w", syntax), target.ErrorKindDecode},
		{fmt.Errorf("%w: over 8 bytes", target.ErrResponseTooLarge), target.ErrorKindDecode},
		{target.ErrClientClosed, target.ErrorKindClosed},
		{target.ErrProviderClosed, target.ErrorKindClosed},
		{target.ErrArtifactNotReady, target.ErrorKindNotReady},
		{&target.ArtifactDownloadError{Status: 404}, target.ErrorKindArtifact},
		{fmt.Errorf("%w: bad rule", target.ErrArtifactInvalid), target.ErrorKindArtifact},
		{io.ErrUnexpectedEOF, target.ErrorKindOther},
		{errors.New("something"), target.ErrorKindOther},
	} {
		assert.Equal(t, tc.want, target.ErrorKindOf(tc.err), "%v", tc.err)
	}
}

func TestRedactedURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://h/rest/v1/delivery?imsOrgId=o%40AdobeOrg&sessionId=s3cr3t": "https://h/rest/v1/delivery?imsOrgId=o%40AdobeOrg&sessionId=REDACTED",
		"https://h/rest/v1/delivery?sessionId=s3cr3t&version=2":             "https://h/rest/v1/delivery?sessionId=REDACTED&version=2",
		"https://h/rest/v1/delivery?xsessionId=keep&sessionId=s3cr3t":       "https://h/rest/v1/delivery?xsessionId=keep&sessionId=REDACTED",
		"https://h/rest/v1/delivery?imsOrgId=o":                             "https://h/rest/v1/delivery?imsOrgId=o",
		"https://h/rest/v1/delivery":                                        "https://h/rest/v1/delivery",
		"https://h/rest/v1/delivery?sessionId=":                             "https://h/rest/v1/delivery?sessionId=REDACTED",
	} {
		assert.Equal(t, want, target.RedactedURL(in), in)
	}
}
