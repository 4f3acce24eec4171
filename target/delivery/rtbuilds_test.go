package delivery_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/target-go/sdk/target/delivery"
)

var rtBodies = []string{
	`{"context":{"channel":"web","geo":{"city":5}}}`,
	`{"context":{"channel":"web","geo":{"latitude":true}}}`,
	`{"context":{"channel":"web","geo":{"longitude":1e400}}}`,
	`{"context":{"channel":"web","geo":{"latitude":"1e400"}}}`,
	`{"context":{"channel":"web","geo":5}}`,
	`{"context":{"channel":"web","geo":"x"}}`,
	`{"context":{"channel":"web","geo":[1]}}`,
	`{"context":{"channel":"web","clientHints":5}}`,
	`{"context":{"channel":"web","clientHints":{"platform":5}}}`,
	`{"context":{"channel":"web","clientHints":{"mobile":"yes"}}}`,
	`{"context":{"channel":5}}`,
	`{"context":5}`,
	`{"context":{"channel":5,"geo":{"city":5}}}`,
	`{"context":{"channel":"web","geo":{"city":5}},"id":5}`,
	`{"id":5,"context":{"channel":"web","geo":{"city":5}}}`,
	`{"context":{"channel":"web","g\u0065o":{"city":5}}}`,
	`{"context":{"channel":"web","geo":{"c\u0069ty":5}}}`,
	`{"context":{"channel":"web","geo":{"city":5}}} x`,
	`{"context":{"channel":"web","geo":{"city":5}},}`,
	`{"context":{"channel":"web","geo":{"city":5,}}}`,
	`{"context":{"channel":"web","geo":{"city":"a","city":"b"}}}`,
	`{"context":{"channel":"web","clientHints":{"platform":"a","platform":"b"}}}`,
	`{"context":{"channel":"web","geo":{"city":"a"},"geo":{"city":"b"}}}`,
	`{"context":{"channel":"web","Geo":{"city":5}}}`,
	`{"context":{"channel":"web","geo":{"CITY":5}}}`,
	`{"context":{"channel":"web","geo":{"city":"\xff"}}}`,
	`{"context":{"channel":"web","geo":{"city":"\ud800"}}}`,
	`{"context":{"channel":"web","geo":{"zzz":5}}}`,
	`{"context":{"channel":"web","geo":{"latitude":"abc","longitude":[]}}}`,
	`{"context":{"channel":"web","geo":null,"clientHints":null}}`,
	`{"execute":{"mboxes":[{"name":"a","index":"x"}]},"context":{"channel":"web"}}`,
	`{"execute":{"mboxes":[{"name":"a","index":1}]},"context":{"channel":"web","geo":{"zip":1}}}`,
	`{"context":{"channel":"web","geo":{"city":5}}}` + strings.Repeat(" ", 3),
	`[]`,
	`null`,
	``,
	`{"context":{"channel":"web","geo":{"city":{}}}}`,
	`{"context":{"channel":"web","geo":{"latitude":1,"latitude":2}}}`,
	`{"context":{"channel":"web","geo":{"ipAddress":1.5}}}`,
	`{"context":{"channel":"web","clientHints":{"platform":"","platform":""}}}`,
	`{"context":{"channel":"web","clientHints":{"platformVersion":[1]}}}`,
	`{"notifications":[{"id":"n","type":"display","timestamp":"x"}],"context":{"channel":"web"}}`,
	`{"context":{"channel":"web","geo":{"latitude":-0,"longitude":1E2}}}`,
	`{"context":{"channel":"web","geo":{"latitude":99999999999999999999999999999999999}}}`,
	`{"context":{"channel":"web","beacon":"x"}}`,
	`{"context":{"channel":"web","geo":{"city":5}},"context":{"channel":"web"}}`,
}

func describe(err error) string {
	if err == nil {
		return "nil"
	}
	s := fmt.Sprintf("%T %q", err, err.Error())
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		s += fmt.Sprintf(" TE{Value:%q Struct:%q Field:%q Offset:%d Type:%v}", te.Value, te.Struct, te.Field, te.Offset, te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		s += fmt.Sprintf(" SE{Offset:%d}", se.Offset)
	}
	var de *delivery.DuplicateNameError
	if errors.As(err, &de) {
		s += " DUP"
	}
	return s
}

func TestRTBuildsDump(t *testing.T) {
	out := os.Getenv("RT_OUT")
	if out == "" {
		t.Skip("RT_OUT not set")
	}
	var b strings.Builder
	for _, body := range rtBodies {
		var r delivery.Request
		e1 := json.Unmarshal([]byte(body), &r)
		j1, _ := json.Marshal(r)
		var r2 delivery.Request
		e2 := delivery.UnmarshalRequestStrict([]byte(body), &r2)
		j2, _ := json.Marshal(r2)
		fmt.Fprintf(&b, "%s\n  lax:    %s\n          %s\n  strict: %s\n          %s\n", body, describe(e1), j1, describe(e2), j2)
	}
	os.WriteFile(out, []byte(b.String()), 0o644)
}

// Red team: allocations of decoding a request with geo and client hints.
func BenchmarkRTDecodeGeoRequest(b *testing.B) {
	body := []byte(`{"id":{"tntId":"t1"},"context":{"channel":"web","address":{"url":"https://a.example/x"},"geo":{"city":"SF","countryCode":"US","latitude":37.7,"longitude":"-122.4"},"clientHints":{"platform":"Linux","mobile":false}},"execute":{"mboxes":[{"name":"a","index":1,"parameters":{"p":"1"}},{"name":"b","index":2}]}}`)
	b.ReportAllocs()
	for b.Loop() {
		var r delivery.Request
		if err := json.Unmarshal(body, &r); err != nil {
			b.Fatal(err)
		}
	}
}
