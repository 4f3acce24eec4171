package target_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

func TestParseTargetCookie(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name    string
		value   string
		want    map[string]string // entry name -> value
		wantErr bool
	}{
		{"empty", "", map[string]string{}, false},
		{"both", "session#s1#1700000100|PC#t.35_0#1800000000", map[string]string{"session": "s1", "PC": "t.35_0"}, false},
		{"expired dropped", "session#s1#1699999999|PC#t#1800000000", map[string]string{"PC": "t"}, false},
		{"expires now kept", "session#s1#1700000000", map[string]string{"session": "s1"}, false},
		{"encoded", "session#a%20b%23c#1700000100", map[string]string{"session": "a b#c"}, false},
		{"extra fields ignored", "session#s#1700000100#x", map[string]string{"session": "s"}, false},
		{"later entry wins", "PC#a#1700000100|PC#b#1700000100", map[string]string{"PC": "b"}, false},
		{"too few fields", "session#s", map[string]string{}, true},
		{"bad expiry", "session#s#soon|PC#t#1700000100", map[string]string{"PC": "t"}, true},
		{"bad encoding", "session#%zz#1700000100", map[string]string{}, true},
		{"too long", strings.Repeat("a", 5000), map[string]string{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := target.ParseTargetCookie(tt.value, now)
			if tt.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			vals := map[string]string{}
			for k, e := range got {
				name, v, _ := e.Fields()
				assert.Equal(t, k, name)
				vals[k] = v
			}
			assert.Equal(t, tt.want, vals)
		})
	}
}

func FuzzParseCookie(f *testing.F) {
	for _, s := range []string{
		"", "session#s1#1700000100|PC#t.35_0#1800000000", "session#a%20b#1", "|||", "#", "##", "a#b#c",
		"session#%zz#1", "PC#" + strings.Repeat("x", 200) + "#99999999999999999999", "session#s#-1|",
	} {
		f.Add(s)
	}
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, value string) {
		got, err := target.ParseTargetCookie(value, now)
		require.NotNil(t, got)
		if err != nil {
			assert.NotEmpty(t, err.Error())
		}
		for name, e := range got {
			n, _, exp := e.Fields()
			assert.Equal(t, name, n)
			assert.GreaterOrEqual(t, exp, now.Unix(), "expired entries are dropped")
		}
	})
}

func FuzzDecodeResponse(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"status":200,"id":{"tntId":"a.35_0"},"execute":{"mboxes":[{"index":0,"name":"a","options":[{"type":"json","content":{"k":1}}]}]}}`,
		`{"prefetch":{"views":[{"name":"v","options":[{"type":"actions","content":[{"type":"setHtml"}]}]}]}}`,
		`{"status":`, `[]`, `null`, `{"status":"x"}`, `{} {}`, `{"execute":{"mboxes":{}}}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := target.DecodeResponse(body)
		if err != nil {
			assert.Nil(t, got)
			assert.Contains(t, err.Error(), "decoding response")
			return
		}
		require.NotNil(t, got)
	})
}

// TestDecodeResponseRejectsTrailingData: a body must be one JSON object and
// nothing else but white space, whatever follows it.
func TestDecodeResponseRejectsTrailingData(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{} {}`, `{}]`, `{}}`, `{"status":200} x`, `{} null`} {
		got, err := target.DecodeResponse([]byte(body))
		require.Error(t, err, "%s", body)
		assert.Nil(t, got)
		assert.Contains(t, err.Error(), "decoding response")
	}
	got, err := target.DecodeResponse([]byte(" {\"status\":200}\r\n\t "))
	require.NoError(t, err)
	assert.Equal(t, 200, got.Status)
}
